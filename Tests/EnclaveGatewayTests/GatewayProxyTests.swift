// The gateway end to end: a real upstream on loopback (static bytes, header/path echo, a large streamed
// body, a WebSocket echo), the real Enclave application on a free port, resources registered in its store.
import AsyncHTTPClient
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Testing

/// A tool's web server, as a deployer would start it inside a workspace.
enum Upstream {
    static let staticBody = ByteBuffer(repeating: UInt8(ascii: "x"), count: 4096)
    static let largeSize = 8 * 1024 * 1024

    static func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("static") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: staticBody)) }
        router.get("large") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "L"), count: 64 * 1024)
                    for _ in 0..<(largeSize / chunk.readableBytes) { try await writer.write(chunk) }
                    try await writer.finish(nil)
                })
        }
        router.post("count") { request, _ -> String in
            var total = 0
            for try await buffer in request.body { total += buffer.readableBytes }
            return "\(total)"
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("echo/**", method: method) { request, _ -> String in
                var lines = ["\(request.method.rawValue) \(request.uri.string)"]
                for field in request.headers { lines.append("\(field.name.canonicalName): \(field.value)") }
                return lines.joined(separator: "\n")
            }
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade { head, _, _ in
                guard head.path?.hasPrefix("/ws") == true else { return .dontUpgrade }
                let auth = head.headerFields[.authorization] ?? "-"
                return .upgrade([:]) { inbound, outbound, _ in
                    try await outbound.write(.text("auth=\(auth)"))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { try await outbound.write(.text("echo:\(text)")) }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            logger: Logger(label: "upstream"))
    }
}

/// Workspaces A and B, each with a service on the upstream; a personal desktop in A owned by the researcher.
struct GatewayFixture {
    static let wsA = "aaaaaaaa-0000-4000-8000-000000000001", wsB = "bbbbbbbb-0000-4000-8000-000000000002"
    static let svcA = "aaaaaaaa-0000-4000-8000-00000000000a", svcB = "bbbbbbbb-0000-4000-8000-00000000000b"
    static let desktop = "aaaaaaaa-0000-4000-8000-0000000000d1"

    static func register(in enclave: TestEnclave, upstreamPort: Int) async throws {
        let now = Date().timeIntervalSince1970
        func resource(_ id: String, _ type: ResourceType, ws: String? = nil, svc: String? = nil, owner: String? = nil) -> Resource {
            let template = type == .workspace ? "tre-workspace-base" : type == .workspaceService ? "tre-service-jupyterlab" : "test"
            return Resource(
                id: id, resourceType: type, templateName: template, templateVersion: type == .workspaceService ? "0.1.0" : "1.0.0", properties: ["display_name": "x"],
                deploymentStatus: "deployed", etag: id, resourcePath: Resource.path(type: type, id: id, workspaceId: ws, serviceId: svc),
                user: TestUsers.admin, updatedWhen: now, workspaceId: ws, parentWorkspaceServiceId: svc, ownerId: owner,
                azureStatus: type == .userResource ? ["powerState": "running"] : [:])
        }
        var changes = ChangeSet()
        changes.insertResources = [
            resource(wsA, .workspace), resource(wsB, .workspace),
            resource(svcA, .workspaceService, ws: wsA), resource(svcB, .workspaceService, ws: wsB),
            resource(desktop, .userResource, ws: wsA, svc: svcA, owner: TestUsers.researcher.id),
        ]
        let secrets = enclave.deps.controlPlane.secrets
        let upstream: JSONValue = .string("http://127.0.0.1:\(upstreamPort)")
        let credential: JSONValue = ["header": "Authorization", "value": "token tool-secret"]
        for id in [svcA, svcB, desktop] {
            changes.putSecrets[id] = try secrets.seal(["gateway_upstream": upstream, "gateway_credential": credential])
        }
        changes.assignRoles = [
            RoleAssignment(workspaceId: wsA, userId: TestUsers.owner.id, role: .owner),
            RoleAssignment(workspaceId: wsA, userId: TestUsers.researcher.id, role: .researcher),
            RoleAssignment(workspaceId: wsA, userId: TestUsers.researcher2.id, role: .researcher),
            RoleAssignment(workspaceId: wsA, userId: TestUsers.manager.id, role: .airlockManager),
            RoleAssignment(workspaceId: wsB, userId: TestUsers.treUser.id, role: .owner),
        ]
        try await enclave.deps.store.commit(changes)
    }
}

