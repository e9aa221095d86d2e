import EnclaveLocal
import EnclaveTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real processes (python3's http.server, shells), supervised as workloads; no root needed.
@Suite("Workload supervisor", .serialized)
struct SupervisorTests {
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func webServer(port: Int, directory: URL) -> WorkloadSpec {
        WorkloadSpec(
            command: ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", directory.path],
            health: HealthCheck(url: "http://127.0.0.1:\(port)/", startTimeout: 60),
            restart: RestartPolicy(initialBackoff: 0.2, maximumBackoff: 1), stopGracePeriod: 2)
    }

    static func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    static func eventually(_ seconds: Double = 60, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("start waits for health; SIGKILL of the tool brings it back (restarts counted); stop leaves no process")
    func restartAfterKill() async throws {
        let dir = try TestPaths.temporaryDirectory("supervisor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let supervisor = Supervisor(stateDirectory: dir.appendingPathComponent("run"))
        let port = try Self.freePort()
        let status = try await supervisor.start("web", Self.webServer(port: port, directory: dir))
        #expect(status.state == .running)
        let first = try #require(status.pid)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/web.json").path))

        kill(first, SIGKILL)
        let restarted = await Self.eventually {
            let now = await supervisor.status("web")
            return now?.state == .running && now?.pid != first && (now?.restarts ?? 0) >= 1
        }
        let afterKill = await supervisor.status("web")
        #expect(restarted, "\(String(describing: afterKill))")
        #expect(await supervisor.status("web")?.lastEvent == "killed by signal 9")
        let second = try #require(await supervisor.status("web")?.pid)

        await supervisor.stop("web")
        #expect(await Self.eventually(10) { !Self.alive(second) })
        #expect(await supervisor.status("web") == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/web.json").path))
    }

    @Test("stop escalates to SIGKILL for a process that ignores SIGTERM, and kills what it started")
    func stopIgnoresTerm() async throws {
        let dir = try TestPaths.temporaryDirectory("supervisor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let supervisor = Supervisor(stateDirectory: dir)
        let childFile = dir.appendingPathComponent("child.pid")
        let spec = WorkloadSpec(
            command: ["/bin/sh", "-c", "trap '' TERM; sleep 300 & echo $! > \(childFile.path); while true; do sleep 1; done"],
            stopGracePeriod: 1)
        let status = try await supervisor.start("stubborn", spec)
        let leader = try #require(status.pid)
        #expect(await Self.eventually { FileManager.default.fileExists(atPath: childFile.path) })
        let child = try #require(Int32(String(decoding: try Data(contentsOf: childFile), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        await supervisor.stop("stubborn")
        #expect(await Self.eventually(10) { !Self.alive(leader) && !Self.alive(child) })
    }

    @Test("a command that cannot start fails with the reason; a tool that never becomes healthy fails its start")
    func failures() async throws {
        let dir = try TestPaths.temporaryDirectory("supervisor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let supervisor = Supervisor(stateDirectory: dir)
        await #expect(throws: SupervisorError.self) {
            try await supervisor.start("missing", WorkloadSpec(command: ["/nonexistent/tool"], restart: RestartPolicy(mode: .never)))
        }
        let silent = WorkloadSpec(
            command: ["/bin/sh", "-c", "echo listening nowhere; sleep 300"],
            health: HealthCheck(url: "http://127.0.0.1:\(try Self.freePort())/", startTimeout: 1, interval: 0.1),
            restart: RestartPolicy(mode: .onFailure, initialBackoff: 0.1), stopGracePeriod: 1)
        let error = await #expect(throws: SupervisorError.self) {
            try await supervisor.start("silent", RestartPolicyTestHelper.never(silent))
        }
        #expect(error?.message.contains("listening nowhere") == true, "the log's tail is in the message: \(String(describing: error))")
        await supervisor.stopAll()
    }

    @Test("after an Enclave restart, a still-running workload is adopted (same pid) and one whose process died is started again")
    func recoverAfterRestart() async throws {
        let dir = try TestPaths.temporaryDirectory("supervisor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("run")
        let port = try Self.freePort()
        let first = Supervisor(stateDirectory: state)
        let running = try await first.start("web", Self.webServer(port: port, directory: dir))
        let pid = try #require(running.pid)
        // The old Enclave process dies without stopping anything: its workload keeps running, its record stays.
        await first.abandonAll()
        #expect(Self.alive(pid))

        let second = Supervisor(stateDirectory: state)
        #expect(await second.recover() == ["web"])
        let adopted = await second.status("web")
        #expect(adopted?.pid == pid && adopted?.state == .running)
        kill(pid, SIGKILL)
        let back = await Self.eventually {
            let now = await second.status("web")
            // `running` is only set once the health check (an HTTP GET of the port) answered.
            guard now?.state == .running, let newPid = now?.pid, newPid != pid else { return false }
            return true
        }
        let final = await second.status("web")
        #expect(back, "\(String(describing: final))")
        await second.stopAll()
    }

    @Test("backoff doubles per failure in a row up to the maximum; a long run resets the count")
    func backoff() {
        let policy = RestartPolicy(initialBackoff: 1, maximumBackoff: 10, resetAfter: 60)
        #expect((0...6).map { policy.delay(failuresInRow: $0) } == [0, 1, 2, 4, 8, 10, 10])
        #expect(policy.failuresInRow(previous: 4, ranFor: 5) == 5)
        #expect(policy.failuresInRow(previous: 4, ranFor: 120) == 1)
        #expect(RestartPolicy(mode: .onFailure).restarts(afterCleanExit: true) == false)
        #expect(RestartPolicy(mode: .onFailure).restarts(afterCleanExit: false))
        #expect(RestartPolicy(mode: .never).restarts(afterCleanExit: false) == false)
    }
}

enum RestartPolicyTestHelper {
    static func never(_ spec: WorkloadSpec) -> WorkloadSpec {
        var spec = spec
        spec.restart.mode = .never
        return spec
    }
}
