import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `enclave-bench startup`: `enclave serve` from exec to the first 200 from `/api/health`, and its idle RSS.
///
/// Runs the real binary as a child process, first with a fresh data dir each time (the server creates
/// the database, keys, and registers the templates), then repeatedly on one warm data dir. The probe
/// is a raw blocking socket, not AsyncHTTPClient: a pooled client backs off after refused connections
/// and would add its own delay to the figure. RSS is `VmRSS` from `/proc/PID/status` after `--settle`.
struct StartupBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup", abstract: "Time `enclave serve` to its first healthy answer; read its idle RSS.")

    @Option(help: "The enclave binary.") var enclave: String = ".build/release/enclave"
    @Option(help: "Directory of template folders passed to the server.") var templates: String = "Benchmarks/templates"
    @Option(help: "Scratch directory for the data dirs.") var workDir: String
    @Option(help: "Runs per case (fresh, warm).") var runs: Int = 5
    @Option(help: "Port the server listens on.") var port: Int = 8303
    @Option(help: "Seconds to wait after the first 200 before reading RSS.") var settle: Double = 1

    struct Sample {
        var milliseconds: Double
        var rssKiB: Int
    }

    func run() throws {
        var fresh: [Sample] = []
        for index in 0..<runs {
            fresh.append(try measure(dataDir: "\(workDir)/fresh-\(index)"))
        }
        let warmDir = "\(workDir)/warm"
        _ = try measure(dataDir: warmDir)  // creates it; not counted
        var warm: [Sample] = []
        for _ in 0..<runs { warm.append(try measure(dataDir: warmDir)) }
        print(Self.line("fresh data dir", fresh))
        print(Self.line("warm data dir ", warm))
    }

    static func line(_ label: String, _ samples: [Sample]) -> String {
        let ms = samples.map(\.milliseconds).sorted()
        let rss = samples.map { Double($0.rssKiB) / 1024 }.sorted()
        let runs = samples.map { String(format: "%.0f", $0.milliseconds) }.joined(separator: " ")
        return String(
            format: "startup %@: median %.0f ms (min %.0f, max %.0f; runs: %@ ms), idle RSS median %.1f MiB (max %.1f)",
            label, median(ms), ms.first ?? 0, ms.last ?? 0, runs, median(rss), rss.last ?? 0)
    }

    static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    func measure(dataDir: String) throws -> Sample {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: enclave)
        process.arguments = ["serve", "--data-dir", dataDir, "--port", "\(port)", "--templates", templates]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        while HealthProbe.status(port: port) != 200 {
            guard process.isRunning else { throw BenchError("enclave serve exited (status \(process.terminationStatus))") }
            guard clock.now - start < .seconds(30) else { throw BenchError("no 200 from /api/health within 30 s") }
            usleep(2000)
        }
        let elapsed = clock.now - start
        usleep(UInt32(settle * 1_000_000))
        guard let rss = Self.residentKiB(pid: process.processIdentifier) else {
            throw BenchError("Cannot read VmRSS of \(process.processIdentifier)")
        }
        return Sample(milliseconds: elapsed.seconds * 1000, rssKiB: rss)
    }

    /// `VmRSS` of a process in KiB, from `/proc/PID/status` (Linux only).
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}

/// A one-shot `GET /api/health` over a fresh blocking socket.
enum HealthProbe {
    /// The status code, or nil while nothing accepts connections on the port (or the answer is not HTTP).
    static func status(port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard received >= 12 else { return nil }
        // "HTTP/1.1 200 OK": the code is bytes 9..<12.
        return Int(String(decoding: buffer[9..<12], as: UTF8.self))
    }
}
