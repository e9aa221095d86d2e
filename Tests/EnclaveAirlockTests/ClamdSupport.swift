// Starts a real clamd with the tiny test signature database (Tests/Fixtures/clamav) for one test.
import EnclaveAirlock
import EnclaveCore
import Foundation

enum ClamdSupport {
    /// Tests/Fixtures/clamav, found relative to this file.
    static let databaseDirectory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clamav").path

    /// Why clamd tests cannot run here, or nil.
    static let unavailableReason: String? = ClamdDaemon.locate() == nil ? "clamd is not installed (apt-get install clamav-daemon)" : nil

    /// Skipped locally with the reason; never skipped under CI=true, where a missing clamd fails.
    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// The EICAR test file's 68 bytes, assembled here so that the repository holds no file antivirus tools flag.
    static var eicar: Data {
        let first = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$"#
        let second = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
        return Data((first + second).utf8)
    }

    static func temporaryDirectory() throws -> String {
        let path = "/tmp/enclave-clamd-" + String(UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `body` with a clamd of its own (limits from `perFileLimit`), then stops it and removes its folder.
    static func withClamd<T: Sendable>(
        perFileLimit: Int = 1 << 30, _ body: @Sendable (ClamdDaemon, ClamdConfiguration, String) async throws -> T
    ) async throws -> T {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = ClamdDaemon.configuration(
            directory: directory + "/clamd", databaseDirectory: databaseDirectory, perFileLimit: perFileLimit)
        let daemon = ClamdDaemon(configuration: configuration, configPath: directory + "/clamd/clamd.conf")
        let task = Task { try await daemon.run() }
        if let problem = await daemon.waitUntilReady(timeout: .seconds(120)) {
            task.cancel()
            _ = await task.result
            throw ClamdFailure("clamd did not start: \(problem)")
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(daemon, configuration, directory))
        } catch {
            result = .failure(error)
        }
        task.cancel()
        _ = await task.result
        return try result.get()
    }

    /// A sparse file of `size` zero bytes (no disk used; clamd still reads every byte).
    static func sparseFile(at path: String, size: Int) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }
}

/// A minimal zip writer (stored entries, no compression): enough to nest archives for the scanner tests
/// without depending on a zip tool being installed.
enum StoredZip {
    static func make(_ entries: [(name: String, data: Data)]) -> Data {
        var archive = Data()
        var central = Data()
        for (name, data) in entries {
            let offset = UInt32(archive.count)
            let crc = crc32(data)
            let nameBytes = Data(name.utf8)
            var local = Data()
            local.append(le32(0x0403_4b50)); local.append(le16(20)); local.append(le16(0)); local.append(le16(0))
            local.append(le16(0)); local.append(le16(0x21))
            local.append(le32(crc)); local.append(le32(UInt32(data.count))); local.append(le32(UInt32(data.count)))
            local.append(le16(UInt16(nameBytes.count))); local.append(le16(0))
            archive.append(local); archive.append(nameBytes); archive.append(data)
            var header = Data()
            header.append(le32(0x0201_4b50)); header.append(le16(20)); header.append(le16(20)); header.append(le16(0))
            header.append(le16(0)); header.append(le16(0)); header.append(le16(0x21))
            header.append(le32(crc)); header.append(le32(UInt32(data.count))); header.append(le32(UInt32(data.count)))
            header.append(le16(UInt16(nameBytes.count))); header.append(le16(0)); header.append(le16(0)); header.append(le16(0))
            header.append(le16(0)); header.append(le32(0)); header.append(le32(offset))
            central.append(header); central.append(nameBytes)
        }
        let centralOffset = UInt32(archive.count)
        archive.append(central)
        var end = Data()
        end.append(le32(0x0605_4b50)); end.append(le16(0)); end.append(le16(0))
        end.append(le16(UInt16(entries.count))); end.append(le16(UInt16(entries.count)))
        end.append(le32(UInt32(central.count))); end.append(le32(centralOffset)); end.append(le16(0))
        archive.append(end)
        return archive
    }

    static func le16(_ value: UInt16) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }
    static func le32(_ value: UInt32) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }

    static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }
}