/// Runs `body` with the upstream and the Enclave application both listening on loopback.
func withGateway(_ body: @escaping @Sendable (TestEnclave, any TestClientProtocol, Int) async throws -> Void) async throws {
    let enclave = try await TestEnclave.make(workers: 0)
    defer { enclave.remove() }
    try await Upstream.application().test(.live) { upstream in
        let upstreamPort = try #require(upstream.port)
        try await GatewayFixture.register(in: enclave, upstreamPort: upstreamPort)
        try await buildApplication(enclave.deps).test(.live) { client in
            try await body(enclave, client, try #require(client.port))
        }
    }
}

@Suite("Gateway proxy", .serialized)
struct GatewayProxyTests {
    typealias F = GatewayFixture
    static let svcA = "/workspaces/\(F.wsA)/services/\(F.svcA)"
    static let svcB = "/workspaces/\(F.wsB)/services/\(F.svcB)"
    static let desktopPath = "/workspaces/\(F.wsA)/services/\(F.svcA)/user-resources/\(F.desktop)"

    func get(_ client: any TestClientProtocol, _ enclave: TestEnclave, _ uri: String, as user: User?, headers: HTTPFields = [:])
        async throws -> (HTTPResponse.Status, String, HTTPFields)
    {
        var headers = headers
        if let user { headers[.authorization] = try await enclave.bearer(user) }
        return try await client.execute(uri: uri, method: .get, headers: headers) { ($0.status, String(buffer: $0.body), $0.headers) }
    }

    @Test func aResearcherReachesTheServiceWithTheToolCredentialInjectedAndEnclavesOwnStripped() async throws {
        try await withGateway { enclave, client, _ in
            let (status, body, _) = try await get(
                client, enclave, "\(Self.svcA)/echo/a%20b?q=1", as: TestUsers.researcher,
                headers: [.cookie: "enclave_session=abc; other=1", HTTPField.Name("X-Forwarded-For")!: "6.6.6.6"])
            #expect(status == .ok, "\(body)")
            #expect(body.hasPrefix("GET /echo/a%20b?q=1"), "\(body)")
            #expect(body.contains("authorization: token tool-secret"))
            #expect(!body.contains("Bearer"), "Enclave's token reached the tool")
            #expect(!body.contains("enclave_session"), "Enclave's session cookie reached the tool")
            #expect(body.contains("cookie: other=1"))
            #expect(body.contains("x-forwarded-prefix: \(Self.svcA)/"))
            #expect(!body.contains("6.6.6.6"), "a client-supplied X-Forwarded-For was passed on")
        }
    }

    @Test func staticLargeAndUploadedBodiesStreamThrough() async throws {
        try await withGateway { enclave, client, _ in
            let (status, body, _) = try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.owner)
            #expect(status == .ok)
            #expect(body.utf8.count == 4096)
            let large = try await get(client, enclave, "\(Self.svcA)/large", as: TestUsers.owner)
            #expect(large.1.utf8.count == Upstream.largeSize)
            let upload = ByteBuffer(repeating: 1, count: 3 * 1024 * 1024)
            let counted = try await client.execute(
                uri: "\(Self.svcA)/count", method: .post, headers: [.authorization: try await enclave.bearer(TestUsers.owner)], body: upload
            ) { String(buffer: $0.body) }
            #expect(counted == "\(upload.readableBytes)", "the upload passed the 1 MiB API limit untouched")
        }
    }

    @Test func aUserOfWorkspaceAOpeningAServiceOfWorkspaceBIsRefusedAndAudited() async throws {
        try await withGateway { enclave, client, _ in
            let (status, _, _) = try await get(client, enclave, "\(Self.svcB)/static", as: TestUsers.researcher)
            #expect(status == .forbidden)
            let denials = try await enclave.deps.store.auditRecords(.init(), after: nil, limit: 100).filter { $0.action == .authDenied }
            #expect(denials.contains { $0.target.hasPrefix(Self.svcB) })
        }
    }

    @Test func aResearcherOpeningAnotherUsersDesktopIsRefused() async throws {
        try await withGateway { enclave, client, _ in
            let status1 = try await get(client, enclave, "\(Self.desktopPath)/static", as: TestUsers.researcher2).0
            #expect(status1 == .forbidden)
            let status2 = try await get(client, enclave, "\(Self.desktopPath)/static", as: TestUsers.researcher).0
            #expect(status2 == .ok)
            let status3 = try await get(client, enclave, "\(Self.desktopPath)/static", as: TestUsers.owner).0
            #expect(status3 == .ok)
            let status4 = try await get(client, enclave, "\(Self.desktopPath)/static", as: TestUsers.admin).0
            #expect(status4 == .forbidden)
        }
    }

    @Test func callersWithoutCredentialsOrRoleAreRefused() async throws {
        try await withGateway { enclave, client, _ in
            let status5 = try await get(client, enclave, "\(Self.svcA)/static", as: nil).0
            #expect(status5 == .unauthorized)
            let status6 = try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.noRole).0
            #expect(status6 == .forbidden)
            let status7 = try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.manager).0
            #expect(status7 == .forbidden)
        }
    }

    @Test func aBrowserWithoutASessionIsSentToSignInAndAnAPIClientGets401() async throws {
        try await withGateway { enclave, client, _ in
            let html: HTTPFields = [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]
            let (status, _, headers) = try await get(client, enclave, "\(Self.svcA)/lab/tree?file=a%20b&x=1", as: nil, headers: html)
            #expect(status == .seeOther)
            let location = try #require(headers[.location])
            #expect(location.hasPrefix("/auth/login?return_to="), "\(location)")
            let returnTo = URLComponents(string: location)?.queryItems?.first { $0.name == "return_to" }?.value
            #expect(returnTo == "\(Self.svcA)/lab/tree?file=a%20b&x=1")
            let api = try await get(client, enclave, "\(Self.svcA)/static", as: nil, headers: [.accept: "application/json"]).0
            #expect(api == .unauthorized)
            let bare = try await get(client, enclave, "\(Self.svcA)/static", as: nil).0
            #expect(bare == .unauthorized)
            let badToken = try await get(client, enclave, "\(Self.svcA)/static", as: nil, headers: [.accept: "text/html", .authorization: "Bearer x"]).0
            #expect(badToken == .unauthorized)
            let signedIn = try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.researcher, headers: html).0
            #expect(signedIn == .ok)
        }
    }

    @Test func aRemovedRoleStopsOpeningTheServiceWithinTheDecisionCacheTTL() async throws {
        try await withGateway { enclave, client, _ in
            #expect(try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.researcher2).0 == .ok)
            var changes = ChangeSet()
            changes.unassignRoles = [RoleAssignment(workspaceId: F.wsA, userId: TestUsers.researcher2.id, role: .researcher)]
            try await enclave.deps.store.commit(changes)
            // Decisions are cached for a short time (a page load fetches many assets); after it, the role is gone.
            try await Task.sleep(for: .seconds(2.2))
            #expect(try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.researcher2).0 == .forbidden)
            // Another user's cached decision is not shared: the owner is still let in.
            #expect(try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.owner).0 == .ok)
        }
    }

    @Test func encodedSlashesAndDotSegmentsDoNotEscapeTheService() async throws {
        try await withGateway { enclave, client, _ in
            for escape in ["/..%2F..%2F\(F.wsB)/services/\(F.svcB)/static", "/%2e%2e/\(F.svcB)/static", "/a%5C..%5Cstatic"] {
                let (status, _, _) = try await get(client, enclave, Self.svcA + escape, as: TestUsers.researcher)
                #expect(status == .badRequest, "\(escape)")
            }
        }
    }

    @Test func theResourceWithoutATrailingSlashRedirectsAndOversizedRequestsAreBounded() async throws {
        try await withGateway { enclave, client, _ in
            let (status, _, headers) = try await get(client, enclave, Self.svcA, as: TestUsers.researcher)
            #expect(status == .permanentRedirect)
            #expect(headers[.location] == "\(Self.svcA)/")
            var many = HTTPFields()
            for i in 0..<150 { many.append(HTTPField(name: HTTPField.Name("X-Filler-\(i)")!, value: "1")) }
            let status8 = try await get(client, enclave, "\(Self.svcA)/static", as: TestUsers.researcher, headers: many).0.code
            #expect(status8 == 431)
        }
    }

    @Test func aWebSocketIsRelayedForAResearcherAndAudited() async throws {
        try await withGateway { enclave, _, port in
            let bearer = try await enclave.bearer(TestUsers.researcher)
            let received = NIOLockedValueBox<[String]>([])
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)\(Self.svcA)/ws", configuration: .init(additionalHeaders: [.authorization: bearer]),
                logger: Logger(label: "ws-test")
            ) { inbound, outbound, _ in
                try await outbound.write(.text("hello"))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { received.withLockedValue { $0.append(text) } }
                    if received.withLockedValue({ $0.count }) == 2 { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(received.withLockedValue { $0 } == ["auth=token tool-secret", "echo:hello"])
            var actions: [AuditAction] = []
            for _ in 0..<100 {
                actions = try await enclave.deps.store.auditRecords(.init(), after: nil, limit: 100).map(\.action)
                if actions.contains(.gatewayDisconnect) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(actions.contains(.gatewayConnect))
            #expect(actions.contains(.gatewayDisconnect))
        }
    }

    /// An upgrade request as a browser or WebSocket client sends it (on a new connection: a refusal closes it),
    /// answered over plain HTTP when refused.
    func upgrade(_ port: Int, _ enclave: TestEnclave, _ path: String, as user: User?, headers extra: [(String, String)] = [])
        async throws -> (HTTPResponse.Status, String)
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)/ws")
        request.headers.add(contentsOf: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ] + extra)
        if let user { request.headers.add(name: "Authorization", value: try await enclave.bearer(user)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (HTTPResponse.Status(code: Int(response.status.code)), String(buffer: body))
    }

    @Test func aWebSocketToAServiceWithoutARoleIsRefusedWith403AndAudited() async throws {
        try await withGateway { enclave, _, port in
            let cases: [(User, String, [(String, String)])] = [
                (TestUsers.noRole, Self.svcA, []), (TestUsers.researcher, Self.svcB, []),
                (TestUsers.researcher2, Self.desktopPath, []),
                (TestUsers.researcher, Self.svcA, [("Origin", "https://evil.example")]),
            ]
            for (user, path, extra) in cases {
                let (status, body) = try await upgrade(port, enclave, path, as: user, headers: extra)
                #expect(status == .forbidden, "\(user.id) \(path) \(extra): \(body)")
            }
            let denials = try await enclave.deps.store.auditRecords(.init(), after: nil, limit: 100).filter { $0.action == .authDenied }
            for (user, path, _) in cases {
                #expect(denials.contains { $0.actor.id == user.id && $0.target == "\(path)/ws" }, "no auth.denied for \(user.id) \(path)")
            }
        }
    }

    @Test func aWebSocketWithoutCredentialsIsRefusedWith401() async throws {
        try await withGateway { enclave, _, port in
            let (status, body) = try await upgrade(port, enclave, Self.svcA, as: nil)
            #expect(status == .unauthorized, "\(body)")
            let (badToken, _) = try await upgrade(port, enclave, Self.svcA, as: nil, headers: [("Authorization", "Bearer nonsense")])
            #expect(badToken == .unauthorized)
            let (unknown, _) = try await upgrade(
                port, enclave, "/workspaces/\(F.wsA)/services/aaaaaaaa-0000-4000-8000-0000000000ff", as: TestUsers.researcher)
            #expect(unknown == .notFound)
        }
    }

    @Test func aWebSocketClientIsRefusedByTheHandshake() async throws {
        try await withGateway { enclave, _, port in
            var headers = HTTPFields()
            headers[.authorization] = try await enclave.bearer(TestUsers.noRole)
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)\(Self.svcA)/ws", configuration: .init(additionalHeaders: headers),
                    logger: Logger(label: "ws-test")
                ) { _, _, _ in }
            }
        }
    }

    @Test func theResourceNeverShowsTheUpstreamAndCallersCannotSetIt() async throws {
        try await withGateway { enclave, client, _ in
            let (status, body, _) = try await get(
                client, enclave, "/api/workspaces/\(F.wsA)/workspace-services/\(F.svcA)", as: TestUsers.owner)
            #expect(status == .ok, "\(body)")
            #expect(!body.contains("gateway_upstream") && !body.contains("tool-secret") && !body.contains("127.0.0.1:"))
            let reply = try await client.execute(
                uri: "/api/workspaces", method: .post,
                headers: [.authorization: try await enclave.bearer(TestUsers.admin), .contentType: "application/json"],
                body: ByteBuffer(string: #"{"templateName":"tre-workspace-base","properties":{"display_name":"x","description":"y","gateway_upstream":"http://169.254.169.254"}}"#)
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(reply.0 == .badRequest, "\(reply.1)")
        }
    }
}
