// Who the airlock's workspace listener serves, by source address alone; and that every workspace's
// rules open that listener's port. No root needed.
import EnclaveCore
import EnclaveEngine
import EnclaveLocal
import EnclaveStore
import EnclaveTesting
import Foundation
import Synchronization
import Testing

@Suite struct WorkspacePeerTests {
    let pool = try! AddressPool(cidr: "10.200.0.0/16")

    @Test(arguments: [
        ("10.200.0.2", 0), ("10.200.0.6", 1), ("10.200.1.2", 64), ("10.200.255.254", 16_383),
    ])
    func aWorkspaceEndOfAVethIsItsSlot(_ address: String, _ slot: Int) {
        #expect(pool.workspaceSlot(of: address) == slot)
        #expect(pool.link(slot: slot)?.workspaceAddress == address)
    }

    @Test(arguments: [
        "10.200.0.1",  // the host's own end: a process on the host speaks from it
        "10.200.0.0", "10.200.0.3",  // a link's network and broadcast
        "10.201.0.2", "10.199.255.254", "127.0.0.1", "192.168.1.2",  // outside the pool
        "::1", "::ffff:10.200.0.2", "10.200.0.2.1", "10.200.0", "", "not an address",
    ])
    func anyOtherAddressIsNoWorkspace(_ address: String) {
        #expect(pool.workspaceSlot(of: address) == nil)
        #expect(pool.outsiderRefusal(address)?.contains("serves workspaces' own networks only (10.200.0.0/16)") == true)
    }

    @Test func aConnectionWithoutAnAddressIsRefused() {
        #expect(pool.outsiderRefusal(nil) != nil)
        #expect(pool.peerRefusal(nil, workspaceId: "a", link: pool.link(slot: 0)) != nil)
    }

    @Test func aLinkWorksOnlyFromItsOwnWorkspacesAddress() throws {
        let a = try #require(pool.link(slot: 0))
        #expect(pool.peerRefusal("10.200.0.2", workspaceId: "ws-a", link: a) == nil)
        let fromB = try #require(pool.peerRefusal("10.200.0.6", workspaceId: "ws-a", link: a))
        #expect(fromB.contains("for workspace ws-a") && fromB.contains("10.200.0.6"), "\(fromB)")
        #expect(pool.peerRefusal("10.200.0.1", workspaceId: "ws-a", link: a) != nil, "the host end is not the workspace")
        #expect(pool.peerRefusal("10.200.0.2", workspaceId: "ws-gone", link: nil)?.contains("no network on this host") == true)
    }

    /// Records what the data plane asks the host for.
    final class Recorder: HostNetwork {
        let specs = Mutex<[WorkspaceNetworkSpec]>([])
        func ensure(_ spec: WorkspaceNetworkSpec) async throws { specs.withLock { $0.append(spec) } }
        func remove(_ names: WorkspaceHostNames) async throws {}
        func processes(in names: WorkspaceHostNames) async throws -> [Int32] { [] }
        func missingCapability() async -> String? { nil }
    }

    @Test func everyWorkspaceMayReachTheServersOwnHostPortsBesidesItsTemplates() async throws {
        let dir = try TestPaths.temporaryDirectory("enclave-local-test")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("enclave.sqlite").path)
        let recorder = Recorder()
        let plane = LocalDataPlane(
            configuration: try LocalDataPlaneConfiguration(pool: pool, cgroups: nil, hostPorts: [8010]), network: recorder, allocations: store)
        for (id, ports) in [("ws-a", [3141]), ("ws-b", [])] {
            let result = try await plane.isolate(
                BundleIsolation(network: "restricted", allowedHostPorts: ports),
                request: DeploymentRequest(
                    operationId: "op", stepId: "main", action: "install", resourceId: id, resourceType: .workspace,
                    templateName: "tre-workspace-base", templateVersion: "0.1.0", parameters: [:]),
                progress: { _ in })
            #expect(result.succeeded, "\(result.message)")
        }
        let rulesets = recorder.specs.withLock { $0.map(\.nftRuleset) }
        #expect(rulesets.count == 2)
        #expect(rulesets.first?.contains("ip daddr 10.200.0.1 tcp dport { 3141, 8010 } ct state new accept") == true, "\(rulesets)")
        #expect(rulesets.last?.contains("ip daddr 10.200.0.5 tcp dport { 8010 } ct state new accept") == true, "\(rulesets)")
    }
}
