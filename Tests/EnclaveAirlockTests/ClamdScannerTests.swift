// The clamd scanner against a real clamd running the tiny EICAR-only signature database.
import EnclaveAirlock
import EnclaveCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.enabled(if: ClamdSupport.shouldRun, "clamd tests: \(ClamdSupport.unavailableReason ?? "")"))
struct ClamdScannerTests {
    static let transports: [ClamdScanner.Transport] = [.fileDescriptor, .stream]

    func scanner(_ configuration: ClamdConfiguration, _ transport: ClamdScanner.Transport) -> ClamdScanner {
        ClamdScanner(
            configuration: .init(
                socketPath: configuration.socketPath, transport: transport, databaseDirectory: configuration.databaseDirectory))
    }

    @Test(arguments: transports)
    func cleanFileIsClean(transport: ClamdScanner.Transport) async throws {
        try await ClamdSupport.withClamd { _, configuration, directory in
            let path = directory + "/results.csv"
            try Data("region,count\nnorth,120\nsouth,95\n".utf8).write(to: URL(fileURLWithPath: path))
            #expect(await scanner(configuration, transport).scan(path: path) == .clean)
        }
    }

    @Test(arguments: transports)
    func eicarIsInfected(transport: ClamdScanner.Transport) async throws {
        try await ClamdSupport.withClamd { _, configuration, directory in
            let path = directory + "/eicar.com"
            try ClamdSupport.eicar.write(to: URL(fileURLWithPath: path))
            let verdict = await scanner(configuration, transport).scan(path: path)
            guard case .infected(let signature) = verdict else {
                Issue.record("expected a finding, got \(verdict)")
                return
            }
            #expect(signature.hasPrefix("Enclave.Test.EICAR"))
        }
    }

    @Test(arguments: transports)
    func eicarInsideANestedZipIsInfected(transport: ClamdScanner.Transport) async throws {
        try await ClamdSupport.withClamd { _, configuration, directory in
            let inner = StoredZip.make([("readme.txt", Data("nothing here".utf8)), ("eicar.com", ClamdSupport.eicar)])
            let outer = StoredZip.make([("notes.txt", Data("see inner.zip".utf8)), ("inner.zip", inner)])
            let path = directory + "/outputs.zip"
            try outer.write(to: URL(fileURLWithPath: path))
            let verdict = await scanner(configuration, transport).scan(path: path)
            guard case .infected(let signature) = verdict else {
                Issue.record("expected a finding inside the nested zip, got \(verdict)")
                return
            }
            #expect(signature.hasPrefix("Enclave.Test.EICAR"))
        }
    }

    /// dataplane.md §3 trap 1: a file over clamd's MaxFileSize must be a finding, never `OK` with nothing scanned.
    @Test(arguments: transports)
    func fileOverTheSizeLimitIsAFindingNotClean(transport: ClamdScanner.Transport) async throws {
        try await ClamdSupport.withClamd(perFileLimit: 1 << 20) { _, configuration, directory in
            let path = directory + "/large.bin"
            try ClamdSupport.sparseFile(at: path, size: 2 << 20)
            let verdict = await scanner(configuration, transport).scan(path: path)
            guard case .infected(let signature) = verdict else {
                Issue.record("expected a limit finding, got \(verdict)")
                return
            }
            #expect(signature.contains("Limits.Exceeded"))
        }
    }

    @Test
    func archiveNestedDeeperThanMaxRecursionIsAFinding() async throws {
        try await ClamdSupport.withClamd { _, configuration, directory in
            var archive = StoredZip.make([("clean.txt", Data("clean".utf8))])
            for level in 0..<(configuration.maxRecursion + 2) { archive = StoredZip.make([("level\(level).zip", archive)]) }
            let path = directory + "/deep.zip"
            try archive.write(to: URL(fileURLWithPath: path))
            let verdict = await scanner(configuration, .fileDescriptor).scan(path: path)
            guard case .infected(let signature) = verdict else {
                Issue.record("expected a recursion-limit finding, got \(verdict)")
                return
            }
            #expect(signature.contains("Limits.Exceeded"))
        }
    }

