// What the root workload suites share: API calls as a user, waiting for operations, polling the gateway.
import EnclaveCore
import EnclaveLocal
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

protocol WorkloadE2E {
    var command: HostCommand { get }
}

extension WorkloadE2E {
    typealias Reply = (status: HTTPResponse.Status, json: JSONValue, text: String, location: String?)

    func call(
        _ client: any TestClientProtocol, _ enclave: TestEnclave, _ method: HTTPRequest.Method, _ uri: String, as user: User,
        json: JSONValue? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        headers[.authorization] = try await enclave.bearer(user)
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json.description)
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
            return (response.status, json, text, response.headers[.location])
        }
    }

    func wait(
        _ client: any TestClientProtocol, _ enclave: TestEnclave, _ location: String?, as user: User, timeout: Double
    ) async throws -> JSONValue {
        let location = try #require(location)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let reply = try await call(client, enclave, .get, location, as: user)
            if reply.status == .notFound { return ["status": "deleted"] }
            let op = reply.json["operation"] ?? .null
            if let status = op["status"]?.stringValue.flatMap(OperationStatus.init(rawValue:)), status.isTerminal { return op }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("operation \(location) did not finish within \(timeout) s")
        return .null
    }

    /// GETs `uri` until it answers `status` (the gateway caches its decisions for 2 s; a restart takes a
    /// backoff second) or `timeout` passes; returns the last reply.
    func poll(
        _ client: any TestClientProtocol, _ enclave: TestEnclave, _ uri: String, as user: User, until status: HTTPResponse.Status,
        timeout: Double = 15
    ) async throws -> Reply {
        let deadline = Date().addingTimeInterval(timeout)
        var reply = try await call(client, enclave, .get, uri, as: user)
        while reply.status != status, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            reply = try await call(client, enclave, .get, uri, as: user)
        }
        return reply
    }

    /// A restricted workspace (`tre-workspace-base`, real isolation) owned by `owner`, deployed; returns its id.
    func createRestrictedWorkspace(
        _ client: any TestClientProtocol, _ enclave: TestEnclave, owner: User, description: String
    ) async throws -> String {
        let created = try await call(
            client, enclave, .post, "/api/workspaces", as: TestUsers.admin,
            json: [
                "templateName": "tre-workspace-base",
                "properties": ["display_name": "E2E", "description": .string(description), "workspace_owner_object_id": .string(owner.id)],
            ])
        let op = try await wait(client, enclave, created.location, as: TestUsers.admin, timeout: 60)
        #expect(op["status"] == "deployed", "\(op)")
        return try #require(op["resourceId"]?.stringValue)
    }
}
