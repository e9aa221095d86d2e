// Pure rules of user resources' workloads: sizes, per-user uids, ports (no root needed).
import EnclaveCore
import EnclaveLocal
import EnclaveStore
import EnclaveTesting
import Foundation
import Testing

@Suite struct WorkloadSizeTests {
    @Test(arguments: [
        ("Small (1 CPU, 2 GB)", 2, 100, 256),
        ("Medium (2 CPU, 4 GB)", 4, 200, 512),
        ("Large (4 CPU, 8 GB)", 8, 400, 1024),
    ])
    func eachSizeMapsToItsCgroupLimits(_ value: String, _ gigabytes: Int, _ cpuPercent: Int, _ processes: Int) throws {
        let size = try #require(try WorkloadSize.from(parameters: ["vm_size": .string(value)]))
        #expect(size.limits == ResourceLimits(memoryBytes: gigabytes << 30, cpuPercent: cpuPercent, maxProcesses: processes))
    }

    @Test func aResourceWithoutASizeSharesItsWorkspaceLimitsOnly() throws {
        #expect(try WorkloadSize.from(parameters: [:]) == nil)
        #expect(try WorkloadSize.from(parameters: ["vm_size": .null]) == nil)
    }

    @Test func anUnknownSizeIsRefusedNamingTheChoices() {
        let error = #expect(throws: EnclaveError.self) { try WorkloadSize.from(parameters: ["vm_size": "Huge"]) }
        #expect(error?.message.contains("'Small (1 CPU, 2 GB)'") == true)
        #expect(error?.message.contains("not \"Huge\"") == true, "\(error?.message ?? "")")
    }