    @Test(arguments: transports)
    func clamdKilledMidScanIsUnscannable(transport: ClamdScanner.Transport) async throws {
        try await ClamdSupport.withClamd { daemon, configuration, directory in
            let path = directory + "/big.bin"
            try ClamdSupport.sparseFile(at: path, size: 512 << 20)
            let scanner = scanner(configuration, transport)
            let scan = Task { await scanner.scan(path: path) }
            try await Task.sleep(for: .milliseconds(300))
            let pid = try #require(await daemon.processIdentifier)
            kill(pid, SIGKILL)
            let verdict = await scan.value
            guard case .unscannable(let reason) = verdict else {
                Issue.record("expected unscannable after clamd died, got \(verdict)")
                return
            }
            #expect(reason.contains("clamd"))
        }
    }

    @Test
    func healthIsGoodWhileClamdRunsWithOnlyCustomSignatures() async throws {
        try await ClamdSupport.withClamd { _, configuration, _ in
            let scanner = scanner(configuration, .fileDescriptor)
            #expect(await scanner.healthProblem() == nil)
            let report = try await scanner.signatureReport().get()
            #expect(report.contains("no dated (official) database"))
            #expect(report.contains("enclave-test.ndb"))
        }
    }

    @Test
    func healthRequiringOfficialSignaturesReportsTheirAbsence() async throws {
        try await ClamdSupport.withClamd { _, configuration, _ in
            let scanner = ClamdScanner(configuration: .init(socketPath: configuration.socketPath, requireDatedSignatures: true))
            let problem = await scanner.healthProblem()
            #expect(problem?.contains("no dated signature database") == true)
        }
    }

    @Test
    func clamdStoppedMeansUnscannableAndAHealthProblem() async throws {
        let socketPath = try await ClamdSupport.withClamd { _, configuration, _ in configuration.socketPath }
        // The daemon has been stopped (SIGTERM) and its folder removed.
        for transport in Self.transports {
            let scanner = ClamdScanner(configuration: .init(socketPath: socketPath, transport: transport))
            let directory = try ClamdSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Data("hello".utf8).write(to: URL(fileURLWithPath: directory + "/a.txt"))
            let verdict = await scanner.scan(path: directory + "/a.txt")
            guard case .unscannable(let reason) = verdict else {
                Issue.record("expected unscannable, got \(verdict)")
                continue
            }
            #expect(reason.contains("unreachable"))
            let problem = await scanner.healthProblem()
            #expect(problem?.contains("unreachable") == true)
        }
    }
}

/// Scanner behaviour that needs no clamd: timeouts and the size pre-check.
struct ClamdScannerFailClosedTests {
    @Test
    func aClamdThatNeverAnswersTimesOutAsUnscannable() async throws {
        let directory = try ClamdSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socketPath = directory + "/silent.sock"
        // A listening socket nobody accepts on: connects succeed, no reply ever comes.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        try #require(listen(listener, 8) == 0)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: directory + "/a.txt"))
        for transport in ClamdScannerTests.transports {
            let scanner = ClamdScanner(configuration: .init(socketPath: socketPath, transport: transport, timeout: .milliseconds(300)))
            let verdict = await scanner.scan(path: directory + "/a.txt")
            guard case .unscannable(let reason) = verdict else {
                Issue.record("expected unscannable, got \(verdict)")
                continue
            }
            #expect(reason.contains("timed out"))
        }
    }

    @Test
    func aFileLargerThanClamdScansIsAFindingBeforeAnyBytesAreSent() async throws {
        let directory = try ClamdSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ClamdSupport.sparseFile(at: directory + "/big.bin", size: 4096)
        for transport in ClamdScannerTests.transports {
            let scanner = ClamdScanner(configuration: .init(socketPath: directory + "/none.sock", transport: transport, maxFileSize: 1024))
            let verdict = await scanner.scan(path: directory + "/big.bin")
            guard case .infected(let signature) = verdict else {
                Issue.record("expected a limit finding, got \(verdict)")
                continue
            }
            #expect(signature.hasPrefix("Heuristics.Limits.Exceeded.MaxFileSize"))
        }
    }

    @Test
    func aMissingSocketIsUnscannable() async {
        let scanner = ClamdScanner(configuration: .init(socketPath: "/nonexistent/enclave/clamd.sock"))
        let verdict = await scanner.scan(path: "/etc/hostname")
        #expect(verdict != .clean)
        #expect(await scanner.healthProblem() != nil)
    }
}
