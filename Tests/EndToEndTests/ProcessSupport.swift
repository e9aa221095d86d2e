import AsyncHTTPClient
import EnclaveCore
import EnclaveTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `enclave` binary built next to the tests (`swift build --build-tests` builds it).
enum EnclaveBinary {
    static var path: String {
        get throws {
            let candidates = [".build/debug/enclave", ".build/x86_64-unknown-linux-gnu/debug/enclave"]
                .map { TestPaths.repoRoot.appendingPathComponent($0).path }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw EnclaveError.internal("The enclave binary is not built: run `swift build --build-tests` first")
            }
            return found
        }
    }

    /// Runs `enclave` with arguments to completion, off the cooperative pool; returns stdout.
    static func run(_ arguments: [String]) async throws -> String {
        try await Blocking.run { try runSync(arguments) }
    }

    static func runSync(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EnclaveError.internal("enclave \(arguments.first ?? "") exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A running `enclave` process (serve or worker) with its output in a log file.
final class EnclaveProcess: @unchecked Sendable {
    let process = Process()
    let logFile: URL

    init(_ arguments: [String], log: URL) throws {
        logFile = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: try EnclaveBinary.path)
        process.arguments = arguments
        // Control-plane tests: isolate steps record allocations without touching the host's network
        // (the data plane's own tests in EnclaveLocalTests use the real host).
        var environment = ProcessInfo.processInfo.environment
        environment["ENCLAVE_DATA_PLANE"] = environment["ENCLAVE_DATA_PLANE"] ?? "simulated"
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGKILL: the process gets no chance to clean up, as when a machine or container dies.
    func kill9() async {
        kill(pid, SIGKILL)
        let process = self.process
        _ = try? await Blocking.run { process.waitUntilExit() }
    }

    /// SIGTERM without waiting (for `defer`, which cannot await).
    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// SIGTERM and wait, off the cooperative pool: a graceful shutdown. Returns the exit status.
    func stop() async -> Int32 {
        let process = self.process
        return (try? await Blocking.run { () -> Int32 in
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            return process.terminationStatus
        }) ?? -1
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
}

/// A free TCP port on loopback (bind to port 0 and read back what the kernel chose).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw EnclaveError.internal("cannot find a free port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Minimal JSON HTTP calls against a live server.
struct LiveAPI {
    let base: String
    let token: String

    struct Reply {
        let status: Int
        let location: String?
        let json: JSONValue
    }

    func call(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, headers extra: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json.description))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .string(String(buffer: body))
        return Reply(status: Int(response.status.code), location: response.headers.first(name: "Location"), json: value)
    }

    /// Waits until `GET /api/health` answers 200; returns the seconds it took.
    static func waitHealthy(_ base: String, timeout: Double = 30) async throws -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/api/health"), timeout: .seconds(2)),
                response.status == .ok
            {
                return Date().timeIntervalSince(start)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw EnclaveError.internal("\(base) did not become healthy within \(timeout) s")
    }

    func operation(_ location: String) async throws -> JSONValue {
        try await call(.GET, location).json["operation"] ?? .null
    }

    func waitFor(_ location: String, timeout: Double = 60, until done: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        var last: JSONValue = .null
        while Date() < deadline {
            last = try await operation(location)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("operation \(location) still \(last["status"] ?? .null) after \(timeout) s")
        return last
    }

    func waitTerminal(_ location: String, timeout: Double = 60) async throws -> JSONValue {
        try await waitFor(location, timeout: timeout) { op in
            op["status"]?.stringValue.flatMap(OperationStatus.init(rawValue:))?.isTerminal ?? false
        }
    }
}
