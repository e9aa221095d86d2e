public import Foundation
public import Logging
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps workloads running: starts each in its own session, waits until its health check answers,
/// starts it again with backoff when it exits, stops it cleanly (SIGTERM to its whole process group,
/// SIGKILL after the grace period: a sandbox's pid 1 ignores SIGTERM), and after an Enclave restart
/// adopts the workloads that are still running or starts again those that are not.
///
/// Each running workload has a record in `stateDirectory` (`<id>.json`: pid, process start time, spec)
/// and its output in `<id>.log`; the record is what lets a new Enclave process find it again.
public actor Supervisor {
    let stateDirectory: URL
    let logger: Logger

    struct Managed {
        var spec: WorkloadSpec
        var status: WorkloadStatus
        var task: Task<Void, Never>?
        var stopping = false
    }

    var workloads: [String: Managed] = [:]

    /// What a previous Enclave process left about a running workload.
    struct Record: Codable {
        var pid: Int32
        var startTime: UInt64
        var spec: WorkloadSpec
    }

    public init(stateDirectory: URL, logger: Logger = Logger(label: "enclave.supervisor")) {
        self.stateDirectory = stateDirectory
        self.logger = logger
    }

    public func status(_ id: String) -> WorkloadStatus? { workloads[id]?.status }

    /// Starts a workload (no change when it is already supervised with the same spec; a new spec
    /// restarts it) and waits until it is healthy, or throws with what went wrong and the log's tail.
    @discardableResult
    public func start(_ id: String, _ spec: WorkloadSpec) async throws -> WorkloadStatus {
        if let current = workloads[id], current.spec == spec, !current.stopping, current.status.state != .failed {
            return try await waitUntilReady(id)
        }
        if workloads[id] != nil { await stop(id) }
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        workloads[id] = Managed(spec: spec, status: WorkloadStatus(state: .starting, pid: nil, restarts: 0, lastEvent: nil))
        workloads[id]?.task = Task { await self.superviseChildren(id, spec: spec) }
        return try await waitUntilReady(id)
    }

    /// Stops a workload and forgets it (nothing happens when it is not supervised).
    public func stop(_ id: String) async {
        guard var managed = workloads[id] else { return }
        managed.stopping = true
        workloads[id] = managed
        if let pid = managed.status.pid { await Self.terminate(group: pid, grace: managed.spec.stopGracePeriod) }
        managed.task?.cancel()
        await managed.task?.value
        workloads[id] = nil
        try? FileManager.default.removeItem(at: recordURL(id))
    }

    /// Forgets every workload without stopping it, as a crashed Enclave would: the processes keep
    /// running and their records stay for the next `recover()`. (Used to test recovery.)
    public func abandonAll() {
        // The loops end when they find their workload gone; nothing is signalled, no record is removed.
        workloads.removeAll()
    }

    /// Stops every workload (Enclave shutting down cleanly).
    public func stopAll() async {
        for id in Array(workloads.keys) { await stop(id) }
    }

    /// After a restart of Enclave: adopts each recorded workload whose process still runs, starts again
    /// those whose process is gone. Returns the ids it found.
    @discardableResult
    public func recover() async -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(at: stateDirectory, includingPropertiesForKeys: nil)) ?? []
        var found: [String] = []
        for file in files where file.pathExtension == "json" {
            let id = file.deletingPathExtension().lastPathComponent
            guard workloads[id] == nil, let data = try? Data(contentsOf: file),
                let record = try? JSONDecoder().decode(Record.self, from: data)
            else { continue }
            found.append(id)
            if ProcessTable.isAlive(pid: record.pid, startTime: record.startTime) {
                logger.info("adopting workload", metadata: ["workload": "\(id)", "pid": "\(record.pid)"])
                workloads[id] = Managed(
                    spec: record.spec, status: WorkloadStatus(state: .running, pid: record.pid, restarts: 0, lastEvent: "adopted"))
                workloads[id]?.task = Task { await self.superviseAdopted(id, record: record) }
            } else {
                logger.info("restarting workload whose process is gone", metadata: ["workload": "\(id)"])
                workloads[id] = Managed(
                    spec: record.spec, status: WorkloadStatus(state: .starting, pid: nil, restarts: 0, lastEvent: nil))
                workloads[id]?.task = Task { await self.superviseChildren(id, spec: record.spec) }
            }
        }
        return found
    }

    // MARK: Supervision loops

    /// Watches a process a previous Enclave started (not our child: polled through /proc); when it exits
    /// the workload continues as our own child.
    private func superviseAdopted(_ id: String, record: Record) async {
        while !Task.isCancelled, ProcessTable.isAlive(pid: record.pid, startTime: record.startTime) {
            try? await Task.sleep(for: .milliseconds(250))
        }
        guard !Task.isCancelled, workloads[id]?.stopping == false else { return }
        update(id) { $0.restarts += 1; $0.lastEvent = "the adopted process exited"; $0.pid = nil }
        await superviseChildren(id, spec: record.spec, failuresInRow: 1)
    }

    /// Runs the workload as our child, again and again as the restart policy says, until stopped.
    private func superviseChildren(_ id: String, spec: WorkloadSpec, failuresInRow initial: Int = 0) async {
        var failures = initial
        if failures > 0 {
            let delay = spec.restart.delay(failuresInRow: failures)
            update(id) { $0.state = .backingOff }
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
        while !Task.isCancelled, workloads[id]?.stopping == false {
            update(id) { $0.state = .starting }
            let started = Date()
            let exit = await runOnce(id, spec: spec)
            guard !Task.isCancelled, workloads[id]?.stopping == false else { return }
            let ranFor = Date().timeIntervalSince(started)
            failures = spec.restart.failuresInRow(previous: failures, ranFor: ranFor)
            let clean = exit == "exited with status 0"
            guard spec.restart.restarts(afterCleanExit: clean) else {
                update(id) { $0.state = clean ? .stopped : .failed; $0.lastEvent = exit; $0.pid = nil }
                try? FileManager.default.removeItem(at: recordURL(id))
                return
            }
            let delay = spec.restart.delay(failuresInRow: failures)
            logger.warning(
                "workload exited; starting it again", metadata: ["workload": "\(id)", "exit": "\(exit)", "in": "\(delay)s"])
            update(id) { $0.state = .backingOff; $0.lastEvent = exit; $0.pid = nil; $0.restarts += 1 }
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
    }

    /// One run: spawn in a new session, record it, probe health, wait for the exit. Returns how it ended.
    private func runOnce(_ id: String, spec: WorkloadSpec) async -> String {
        guard let program = spec.command.first else { return "could not start: the command is empty" }
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .milliseconds(Int(spec.stopGracePeriod * 1000)))]
        var environment: [Environment.Key: String] = [:]
        for (key, value) in spec.environment {
            if let key = Environment.Key(rawValue: key) { environment[key] = value }
        }
        let configuration = Configuration(
            executable: program.contains("/") ? .path(FilePath(program)) : .name(program),
            arguments: Arguments(Array(spec.command.dropFirst())),
            environment: spec.inheritsEnvironment == false ? .custom(environment) : .inherit.updating(environment),
            workingDirectory: spec.workingDirectory.map { FilePath($0) },
            platformOptions: options)
        let log = logURL(id)
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        do {
            let result = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
                let pid = execution.processIdentifier.value
                self.launched(id, pid: pid, spec: spec)
                let handle = try? FileHandle(forWritingTo: log)
                _ = try? handle?.seekToEnd()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.probe(id, pid: pid, health: spec.health) }
                    group.addTask {
                        do {
                            for try await buffer in execution.standardOutput {
                                buffer.withUnsafeBytes { handle?.write(Data($0)) }
                            }
                        } catch {}
                    }
                    group.addTask {
                        do {
                            for try await buffer in execution.standardError {
                                buffer.withUnsafeBytes { handle?.write(Data($0)) }
                            }
                        } catch {}
                    }
                    // The pipes end when the process (and what it started) exits; the probe may still run.
                    _ = await group.next()
                    _ = await group.next()
                    _ = await group.next()
                }
                try? handle?.close()
            }
            switch result.terminationStatus {
            case .exited(let code): return "exited with status \(code)"
            case .signaled(let signal): return "killed by signal \(signal)"
            }
        } catch {
            return "could not start: \(error)"
        }
    }

    private func launched(_ id: String, pid: Int32, spec: WorkloadSpec) {
        update(id) { $0.pid = pid }
        guard let startTime = ProcessTable.startTime(of: pid),
            let data = try? JSONEncoder().encode(Record(pid: pid, startTime: startTime, spec: spec))
        else { return }
        try? data.write(to: recordURL(id), options: .atomic)
    }

    /// Marks the workload running once its health check answers (at once when it has none); on a start
    /// timeout, kills the run so the restart policy takes over.
    private func probe(_ id: String, pid: Int32, health: HealthCheck?) async {
        guard let health else {
            update(id) { if $0.pid == pid { $0.state = .running } }
            return
        }
        let deadline = Date().addingTimeInterval(health.startTimeout)
        while Date() < deadline, !Task.isCancelled, workloads[id]?.status.pid == pid {
            if await Self.answers(health.url) {
                update(id) { if $0.pid == pid { $0.state = .running } }
                return
            }
            try? await Task.sleep(for: .milliseconds(Int(health.interval * 1000)))
        }
        guard !Task.isCancelled, workloads[id]?.status.pid == pid else { return }
        update(id) { $0.lastEvent = "not healthy within \(Int(health.startTimeout)) s" }
        ProcessTable.signalGroup(pid, SIGKILL)
    }

    static func answers(_ url: String) async -> Bool {
        // Only ask AsyncHTTPClient once the port is open (see PortProbe: its pool backs off on refusals).
        if let parsed = URL(string: url), let host = parsed.host {
            guard await PortProbe.accepts(host: host, port: parsed.port ?? (parsed.scheme == "https" ? 443 : 80)) else { return false }
        }
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2))
            _ = try await response.body.collect(upTo: 1 << 20)
            return response.status.code < 500
        } catch {
            return false
        }
    }

    /// Waits until the workload is running (healthy), or throws once it has failed.
    private func waitUntilReady(_ id: String) async throws -> WorkloadStatus {
        while true {
            guard let status = workloads[id]?.status else {
                throw SupervisorError(message: "The workload '\(id)' was stopped while starting")
            }
            switch status.state {
            case .running: return status
            case .failed, .stopped:
                throw SupervisorError(message: "The workload '\(id)' did not start: \(status.lastEvent ?? "unknown")\(logTail(id))")
            case .backingOff where status.restarts > 0 && status.lastEvent?.hasPrefix("could not start") == true:
                throw SupervisorError(message: "The workload '\(id)' did not start: \(status.lastEvent ?? "")\(logTail(id))")
            default:
                // A dictionary read on this actor: polling often costs nothing and shortens every start.
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// SIGTERM to the group, SIGKILL after `grace` seconds if anything is left.
    static func terminate(group pid: Int32, grace: Double) async {
        ProcessTable.signalGroup(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, kill(-pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(50)) }
        ProcessTable.signalGroup(pid, SIGKILL)
    }

    private func update(_ id: String, _ change: (inout WorkloadStatus) -> Void) {
        guard var managed = workloads[id] else { return }
        change(&managed.status)
        workloads[id] = managed
    }

    func recordURL(_ id: String) -> URL { stateDirectory.appendingPathComponent("\(id).json") }
    func logURL(_ id: String) -> URL { stateDirectory.appendingPathComponent("\(id).log") }

    private func logTail(_ id: String) -> String {
        guard let data = FileManager.default.contents(atPath: logURL(id).path), !data.isEmpty else { return "" }
        return "\n--- last output ---\n" + String(decoding: data.suffix(2048), as: UTF8.self)
    }
}

public struct SupervisorError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
