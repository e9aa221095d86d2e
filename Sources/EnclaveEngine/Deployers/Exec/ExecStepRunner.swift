// Runs one bundle step as a child process: stdin from a file, stdout/stderr streamed and bounded,
// a timeout and task cancellation that both tear down the child's whole process group.
import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How one step ended, with what it wrote last (for failure messages).
struct ExecStepOutcome: Sendable {
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        case timedOut
        case cancelled
        case couldNotStart(String)
    }

    var termination: Termination
    /// The last bytes of stderr (stdout when stderr was empty), at most the runner's tail limit.
    var diagnosticTail: String
}

/// Runs a child process the way the exec deployer needs it.
///
/// swift-subprocess provides spawning in a new session (`createSession`), streaming pipes and a
/// teardown sequence run on task cancellation. It has no timeout, so the runner races the child
/// against a sleeping task and cancels the child's task when the sleep wins; cancellation then
/// runs the teardown: SIGTERM to the process group, SIGKILL after the grace period. A final
/// SIGKILL to the group after a timeout or cancellation also removes grandchildren that ignored
/// SIGTERM after the leader exited.
struct ExecStepRunner: Sendable {
    var terminationGracePeriod: Duration
    var tailLimit: Int = 4096
    var maxProgressLineLength: Int = 4096

    /// Runs `argv` and waits for it (or for its timeout or the caller's cancellation).
    ///
    /// Never throws: a launch failure is reported as `.couldNotStart`.
    func run(
        argv: [String], workingDirectory: String, environment: [String: String], standardInputPath: String,
        timeout: Duration, progress: @escaping @Sendable (String) async -> Void
    ) async -> ExecStepOutcome {
        let capture = StepOutputCapture(tailLimit: tailLimit)
        guard let program = argv.first else {
            return ExecStepOutcome(termination: .couldNotStart("empty command"), diagnosticTail: "")
        }
        let standardInput: FileDescriptor
        do {
            standardInput = try FileDescriptor.open(FilePath(standardInputPath), .readOnly)
        } catch {
            return ExecStepOutcome(
                termination: .couldNotStart("cannot open the parameters file: \(error)"), diagnosticTail: "")
        }

        var options = PlatformOptions()
        // Own session, so signals reach every process the step starts, and none reach us.
        options.createSession = true
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: terminationGracePeriod)
        ]
        var environmentKeys: [Environment.Key: String] = [:]
        for (key, value) in environment {
            if let key = Environment.Key(rawValue: key) { environmentKeys[key] = value }
        }
        let executable: Executable =
            program.contains("/")
            ? .path(FilePath(Self.absolute(program, relativeTo: workingDirectory)))
            : .name(program)
        let configuration = Configuration(
            executable: executable,
            arguments: Arguments(Array(argv.dropFirst())),
            environment: .custom(environmentKeys),
            workingDirectory: FilePath(workingDirectory),
            platformOptions: options
        )
        let maxLine = maxProgressLineLength

        enum Race: Sendable {
            case finished(Result<TerminationStatus, any Error>)
            case timedOut
            case cancelled
        }

        let outcome: Race = await withTaskGroup(of: Race.self) { group in
            group.addTask {
                do {
                    let result = try await Subprocess.run(
                        configuration,
                        input: .fileDescriptor(standardInput, closeAfterSpawningProcess: true),
                        output: .sequence,
                        error: .sequence
                    ) { execution in
                        capture.recordProcessGroup(execution.processIdentifier.value)
                        await withTaskGroup(of: Void.self) { pipes in
                            pipes.addTask {
                                var lines = LineSplitter(maxLineLength: maxLine)
                                do {
                                    for try await buffer in execution.standardOutput {
                                        let complete = buffer.withUnsafeBytes { bytes in
                                            capture.appendOutput(bytes)
                                            return lines.feed(bytes)
                                        }
                                        for line in complete { await Self.report(line, to: progress) }
                                    }
                                } catch {
                                    // The pipe was cancelled (timeout, cancellation): keep what was read.
                                }
                                if let last = lines.finish() { await Self.report(last, to: progress) }
                            }
                            pipes.addTask {
                                do {
                                    for try await buffer in execution.standardError {
                                        buffer.withUnsafeBytes { capture.appendError($0) }
                                    }
                                } catch {}
                            }
                        }
                    }
                    return .finished(.success(result.terminationStatus))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    return .cancelled
                }
            }
            // The first event decides; cancelling the group tears the child down if it still runs.
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            await group.waitForAll()
            return first
        }

        let leader = capture.processGroup
        let tail = capture.diagnosticTail
        switch outcome {
        case .timedOut, .cancelled:
            if let leader { Self.killStragglers(processGroup: leader) }
            let cancelled = if case .cancelled = outcome { true } else { Task.isCancelled }
            return ExecStepOutcome(termination: cancelled ? .cancelled : .timedOut, diagnosticTail: tail)
        case .finished(.success(let status)):
            if Task.isCancelled {
                if let leader { Self.killStragglers(processGroup: leader) }
                return ExecStepOutcome(termination: .cancelled, diagnosticTail: tail)
            }
            switch status {
            case .exited(let code): return ExecStepOutcome(termination: .exited(Int32(code)), diagnosticTail: tail)
            case .signaled(let signal):
                return ExecStepOutcome(termination: .signaled(Int32(signal)), diagnosticTail: tail)
            }
        case .finished(.failure(let error)):
            if Task.isCancelled {
                if let leader { Self.killStragglers(processGroup: leader) }
                return ExecStepOutcome(termination: .cancelled, diagnosticTail: tail)
            }
            return ExecStepOutcome(
                termination: .couldNotStart(Self.describe(error, program: program)), diagnosticTail: tail)
        }
    }

    private static func report(_ line: String, to progress: @Sendable (String) async -> Void) async {
        let marker = "ENCLAVE_PROGRESS "
        guard line.hasPrefix(marker) else { return }
        let message = line.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)
        if !message.isEmpty { await progress(message) }
    }

    /// SIGKILLs what is left of the step's process group after a timeout or cancellation.
    ///
    /// The group id stays reserved while any member lives, so the signal reaches only the step's
    /// own processes; when none is left the call fails with ESRCH, which is ignored.
    private static func killStragglers(processGroup: pid_t) {
        guard processGroup > 1 else { return }
        _ = kill(-processGroup, SIGKILL)
    }

    static func absolute(_ path: String, relativeTo directory: String) -> String {
        path.hasPrefix("/")
            ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }

    private static func describe(_ error: any Error, program: String) -> String {
        if let error = error as? SubprocessError, error.code == .executableNotFound {
            return "'\(program)' was not found (not on PATH, or not executable)"
        }
        return "\(error)"
    }
}
