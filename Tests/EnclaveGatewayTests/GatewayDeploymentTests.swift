// The engine path of the gateway: a template's install reports `gateway_upstream` and `gateway_credential`; the
// engine seals them with the resource's secrets and sets `connection_uri`; the gateway then proxies there.
import AsyncHTTPClient
import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Gateway deployment", .serialized)
struct GatewayDeploymentTests {
    struct Reply {
        let status: HTTPResponse.Status
        let text: String
        let location: String?
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null }
    }

    func call(_ client: any TestClientProtocol, _ enclave: TestEnclave, _ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil)
        async throws -> Reply
    {
        var headers: HTTPFields = [.authorization: try await enclave.bearer(TestUsers.admin)]
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0.description) }) {
            Reply(status: $0.status, text: String(buffer: $0.body), location: $0.headers[.location])
        }
    }

    /// Creates a resource and waits until its install has finished; returns its id.
    func create(_ client: any TestClientProtocol, _ enclave: TestEnclave, _ path: String, template: String, properties: [String: JSONValue])
        async throws -> String
    {
        var props = properties
        props["display_name"] = .string("Test \(template)")
        props["description"] = "Created by a test"
        let reply = try await call(client, enclave, .post, path, json: ["templateName": .string(template), "properties": .object(props)])
        #expect(reply.status == .accepted, "\(reply.text)")
        let location = try #require(reply.location)
        for _ in 0..<600 {
            let op = try await call(client, enclave, .get, location).json["operation"] ?? .null
            if let status = op["status"]?.stringValue.flatMap(OperationStatus.init(rawValue:)), status.isTerminal {
                #expect(op["status"] == "deployed", "\(op)")
                return try #require(op["resourceId"]?.stringValue)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the install of \(template) did not finish")
        return ""
    }

    @Test func aDeployersGatewayOutputsAreSealedAndShownOnlyAsTheConnectionURIAndTheGatewayProxiesThere() async throws {
        let enclave = try await TestEnclave.make(workers: 2, templatesDir: try TestPaths.combinedTemplates())
        defer { enclave.remove() }
        try await Upstream.application().test(.live) { upstream in
            let upstreamURL = "http://127.0.0.1:\(try #require(upstream.port))"
            try await buildApplication(enclave.deps).test(.live) { client in
                let ws = try await create(client, enclave, "/api/workspaces", template: "tre-workspace-base", properties: [:])
                let svc = try await create(
                    client, enclave, "/api/workspaces/\(ws)/workspace-services", template: "tre-test-gateway-service",
                    properties: ["upstream": .string(upstreamURL)])
                let shown = try await call(client, enclave, .get, "/api/workspaces/\(ws)/workspace-services/\(svc)")
                #expect(shown.status == .ok, "\(shown.text)")
                let properties = shown.json["workspaceService"]?["properties"] ?? .null
                let gatewayPath = "/workspaces/\(ws)/services/\(svc)/"
                #expect(properties["connection_uri"]?.stringValue?.hasSuffix(gatewayPath) == true, "\(properties)")
                #expect(properties["tool"] == "test", "other outputs are merged as usual")
                #expect(properties["gateway_upstream"] == nil && properties["gateway_credential"] == nil)
                #expect(!shown.text.contains("engine-secret"), "the credential is shown")
                let history = try await call(client, enclave, .get, "/api/workspaces/\(ws)/workspace-services/\(svc)/history")
                #expect(!history.text.contains("engine-secret") && !history.text.contains("gateway_upstream"))

                // The workspace's creator is its owner, so may open the service.
                let proxied = try await call(client, enclave, .get, "\(gatewayPath)echo/x")
                #expect(proxied.status == .ok, "\(proxied.text)")
                #expect(proxied.text.hasPrefix("GET /echo/x"))
                #expect(proxied.text.contains("authorization: token engine-secret"))
            }
        }
    }
}
