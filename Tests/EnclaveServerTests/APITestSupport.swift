import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import NIOCore
import Testing

/// A thin JSON client over HummingbirdTesting's router client, with the caller's token.
struct APIClient {
    let client: any TestClientProtocol
    let enclave: TestEnclave

    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer

        var text: String { String(buffer: body) }
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .null }
        var location: String? { headers[.location] }
    }

    func call(
        _ method: HTTPRequest.Method, _ uri: String, as user: User?, json: JSONValue? = nil, raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let user { headers[.authorization] = try await enclave.bearer(user) }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json.description)
        } else if let raw {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: raw)
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
    }

    /// Polls an operation until it leaves the in-flight statuses (a 404 counts as deleted, as Azure TRE's e2e does).
    func wait(_ location: String?, as user: User = TestUsers.admin, timeout: Double = 30) async throws -> JSONValue {
        let location = try #require(location)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let reply = try await call(.get, location, as: user)
            if reply.status == .notFound { return ["status": "deleted"] }
            let op = reply.json["operation"] ?? .null
            if let status = op["status"]?.stringValue.flatMap(OperationStatus.init(rawValue:)), status.isTerminal {
                return op
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("operation \(location) did not finish within \(timeout) s")
        return .null
    }

    /// Creates a resource and waits for its install; returns its id.
    func createAndWait(_ path: String, template: String, properties: JSONValue = [:], as user: User = TestUsers.admin)
        async throws -> String
    {
        var props = properties.objectValue ?? [:]
        if props["display_name"] == nil { props["display_name"] = .string("Test \(template)") }
        if props["description"] == nil { props["description"] = "Created by a test" }
        let reply = try await call(.post, path, as: user, json: ["templateName": .string(template), "properties": .object(props)])
        #expect(reply.status == .accepted, "\(reply.text)")
        let op = try await wait(reply.location, as: user)
        #expect(op["status"] == "deployed", "\(op)")
        return try #require(op["resourceId"]?.stringValue)
    }
}

/// Runs `body` against a fresh control plane whose workers are running.
func withAPI(
    workers: Int = 2, _ body: @escaping @Sendable (APIClient) async throws -> Void
) async throws {
    let enclave = try await TestEnclave.make(workers: workers, templatesDir: try TestPaths.combinedTemplates())
    defer { enclave.remove() }
    let app = try buildApplication(enclave.deps)
    // The router test framework runs the application's services, so the engine's workers run too.
    try await app.test(.router) { client in
        try await body(APIClient(client: client, enclave: enclave))
    }
}

extension HTTPField.Name {
    static let etag = HTTPField.Name("etag")!
}
