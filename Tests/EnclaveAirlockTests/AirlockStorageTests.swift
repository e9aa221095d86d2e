// Streamed uploads into the airlock's stages: resumption, limits, and a disk that fills up (root: a small tmpfs).
import Crypto
import EnclaveAirlock
import EnclaveCore
import Foundation
import NIOCore
import Testing

/// Bytes as the HTTP server hands them over: a sequence of buffers.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let sizes: [Int]
    let byte: UInt8

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: [Int]
        let byte: UInt8
        mutating func next() async -> ByteBuffer? {
            guard !remaining.isEmpty else { return nil }
            return ByteBuffer(repeating: byte, count: remaining.removeFirst())
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: sizes, byte: byte) }
}

enum TmpfsSupport {
    static let unavailableReason: String? = getuid() == 0 ? nil : "not root (mounting a small tmpfs needs root)"
    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    static func run(_ argv: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Airlock storage")
struct AirlockStorageTests {
    func storage(limits: AirlockLimits = AirlockLimits(minFreeBytes: 0)) throws -> AirlockStorage {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-\(UUID().uuidString.prefix(8))").path
        let storage = AirlockStorage(root: root, limits: limits)
        try storage.prepare()
        return storage
    }

    @Test("a whole upload is hashed while it streams and published into the draft; the stage directories are private")
    func wholeUpload() async throws {
        let storage = try storage()
        defer { try? FileManager.default.removeItem(atPath: storage.root) }
        let received = try await storage.receive(
            requestId: "r1", name: "a.bin", range: nil, declaredLength: 3 << 20, otherFilesBytes: 0, body: Chunks(sizes: [1 << 20, 1 << 20, 1 << 20], byte: 7))
        guard case .complete(let file) = received else { Issue.record("not complete: \(received)"); return }
        #expect(file.size == 3 << 20)
        #expect(file.sha256 == "\(SHA256Hex.of(repeating: 7, count: 3 << 20))")
        try storage.publish(requestId: "r1", name: "a.bin")
        #expect(storage.files(requestId: "r1", stage: .draft) == ["a.bin"])
        let mode = try FileManager.default.attributesOfItem(atPath: "\(storage.root)/draft")[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test("limits: a declared size over the per-file or per-request limit is refused before any byte is stored; so is a body that grows past it")
    func limits() async throws {
        let storage = try storage(limits: AirlockLimits(maxFileBytes: 1000, maxRequestBytes: 1500, minFreeBytes: 0))
        defer { try? FileManager.default.removeItem(atPath: storage.root) }
        await #expect(throws: EnclaveError.self) {
            try await storage.receive(requestId: "r", name: "big", range: nil, declaredLength: 1001, otherFilesBytes: 0, body: Chunks(sizes: [1001], byte: 1))
        }
        await #expect(throws: EnclaveError.self) {
            try await storage.receive(requestId: "r", name: "sum", range: nil, declaredLength: 600, otherFilesBytes: 1000, body: Chunks(sizes: [600], byte: 1))
        }
        // No Content-Length (chunked): stopped while streaming, and the part removed.
        await #expect(throws: EnclaveError.self) {
            try await storage.receive(requestId: "r", name: "grows", range: nil, declaredLength: nil, otherFilesBytes: 0, body: Chunks(sizes: [600, 600], byte: 1))
        }
        #expect(storage.partialUploads(requestId: "r").isEmpty)
    }

    @Test("a disk that fills during an upload: a clear 507, and no partial file is left", .enabled(if: TmpfsSupport.shouldRun, "\(TmpfsSupport.unavailableReason ?? "")"))
    func diskFull() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-full-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try TmpfsSupport.run(["/bin/mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]) == 0)
        defer {
            _ = try? TmpfsSupport.run(["/bin/umount", mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        let storage = AirlockStorage(root: mountPoint + "/airlock", limits: AirlockLimits(minFreeBytes: 0))
        try storage.prepare()
        // The size is unknown up front (no Content-Length), so the disk fills while the bytes stream.
        do {
            _ = try await storage.receive(
                requestId: "r", name: "huge.bin", range: nil, declaredLength: nil, otherFilesBytes: 0, body: Chunks(sizes: Array(repeating: 1 << 20, count: 8), byte: 3))
            Issue.record("an 8 MiB upload fitted on a 4 MiB disk")
        } catch let error as EnclaveError {
            #expect(error.kind == .insufficientStorage, "\(error)")
            #expect(error.message.contains("disk is full"))
        }
        #expect(storage.partialUploads(requestId: "r").isEmpty, "the part was deleted")
        #expect(storage.files(requestId: "r", stage: .draft).isEmpty)
        // Announced sizes that do not fit are refused before a byte is written.
        let storageWithReserve = AirlockStorage(root: mountPoint + "/airlock", limits: AirlockLimits(minFreeBytes: 1 << 20))
        do {
            _ = try await storageWithReserve.receive(
                requestId: "r", name: "announced.bin", range: nil, declaredLength: 8 << 20, otherFilesBytes: 0, body: Chunks(sizes: [1], byte: 3))
            Issue.record("an announced 8 MiB upload was accepted on a 4 MiB disk")
        } catch let error as EnclaveError {
            #expect(error.kind == .insufficientStorage)
        }
        #expect(storage.partialUploads(requestId: "r").isEmpty)
    }
}

enum SHA256Hex {
    static func of(repeating byte: UInt8, count: Int) -> String {
        SHA256.hash(data: [UInt8](repeating: byte, count: count)).map { String(format: "%02x", $0) }.joined()
    }
}
