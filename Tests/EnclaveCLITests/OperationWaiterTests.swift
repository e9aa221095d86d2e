import EnclaveAPI
import EnclaveCLI
import EnclaveCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The waiter's edge cases, against a stub server whose answers the test chooses.
@Suite("Operation waiter")
struct OperationWaiterTests {
    static func operation(action: String, status: OperationStatus) -> ResourceOperation {
        ResourceOperation(
            id: "op", resourceId: "w", resourcePath: "/workspaces/w", resourceVersion: 0, status: status,
            action: action, message: "", createdWhen: 0, updatedWhen: 0,
            user: User(id: "u", name: "U", email: "u@x", roles: []), steps: [])
    }

    /// Serves `GET /api/workspaces/w/operations/op`: 404 for `gone`, else the operation still deploying.
    func withStub(_ body: @Sendable (EnclaveClient) async throws -> Void) async throws {
        let router = Router()
        router.get("/api/workspaces/w/operations/gone") { _, _ -> Response in Response(status: .notFound) }
        router.get("/api/workspaces/w/operations/op") { _, _ -> String in
            Printer.prettyJSON(["operation": Self.operation(action: "install", status: .deploying)])
        }
        try await Application(router: router).test(.live) { client in
            let port = try #require(client.port)
            try await body(EnclaveClient(baseURL: "http://127.0.0.1:\(port)", token: nil))
        }
    }

    @Test("A 404 on a delete's operation counts as deleted")
    func notFoundAfterDeleteCountsAsDeleted() async throws {
        try await withStub { client in
            var progress = ProgressLine(isTerminal: false) { _ in }
            let final = try await OperationWaiter(client: client, pollInterval: .milliseconds(10)).wait(
                for: Self.operation(action: "uninstall", status: .awaitingDeletion), at: "/api/workspaces/w/operations/gone",
                progress: &progress)
            #expect(final.status == .deleted)
        }
    }

    @Test("A 404 on any other operation is an API error")
    func notFoundOtherwiseIsAnError() async throws {
        try await withStub { client in
            var progress = ProgressLine(isTerminal: false) { _ in }
            await #expect(throws: EnclaveClientError.self) {
                try await OperationWaiter(client: client, pollInterval: .milliseconds(10)).wait(
                    for: Self.operation(action: "install", status: .awaitingDeployment),
                    at: "/api/workspaces/w/operations/gone", progress: &progress)
            }
        }
    }

    @Test("Waiting gives up after the timeout and says how to follow the operation")
    func timeoutGivesUp() async throws {
        try await withStub { client in
            var progress = ProgressLine(isTerminal: false) { _ in }
            let error = await #expect(throws: CLIError.self) {
                try await OperationWaiter(client: client, pollInterval: .milliseconds(20), timeout: .milliseconds(100)).wait(
                    for: Self.operation(action: "install", status: .awaitingDeployment),
                    at: "/api/workspaces/w/operations/op", progress: &progress)
            }
            #expect(error?.message.contains("enclave operations show /api/workspaces/w/operations/op") == true)
        }
    }
}
