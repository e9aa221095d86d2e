// Runs `ip`, `nft` and friends as child processes, off Swift's cooperative pool.
import EnclaveCore
import Foundation
import Subprocess
import SystemPackage

/// A finished host command.
public struct HostCommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var error: String
}

/// Runs host tools with a fixed environment, through swift-subprocess: waiting for a command holds
/// no thread, so many concurrent commands (and the cooperative pool) never starve.
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
        let configuration = Configuration(
            executable: .path(FilePath(path)), arguments: Arguments(Array(argv.dropFirst())),
            environment: .custom(["PATH": Self.searchPath.joined(separator: ":"), "LANG": "C.UTF-8"]))
        do {
            // swift-subprocess waits without holding a thread: blocking Dispatch threads for each command
            // starved libdispatch's small pool on two cores (the attack tests took minutes).
            if let input {
                let result = try await Subprocess.run(
                    configuration, input: .string(input), output: .string(limit: Self.outputLimit), error: .string(limit: Self.outputLimit))
                return HostCommandResult(
                    status: Self.code(result.terminationStatus), output: result.standardOutput, error: result.standardError)
            }
            let result = try await Subprocess.run(
                configuration, output: .string(limit: Self.outputLimit), error: .string(limit: Self.outputLimit))
            return HostCommandResult(
                status: Self.code(result.terminationStatus), output: result.standardOutput, error: result.standardError)
        } catch {
            throw EnclaveError.serviceUnavailable("'\(tool)' could not be started: \(error)")
        }
    }

    /// Output beyond this is an error of the command (`nft list ruleset` on a busy host stays far below).
    static let outputLimit = 16 * 1024 * 1024

    static func code(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): Int32(code)
        case .signaled(let signal): 128 + Int32(signal)
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
}
