import AsyncHTTPClient
import EnclaveAPI
import Foundation

/// The few API calls the benchmarks make, on top of the CLI's `EnclaveClient`.
enum BenchAPI {
    /// `{"operation": {"status": ...}}`: all a benchmark needs from an operation.
    struct OperationEnvelope: Decodable {
        struct Operation: Decodable {
            var status: String
            var message: String?
        }

        var operation: Operation
    }

    /// Statuses after which an install operation does not change any more.
    static let terminalStatuses: Set<String> = ["deployed", "deployment_failed"]

    /// The POST body creating a workspace from `template` (its schema requires no other properties).
    static func workspaceBody(template: String, index: Int) -> Data {
        let body: [String: Any] = [
            "templateName": template,
            "properties": ["display_name": "bench \(index)", "description": "enclave-bench workspace \(index)"],
        ]
        return (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
    }

    /// Polls `/api/health` until it answers 200, so set-up does not race the server's start.
    static func waitUntilHealthy(_ client: EnclaveClient, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = try? await client.send(.get, "/api/health"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("\(client.baseURL)/api/health did not answer 200 within \(timeout)")
    }

    /// Creates a workspace and waits until its install operation is deployed; returns its id.
    static func createWorkspace(_ client: EnclaveClient, template: String, timeout: Duration) async throws -> String {
        let created = try await client.post("/api/workspaces", body: workspaceBody(template: template, index: 0))
        guard let location = created.location else { throw BenchError("POST /api/workspaces gave no Location") }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let status = try await operationStatus(client, location: location)
            if status.status == "deployed" { return try workspaceId(fromLocation: location) }
            if terminalStatuses.contains(status.status) {
                throw BenchError("Workspace install ended \(status.status): \(status.message ?? "")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("Workspace install did not finish within \(timeout)")
    }

    static func operationStatus(
        _ client: EnclaveClient, location: String
    ) async throws -> OperationEnvelope.Operation {
        let response = try await client.get(location)
        return try client.decode(OperationEnvelope.self, from: response).operation
    }

    /// `/api/workspaces/{id}/operations/{opId}` → `{id}`.
    static func workspaceId(fromLocation location: String) throws -> String {
        let parts = location.split(separator: "/")
        guard let index = parts.firstIndex(of: "workspaces"), index + 1 < parts.count else {
            throw BenchError("Unexpected Location '\(location)'")
        }
        return String(parts[index + 1])
    }

    /// A client whose pool allows `connections` requests in flight to one host (the shared client allows 8).
    static func httpClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// A benchmark that could not run or whose result is invalid; the message says which.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
