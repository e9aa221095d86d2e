import EnclaveCore
import EnclaveGateway
import Testing

@Suite("Gateway paths")
struct GatewayPathTests {
    @Test func aServicePathSplitsIntoIdsAndTheEncodedRemainder() throws {
        let path = try GatewayPath.parse("/workspaces/ws1/services/svc1/lab/tree/a%20b.ipynb?x=1")
        #expect(path.workspaceId == "ws1")
        #expect(path.serviceId == "svc1")
        #expect(path.userResourceId == nil)
        #expect(path.remainder == "/lab/tree/a%20b.ipynb")
        #expect(path.query == "x=1")
        #expect(path.prefix == "/workspaces/ws1/services/svc1")
    }

    @Test func aUserResourcePathNamesTheUserResource() throws {
        let path = try GatewayPath.parse("/workspaces/ws1/services/svc1/user-resources/ur1/vnc.html")
        #expect(path.userResourceId == "ur1")
        #expect(path.remainder == "/vnc.html")
        #expect(path.resourcePath == "/workspaces/ws1/workspace-services/svc1/user-resources/ur1")
    }

    @Test func theResourceWithoutATrailingSlashHasAnEmptyRemainder() throws {
        #expect(try GatewayPath.parse("/workspaces/ws1/services/svc1").remainder == "")
        #expect(try GatewayPath.parse("/workspaces/ws1/services/svc1/").remainder == "/")
    }

    @Test(
        "dot segments, encoded slashes and backslashes, NUL and bad escapes are refused with 400",
        arguments: [
            "/workspaces/ws1/services/svc1/../svc2/", "/workspaces/ws1/services/svc1/%2e%2e/svc2/",
            "/workspaces/ws1/services/svc1/a/%2E%2E/%2E%2E/svc2", "/workspaces/ws1/services/svc1/..%2Fsvc2/",
            "/workspaces/ws1/services/svc1/a%2fb", "/workspaces/ws1/services/svc1/a%5cb", "/workspaces/ws1/services/svc1/a\\b",
            "/workspaces/ws1/services/svc1/a%00b", "/workspaces/ws1/services/svc1/./x", "/workspaces/ws1/services/svc1/%zz",
            "/workspaces/ws1/services/..%2Fws2%2Fservices%2Fsvc2/", "/workspaces/ws1/services/svc1/user-resources/%2e%2e/x",
        ])
    func escapesAreRefused(target: String) {
        let error = #expect(throws: EnclaveError.self) { try GatewayPath.parse(target) }
        #expect(error?.kind == .badRequest, "\(target)")
    }

    @Test func anOverlongTargetIs414() {
        let target = "/workspaces/ws1/services/svc1/" + String(repeating: "a", count: GatewayPath.maxTargetLength)
        let error = #expect(throws: EnclaveError.self) { try GatewayPath.parse(target) }
        #expect(error?.statusCode == 414)
    }

    @Test func theUpstreamURLKeepsTheBasePathAndAddsAQueryCredential() throws {
        let target = try #require(
            try GatewayTarget(secrets: [
                "gateway_upstream": "http://10.200.0.2:6080/vnc/", "gateway_credential": ["query": "password", "value": "p&w"],
            ]))
        let path = try GatewayPath.parse("/workspaces/w/services/s/user-resources/u/vnc.html?autoconnect=1")
        #expect(target.url(for: path) == "http://10.200.0.2:6080/vnc/vnc.html?autoconnect=1&password=p%26w")
        #expect(target.url(for: path, webSocket: true).hasPrefix("ws://10.200.0.2:6080/vnc/"))
    }

    @Test func anUpstreamThatIsNotHTTPIsATemplateError() {
        #expect(throws: EnclaveError.self) { try GatewayTarget(secrets: ["gateway_upstream": "file:///etc/passwd"]) }
        #expect((try? GatewayTarget(secrets: [:])) == .some(nil))
    }
}
