import EnclavePortal
import Testing

@Suite("Portal times: UTC, one format")
struct PortalTimeTests {
    @Test func formats() {
        #expect(PortalTime.utc(0) == "1970-01-01 00:00:00 UTC")
        #expect(PortalTime.utc(1_767_358_007.9) == "2026-01-02 12:46:47 UTC")
        #expect(PortalTime.utc(1_767_358_007.9, withSeconds: false) == "2026-01-02 12:46 UTC")
        #expect(PortalTime.iso(1_767_358_007.9) == "2026-01-02T12:46:47Z")
    }
}
