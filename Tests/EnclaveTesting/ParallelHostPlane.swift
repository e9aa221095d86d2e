public import EnclaveServer
import Synchronization

/// Host object names, an address pool and uid ranges for a root test that changes the host while other such
/// tests run beside it (in this process, or another checkout's run on the same machine).
///
/// Every Enclave counts its workspace uids from the same first uid unless told otherwise, and removing a
/// workspace kills every process of its uid on the host: two tests on the default range killed each other's
/// tools (CI saw the git service's lighttpd vanish mid-test when another test deleted its workspace). Within
/// this process each plane gets the next block, so no two share a uid, pool or prefix; the starting block is
/// random, so another process's tests are unlikely to meet them either.
public struct ParallelHostPlane: Sendable {
    public var prefix: String
    public var addressPool: String
    public var firstWorkspaceUid: Int
    public var firstUserUid: Int

    /// Blocks of 100 uids starting at x25 (other tests' hand-picked ranges start at x00 or x50), below the
    /// per-user range: 1,200 blocks from 210,025; per-user uids likewise from 410,025.
    static let blocks = 1200
    private static let next = Mutex(Int.random(in: 0..<blocks))

    /// `letter` starts the names of the host objects (namespaces, veths, nft tables, cgroups).
    public static func make(_ letter: Character) -> ParallelHostPlane {
        let block = next.withLock { value in
            defer { value = (value + 1) % blocks }
            return value
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let prefix = String(letter) + String((0..<3).map { _ in letters.randomElement() ?? "x" })
        // 10.216.0.0–10.219.255.0: 1,024 /24s, so a block's pool differs from the next 1,023 blocks' pools.
        let pool = "10.\(216 + (block / 256) % 4).\(block % 256).0/24"
        return ParallelHostPlane(
            prefix: prefix, addressPool: pool, firstWorkspaceUid: 210_025 + block * 100, firstUserUid: 410_025 + block * 100)
    }

    /// Settings for an in-process `TestEnclave` on the host data plane.
    public var settings: DataPlaneSettings {
        DataPlaneSettings(
            mode: .host, addressPool: addressPool, namePrefix: prefix, firstWorkspaceUid: firstWorkspaceUid, firstUserUid: firstUserUid)
    }

    /// The same as `enclave serve` arguments.
    public var serveArguments: [String] {
        [
            "--data-plane", "host", "--address-pool", addressPool, "--data-plane-prefix", prefix,
            "--first-workspace-uid", "\(firstWorkspaceUid)", "--first-user-uid", "\(firstUserUid)",
        ]
    }
}
