import Dispatch
import Foundation

/// Runs blocking work — waiting for a child process, reading a pipe to its end — on a Dispatch thread.
///
/// Swift's cooperative thread pool has one thread per core (two on our CI machines). A test that
/// blocks one of them for a second stalls every other test running in parallel; the symptom was an
/// unrelated step that could not even start within 10 s. Not on a `Thread` of its own: Dispatch's
/// workers block signals, a new thread does not, and a SIGCHLD arriving during Foundation's
/// `readDataToEndOfFile` made its internal `try!` crash the whole test process on EINTR.
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}

extension Blocking {
    /// Runs `executable` to completion off the cooperative pool: its exit status and its standard output with
    /// standard error interleaved.
    public static func runProcess(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> (status: Int32, output: String) {
        try await run { try runProcessSync(executable, arguments, environment: environment) }
    }

    /// The same, on the calling thread (for callers already off the cooperative pool).
    public static func runProcessSync(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
