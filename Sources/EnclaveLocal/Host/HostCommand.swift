// Runs `ip`, `nft` and friends as child processes, off Swift's cooperative pool.
import Dispatch
import EnclaveCore
import Foundation

/// A finished host command.
public struct HostCommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var error: String
}

/// Runs host tools with a fixed environment. Each call waits on a Dispatch thread, so a slow
/// command never holds one of the cooperative pool's threads.
public struct HostCommand: Sendable {
    /// Where tools are looked up (root's usual sbin folders first).
    public static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    public init() {}

    /// The absolute path of `tool`, or nil when it is not installed.
    public static func locate(_ tool: String) -> String? {
        searchPath.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `argv` (the first element a tool name) with `input` on stdin and returns how it ended.
    ///
    /// - Throws: `EnclaveError.serviceUnavailable` when the tool is missing or cannot start.
    public func run(_ argv: [String], input: String? = nil) async throws -> HostCommandResult {
        guard let tool = argv.first, let path = Self.locate(tool) else {
            throw EnclaveError.serviceUnavailable("'\(argv.first ?? "")' is not installed (looked in \(Self.searchPath.joined(separator: ":")))")
        }
        let arguments = Array(argv.dropFirst())
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.runBlocking(path: path, arguments: arguments, input: input) })
            }
        }
    }

    /// Runs the command and throws when it exits non-zero, with its stderr in the message.
    @discardableResult
    public func check(_ argv: [String], input: String? = nil) async throws -> String {
        let result = try await run(argv, input: input)
        guard result.status == 0 else {
            let reason = result.error.isEmpty ? result.output : result.error
            throw EnclaveError.internal(
                "`\(argv.joined(separator: " "))` failed (exit \(result.status)): \(reason.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.output
    }

    private static func runBlocking(path: String, arguments: [String], input: String?) throws -> HostCommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ["PATH": searchPath.joined(separator: ":"), "LANG": "C.UTF-8"]
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read both pipes to their end before waiting, so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = stderr.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return HostCommandResult(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
    }
}