    @Test func theSchemasOfferExactlyTheKnownSizes() throws {
        let root = TestPaths.templates
        for folder in [
            "workspace_services/desktop", "workspace_services/desktop/user_resources/desktop",
            "workspace_services/jupyterlab/user_resources/notebook",
        ] {
            let schema = try JSONDecoder().decode(
                JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(folder)/template_schema.json")))
            let offered = schema["properties"]?["vm_size"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
            #expect(offered == WorkloadSize.allCases.map(\.rawValue), "\(folder)")
        }
    }

    @Test func cgroupFilesOfASizeSetEveryController() {
        let files = Dictionary(uniqueKeysWithValues: WorkloadSize.small.limits.files(unified: false).map { ($0.file, $0.value) })
        #expect(files["memory.limit_in_bytes"] == "\(2 << 30)")
        #expect(files["cpu.cfs_quota_us"] == "100000")
        #expect(files["pids.max"] == "256")
    }
}

@Suite struct UserIdentityAllocationTests {
    func makePlane(_ userIdentities: IdentityRange = .users) throws -> (LocalDataPlane, URL) {
        let dir = try TestPaths.temporaryDirectory("enclave-users-test")
        let store = try SQLiteStore(path: dir.appendingPathComponent("enclave.sqlite").path)
        let configuration = try LocalDataPlaneConfiguration(
            pool: AddressPool(cidr: "10.200.0.0/24"), cgroups: nil, userIdentities: userIdentities)
        return (LocalDataPlane(configuration: configuration, network: SimulatedHostNetwork(), allocations: store), dir)
    }

    @Test func aUserKeepsOneUidPerWorkspaceAndNoTwoPairsShareOne() async throws {
        let (plane, dir) = try makePlane()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a1 = try await plane.userUid(workspaceId: "ws-1", userId: "alice")
        #expect(try await plane.userUid(workspaceId: "ws-1", userId: "alice") == a1, "the same pair gets the same uid again")
        let b1 = try await plane.userUid(workspaceId: "ws-1", userId: "bob")
        let a2 = try await plane.userUid(workspaceId: "ws-2", userId: "alice")
        #expect(Set([a1, b1, a2]).count == 3)
        for uid in [a1, b1, a2] { #expect((400_000..<465_536).contains(uid)) }
        #expect(!(200_000..<265_536).contains(a1), "user uids never overlap workspace uids")
    }

    @Test func removingAWorkspaceFreesItsUsersUidsAndPortsOnly() async throws {
        let (plane, dir) = try makePlane()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alice = try await plane.userUid(workspaceId: "ws-1", userId: "alice")
        let other = try await plane.userUid(workspaceId: "ws-2", userId: "carol")
        let port = try await plane.userPort(workspaceId: "ws-1", resourceId: "desk-1")
        let port2 = try await plane.userPort(workspaceId: "ws-1", resourceId: "desk-2")
        #expect(port != port2)
        #expect(try await plane.userPort(workspaceId: "ws-1", resourceId: "desk-1") == port)
        _ = try await plane.remove(workspaceId: "ws-1")
        #expect(try await plane.userUid(workspaceId: "ws-2", userId: "carol") == other, "another workspace's uid is kept")
        // Freed slots are handed out again, lowest first.
        #expect(try await plane.userUid(workspaceId: "ws-3", userId: "dave") == alice)
        #expect(try await plane.userPort(workspaceId: "ws-3", resourceId: "nb-1") == port)
    }

    @Test func aUninstalledUserResourceFreesItsPort() async throws {
        let (plane, dir) = try makePlane()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try await plane.userPort(workspaceId: "ws-1", resourceId: "desk-1")
        #expect(port == 20_000)
        try await plane.releaseUserPort(workspaceId: "ws-1", resourceId: "desk-1")
        #expect(try await plane.userPort(workspaceId: "ws-1", resourceId: "desk-2") == port)
    }

    @Test func anExhaustedRangeIsAClearError() async throws {
        let (plane, dir) = try makePlane(IdentityRange(first: 400_000, count: 1))
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await plane.userUid(workspaceId: "ws-1", userId: "alice")
        await #expect(throws: EnclaveError.self) { try await plane.userUid(workspaceId: "ws-1", userId: "bob") }
    }

    @Test func overlappingUidRangesAreRefused() throws {
        let error = #expect(throws: EnclaveError.self) {
            try LocalDataPlaneConfiguration(
                pool: AddressPool(cidr: "10.200.0.0/24"), identities: IdentityRange(first: 200_000, count: 1000),
                userIdentities: IdentityRange(first: 200_500, count: 1000))
        }
        #expect(error?.message.contains("overlap") == true)
    }

    @Test("uid ranges reaching the system's accounts (root included) or past the largest uid are refused")
    func uidRangesOutsideTheAllowedSpanAreRefused() throws {
        for (workspaces, users) in [
            (IdentityRange(first: 0, count: 100), IdentityRange.users),
            (IdentityRange(first: 1000, count: 65_536), IdentityRange.users),
            (IdentityRange(), IdentityRange(first: 4_294_967_200, count: 1000)),
        ] {
            let error = #expect(throws: EnclaveError.self) {
                try LocalDataPlaneConfiguration(pool: AddressPool(cidr: "10.200.0.0/24"), identities: workspaces, userIdentities: users)
            }
            #expect(error?.message.contains("100000–4294967293") == true, "\(error?.message ?? "")")
        }
        #expect(throws: Never.self) {
            try LocalDataPlaneConfiguration(
                pool: AddressPool(cidr: "10.200.0.0/24"), identities: IdentityRange(first: 100_000, count: 100),
                userIdentities: IdentityRange(first: 4_294_967_194, count: 100))
        }
    }

    @Test(arguments: [(0, 20_000), (9_999, 29_999)])
    func portsComeFromTheirRange(_ slot: Int, _ port: Int) {
        #expect(WorkloadPortRange().port(slot: slot) == port)
    }

    @Test func portsBeyondTheRangeOrTCPDoNotExist() {
        #expect(WorkloadPortRange().port(slot: 10_000) == nil)
        #expect(WorkloadPortRange().port(slot: -1) == nil)
        #expect(WorkloadPortRange(first: 65_535, count: 10).port(slot: 1) == nil)
    }
}
