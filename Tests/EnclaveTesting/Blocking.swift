import Dispatch

/// Runs blocking work — waiting for a child process, reading a pipe to its end — on a Dispatch thread.
///
/// Swift's cooperative thread pool has one thread per core (two on our CI machines). A test that
/// blocks one of them for a second stalls every other test running in parallel; the symptom was an
/// unrelated step that could not even start within 10 s.
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
