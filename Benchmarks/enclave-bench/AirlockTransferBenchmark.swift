import AsyncHTTPClient
import ArgumentParser
import EnclaveAPI
import EnclaveAuth
import EnclaveCore
import EnclaveServer
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOFileSystem
import ServiceLifecycle

/// `enclave-bench airlock-transfer`: a file uploaded into an airlock draft and downloaded back through the API,
/// against `dd` copying (with fsync, as the upload syncs) and reading (page cache dropped before each read) the same
/// file on the same disk, in one run; plus the process's peak RSS
/// growth while uploading (VmHWM, reset through /proc/self/clear_refs before the upload).
///
/// The client is in the same process (AsyncHTTPClient streaming the file from disk and discarding the download),
/// so the RSS figure counts client and server together: an upper bound for the server alone.
struct AirlockTransferBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock-transfer", abstract: "Airlock upload and download through the API vs dd on the same disk, and RSS growth.")

    @Option(help: "File size in MiB.") var sizeMib: Int = 1024
    @Option(help: "Directory for the data dir and the source file (on the disk to measure).") var work: String = "/var/tmp"
    @Option(help: "Templates directory.") var templates: String = "Benchmarks/templates"
    @Option(help: "Port for Enclave.") var port: Int = 18450

    func run() async throws {
        let root = URL(fileURLWithPath: work).appendingPathComponent("enclave-bench-airlock-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("source.bin").path
        let bytes = sizeMib << 20
        // Source file: pseudo-random bytes written once (not zeros, which some layers compress or skip).
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(source), options: .newFile(replaceExisting: true)) { handle in
            var writer = handle.bufferedWriter(capacity: .mebibytes(4))
            var block = [UInt8](repeating: 0, count: 1 << 20)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for _ in 0..<sizeMib {
                for index in stride(from: 0, to: block.count, by: 8) {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    withUnsafeBytes(of: state) { for offset in 0..<8 { block[index + offset] = $0[offset] } }
                }
                _ = try await writer.write(contentsOf: block)
            }
            try await writer.flush()
        }
        var logger = Logger(label: "enclave")
        logger.logLevel = .warning
        let config = ServerConfiguration(
            dataDir: root.appendingPathComponent("data").path, port: port, workers: 1, templatesDir: templates, logLevel: .warning,
            airlock: AirlockServerSettings(scanner: .none))
        let deps = try await buildDependencies(config, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [try buildApplication(deps)], logger: logger))
        let issuer = TokenIssuer(key: deps.signingKey, issuer: config.issuer, audience: config.settings.audience)
        let token = try await issuer.token(for: User(id: "bench", name: "Bench", email: "bench@localhost", roles: ["TREAdmin"]), ttl: 24 * 3600)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let base = "http://127.0.0.1:\(port)"
            let api = EnclaveClient(baseURL: base, token: token)
            try await BenchAPI.waitUntilHealthy(api, timeout: .seconds(30))
            let ws = try await BenchAPI.createWorkspace(api, template: "bench-noop", timeout: .seconds(60))
            let created = try await api.post("/api/workspaces/\(ws)/requests", body: Data(#"{"type":"import"}"#.utf8))
            guard created.status == 201, let rid = (try? JSONValue.parse(Array(created.body)))?["airlockRequest"]?["id"]?.stringValue else {
                throw BenchError("creating the request gave \(created.status): \(String(decoding: created.body, as: UTF8.self))")
            }
            let url = "\(base)/api/workspaces/\(ws)/requests/\(rid)/files/data.bin"
            let client = HTTPClient(eventLoopGroupProvider: .singleton)

            // Upload, with the peak RSS reset first.
            let rssBefore = Self.status("VmRSS")
            try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
            var put = HTTPClientRequest(url: url)
            put.method = .PUT
            put.headers.add(name: "Authorization", value: "Bearer \(token)")
            let uploadStart = ContinuousClock.now
            let uploadStatus = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(source)) { handle in
                put.body = .stream(handle.readChunks(in: 0..<Int64(bytes), chunkLength: .mebibytes(1)), length: .known(Int64(bytes)))
                return try await client.execute(put, timeout: .hours(1)).status.code
            }
            let upload = ContinuousClock.now - uploadStart
            let peak = Self.status("VmHWM")
            guard uploadStatus == 201 else { throw BenchError("upload gave \(uploadStatus)") }

            // Download from the disk, not the page cache (as dd below): drop the caches first (root).
            Self.dropCaches()
            // Download: as the owner of a draft, discarding the bytes.
            var get = HTTPClientRequest(url: url)
            get.headers.add(name: "Authorization", value: "Bearer \(token)")
            let downloadStart = ContinuousClock.now
            let response = try await client.execute(get, timeout: .hours(1))
            var received = 0
            for try await chunk in response.body { received += chunk.readableBytes }
            let download = ContinuousClock.now - downloadStart
            guard received == bytes else { throw BenchError("download gave \(received) of \(bytes) bytes") }
            try await client.shutdown()
            // The same download by curl in its own process, so the client does not share this process's threads.
            var curlDownload: Duration?
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") {
                Self.dropCaches()
                curlDownload = try Self.time(["/usr/bin/curl", "-sf", "-o", "/dev/null", "-H", "Authorization: Bearer \(token)", url])
            }

            // dd on the same disk: copy (read + write, as the upload does) and read.
            let copy = root.appendingPathComponent("dd-copy.bin").path
            // conv=fsync: on disk before dd ends, as the upload syncs before it answers.
            let ddCopy = try Self.time(["/bin/dd", "if=\(source)", "of=\(copy)", "bs=1M", "conv=fsync", "status=none"])
            Self.dropCaches()
            let ddRead = try Self.time(["/bin/dd", "if=\(copy)", "of=/dev/null", "bs=1M", "status=none"])
            let mib = Double(sizeMib)
            func rate(_ d: Duration) -> Double { mib / Self.seconds(d) }
            print(String(format: "size %d MiB", sizeMib))
            print(String(format: "upload   %.2f s  %.0f MiB/s   dd copy %.2f s  %.0f MiB/s   ratio %.2f", Self.seconds(upload), rate(upload), Self.seconds(ddCopy), rate(ddCopy), rate(upload) / rate(ddCopy)))
            print(String(format: "download %.2f s  %.0f MiB/s   dd read %.2f s  %.0f MiB/s   ratio %.2f", Self.seconds(download), rate(download), Self.seconds(ddRead), rate(ddRead), rate(download) / rate(ddRead)))
            if let curlDownload {
                print(String(format: "download by curl %.2f s  %.0f MiB/s   ratio to dd read %.2f", Self.seconds(curlDownload), rate(curlDownload), rate(curlDownload) / rate(ddRead)))
            }
            print("RSS before upload \(rssBefore / 1024) MiB, peak during upload \(peak / 1024) MiB, growth \((peak - rssBefore) / 1024) MiB")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Empties the page cache so reads come from the disk (needs root; without it reads may be cached for both sides).
    static func dropCaches() {
        _ = try? time(["/bin/sync"])
        try? "3".write(toFile: "/proc/sys/vm/drop_caches", atomically: false, encoding: .utf8)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// A `/proc/self/status` field in KiB.
    static func status(_ field: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    static func time(_ argv: [String]) throws -> Duration {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        return ContinuousClock.now - start
    }
}
