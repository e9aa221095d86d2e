import EnclaveCore
import EnclaveLocal
import Testing

@Suite struct AddressPoolTests {
    @Test func defaultPoolHoldsSixteenThousandLinksOfFourAddresses() throws {
        let pool = try AddressPool(cidr: "10.200.0.0/16")
        #expect(pool.slotCount == 16_384)
        #expect(pool.link(slot: 0) == WorkspaceLink(subnet: "10.200.0.0/30", hostAddress: "10.200.0.1", workspaceAddress: "10.200.0.2"))
        #expect(pool.link(slot: 1)?.hostAddress == "10.200.0.5")
        #expect(pool.link(slot: 64)?.workspaceAddress == "10.200.1.2")
        #expect(pool.link(slot: 16_383)?.subnet == "10.200.255.252/30")
        #expect(pool.link(slot: 16_384) == nil)
        #expect(pool.link(slot: -1) == nil)
    }

    @Test(arguments: ["10.200.0.0", "10.200.0.0/31", "10.200.0.0/4", "10.200.1.0/16", "10.300.0.0/16", "a.b.c.d/16", "10.200.0/16"])
    func invalidPoolsAreRejectedWithTheExpectedForm(_ cidr: String) {
        #expect(throws: EnclaveError.self) { try AddressPool(cidr: cidr) }
    }

    @Test func namesFitLinuxInterfaceNameLimitForEverySlot() {
        let names = WorkspaceHostNames(prefix: "abcde", slot: 16_383)
        #expect(names.hostInterface == "abcdeh16383")
        #expect(names.hostInterface.utf8.count <= WorkspaceHostNames.maxInterfaceNameLength)
        #expect(names.workspaceInterface.utf8.count <= WorkspaceHostNames.maxInterfaceNameLength)
        let largest = WorkspaceHostNames(prefix: "abcde", slot: 99_999_999)
        #expect(largest.hostInterface.utf8.count <= WorkspaceHostNames.maxInterfaceNameLength)
        #expect(WorkspaceHostNames(prefix: "enc", slot: 3).namespace == "enc-ws-3")
    }

    @Test(arguments: [("enc", true), ("t1a2b", true), ("", false), ("abcdef", false), ("1abc", false), ("Enc", false), ("e-c", false)])
    func prefixesAreShortLowercaseNames(_ prefix: String, _ valid: Bool) {
        #expect(WorkspaceHostNames.isValidPrefix(prefix) == valid)
    }

    @Test func uidsComeFromTheReservedRange() {
        let range = IdentityRange()
        #expect(range.uid(slot: 0) == 200_000)
        #expect(range.uid(slot: 65_535) == 265_535)
        #expect(range.uid(slot: 65_536) == nil)
    }
}

@Suite struct NetworkPolicyTests {
    func spec(_ mode: NetworkMode, ports: [Int] = []) throws -> WorkspaceNetworkSpec {
        let pool = try AddressPool(cidr: "10.200.0.0/16")
        let link = try #require(pool.link(slot: 2))
        return WorkspaceNetworkSpec(names: WorkspaceHostNames(prefix: "enc", slot: 2), link: link, mode: mode, pool: pool, allowedHostPorts: ports)
    }

    @Test func restrictedRulesetDropsEverythingButRepliesAndAllowedPorts() throws {
        let text = try spec(.restricted, ports: [3141, 80, 3141]).nftRuleset
        #expect(text.hasPrefix("table inet enc_ws_2 {}\ndelete table inet enc_ws_2\n"))
        #expect(text.contains("iifname \"ench2\" ct state established,related accept"))
        #expect(text.contains("iifname \"ench2\" ip daddr 10.200.0.9 tcp dport { 80, 3141 } ct state new accept"))
        #expect(text.contains("iifname \"ench2\" counter drop\n  }\n  chain forward"))
        #expect(text.contains("oifname \"ench2\" counter drop"))
        #expect(!text.contains("masquerade"))
        #expect(try !spec(.restricted).namespaceBatch.contains("default"))
    }

    @Test func restrictedWithoutPortsAllowsOnlyReplies() throws {
        #expect(try !spec(.restricted).nftRuleset.contains("dport"))
    }

    @Test func unrestrictedRulesetMasqueradesButKeepsOtherWorkspacesOut() throws {
        let s = try spec(.unrestricted)
        let text = s.nftRuleset
        #expect(text.contains("iifname \"ench2\" ip daddr 10.200.0.0/16 counter drop"))
        #expect(text.contains("ip saddr 10.200.0.10 oifname != \"ench2\" masquerade"))
        #expect(text.contains("oifname \"ench2\" ct state established,related accept"))
        #expect(s.namespaceBatch.contains("route replace default via 10.200.0.9"))
    }
}

@Suite struct ResourceLimitsTests {
    @Test func parametersOverrideDefaultsAndZeroMeansUnlimited() throws {
        let limits = try ResourceLimits.from(
            parameters: ["memory_limit_mb": .int(512), "cpu_limit_percent": .string("150"), "max_processes": .int(0)],
            defaults: ResourceLimits(memoryBytes: 1, cpuPercent: 100, maxProcesses: 64))
        #expect(limits == ResourceLimits(memoryBytes: 512 * 1024 * 1024, cpuPercent: 150, maxProcesses: nil))
        #expect(try ResourceLimits.from(parameters: [:], defaults: .init(maxProcesses: 9)).maxProcesses == 9)
    }

    @Test(arguments: [JSONValue.int(-1), .double(1.5), .string("lots"), .bool(true)])
    func invalidLimitsAreRejected(_ value: JSONValue) {
        #expect(throws: EnclaveError.self) { try ResourceLimits.from(parameters: ["max_processes": value]) }
    }

    @Test func limitsMapToCgroupV1AndV2Files() {
        let limits = ResourceLimits(memoryBytes: 1024, cpuPercent: 50, maxProcesses: 10)
        let v1 = limits.files(unified: false).map { "\($0.controller)/\($0.file)=\($0.value)" }
        #expect(v1 == ["memory/memory.limit_in_bytes=1024", "cpu/cpu.cfs_period_us=100000", "cpu/cpu.cfs_quota_us=50000", "pids/pids.max=10"])
        let v2 = ResourceLimits().files(unified: true).map { "\($0.file)=\($0.value)" }
        #expect(v2 == ["memory.max=max", "cpu.max=max 100000", "pids.max=max"])
    }
}
