import ArgumentParser
import EnclaveLocal
import Foundation
import Histogram

#if canImport(Glibc)
    import Glibc
#endif

/// `enclave-bench isolation`: where an `isolate:` step's time goes, without the API, store or engine.
///
/// N times, one workspace's pieces with the host data plane's own types: `CommandHostNetwork.ensure`
/// (namespace, veth, addresses, nft table), `Cgroups.ensure` (folders and limit files), then
/// `CommandHostNetwork.remove` and `Cgroups.remove`; and, as the unit of cost, one `true` spawned
/// through `HostCommand` (swift-subprocess), as every `ip`/`nft` is. Root only; prefix `bis`, pool
/// 10.238.0.0/16, so nothing else on the host is touched.
struct IsolationBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isolation", abstract: "Time the host data plane's network, cgroup and spawn steps (root).")

    @Option(help: "Workspaces to create and remove, one at a time.") var count: Int = 50
    @Flag(help: "Create all, then remove all (as a server that keeps its workspaces), instead of each in turn.")
    var accumulate = false

    func run() async throws {
        guard geteuid() == 0 else { throw ValidationError("Run as root: this creates namespaces, veths, nft tables and cgroups") }
        let network = CommandHostNetwork()
        if let missing = await network.missingCapability() { throw BenchError(missing) }
        let cgroups = Cgroups()
        let pool = try AddressPool(cidr: "10.238.0.0/16")
        let limits = ResourceLimits(memoryBytes: 4096 * 1024 * 1024, cpuPercent: 200, maxProcesses: 1024)
        let command = HostCommand()
        var phases: [(String, Histogram<UInt64>)] = ["spawn `true`", "network ensure", "cgroups ensure", "network remove", "cgroups remove"]
            .map { ($0, Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)) }
        let clock = ContinuousClock()
        func create(_ slot: Int) async throws {
            let names = WorkspaceHostNames(prefix: "bis", slot: slot)
            guard let link = pool.link(slot: slot) else { throw BenchError("slot \(slot) outside the pool") }
            let spec = WorkspaceNetworkSpec(names: names, link: link, mode: .restricted, pool: pool, allowedHostPorts: [3141])
            var start = clock.now
            _ = try await command.run(["true"])
            _ = phases[0].1.record((clock.now - start).microseconds)
            start = clock.now
            try await network.ensure(spec)
            _ = phases[1].1.record((clock.now - start).microseconds)
            start = clock.now
            try cgroups.ensure(names.cgroup, limits: limits)
            _ = phases[2].1.record((clock.now - start).microseconds)
        }
        func remove(_ slot: Int) async throws {
            let names = WorkspaceHostNames(prefix: "bis", slot: slot)
            var start = clock.now
            try await network.remove(names)
            _ = phases[3].1.record((clock.now - start).microseconds)
            start = clock.now
            try cgroups.remove(names.cgroup)
            _ = phases[4].1.record((clock.now - start).microseconds)
        }
        if accumulate {
            for slot in 0..<count { try await create(slot) }
            for slot in 0..<count { try await remove(slot) }
        } else {
            for slot in 0..<count {
                try await create(slot)
                try await remove(slot)
            }
        }
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3)
        let order = accumulate ? "created, then removed" : "created and removed in turn"
        print("isolation pieces, \(count) workspaces \(order) (load average \(load.joined(separator: " ")))")
        for (name, histogram) in phases {
            print("\(name.padding(toLength: 16, withPad: " ", startingAt: 0)) ms: \(OperationsBenchmark.summary(histogram))")
        }
    }
}
