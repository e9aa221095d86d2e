public import EnclaveAPI
public import EnclaveCore

/// Polls an operation's `Location` until it reaches a terminal status, as Azure TRE's CLI and e2e
/// helpers do.
///
/// A 404 on the operation of an `uninstall` counts as `deleted` (the resource, and with it the
/// operation route, may be gone once the deletion completes). Other non-2xx answers and transport
/// failures are thrown; so is the timeout, with the operation left running on the server.
public struct OperationWaiter: Sendable {
    public var client: EnclaveClient
    public var pollInterval: Duration
    /// nil waits for ever.
    public var timeout: Duration?

    public init(client: EnclaveClient, pollInterval: Duration = .seconds(1), timeout: Duration? = nil) {
        self.client = client
        self.pollInterval = pollInterval
        self.timeout = timeout
    }

    /// Waits for `operation` (as accepted, polled at `location`), reporting each state to `progress`.
    public func wait(
        for operation: ResourceOperation, at location: String, progress: inout ProgressLine
    ) async throws -> ResourceOperation {
        let clock = ContinuousClock()
        let start = clock.now
        var current = operation
        func elapsed() -> Int { Int((clock.now - start).components.seconds) }
        defer { progress.finish() }
        progress.update(current, elapsedSeconds: 0)
        while !current.status.isTerminal {
            if let timeout, clock.now - start >= timeout {
                progress.finish()
                throw CLIError(
                    "Gave up waiting after \(elapsed())s; operation \(current.id) is still \(current.status.rawValue) "
                        + "(follow it with `enclave operations show \(location)`)")
            }
            try await Task.sleep(for: pollInterval)
            let response = try await client.send(.get, location)
            if response.status == 404 && ResourceAction(current.action) == .uninstall {
                current.status = .deleted
                current.message = "The resource has been deleted (its operation is no longer found)"
            } else {
                try response.requireSuccess()
                current = try client.decode(ResourceOperation.self, key: "operation", from: response)
            }
            progress.update(current, elapsedSeconds: elapsed())
        }
        return current
    }
}
