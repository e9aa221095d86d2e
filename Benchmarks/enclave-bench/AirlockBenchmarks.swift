import ArgumentParser
import EnclaveAirlock
import EnclaveCore
import Foundation

/// Scanning one file through `ClamdScanner` against `clamdscan` on the same file and the same clamd,
/// alternating rounds in one run so the ratio shares the machine's noise (issue 5, Figures).
///
/// Start clamd with `DisableCache yes` (its clean-file cache makes repeated scans look fast) and limits
/// that cover the file; `clamdscan` is given a client config with the same socket and a
/// `StreamMaxLength` that covers the file (dataplane.md §3, trap 2).
struct AirlockScanBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock-scan", abstract: "Seconds per scan: ClamdScanner vs clamdscan on the same file and clamd.")

    @Option(help: "clamd's socket.") var socket: String
    @Option(help: "The file to scan.") var file: String
    @Option(help: "fd (zFILDES, clamdscan --fdpass) or stream (zINSTREAM, clamdscan --stream).") var transport: String = "fd"
    @Option(help: "Alternating rounds.") var rounds: Int = 3

    func run() async throws {
        let stream = transport == "stream"
        let scanner = ClamdScanner(configuration: .init(socketPath: socket, transport: stream ? .stream : .fileDescriptor))
        let clientConfig = NSTemporaryDirectory() + "enclave-bench-clamdscan.conf"
        try "LocalSocket \(socket)\nStreamMaxLength 4000M\n".write(toFile: clientConfig, atomically: true, encoding: .utf8)
        print("airlock-scan: \(file) via \(stream ? "zINSTREAM" : "zFILDES"), \(rounds) rounds")
        var ratios: [Double] = []
        for round in 1...rounds {
            let started = ContinuousClock.now
            let verdict = await scanner.scan(path: file)
            let ours = (ContinuousClock.now - started).seconds
            let clientStarted = ContinuousClock.now
            let (status, output) = try await Self.runClamdscan(
                ["--config-file=\(clientConfig)", stream ? "--stream" : "--fdpass", "--no-summary", file])
            let theirs = (ContinuousClock.now - clientStarted).seconds
            ratios.append(ours / theirs)
            print(
                String(format: "round %d: ClamdScanner %.3f s (%@), clamdscan %.3f s (exit %d: %@), ratio %.3f", round, ours, "\(verdict)",
                    theirs, status, output.trimmingCharacters(in: .whitespacesAndNewlines), ours / theirs))
        }
        print(String(format: "median ratio ClamdScanner / clamdscan: %.3f (goal <= 1.1)", ratios.sorted()[ratios.count / 2]))
    }

    /// Runs clamdscan without holding a thread while it runs (termination handler, not waitUntilExit).
    static func runClamdscan(_ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/clamdscan")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }
}

/// The frequency-table check on a generated long-form table (`a,b,count`, `side`×`side` rows): the
/// time `StatisticalOutputChecker` takes to read and check it, and the flagged cells written to a file
/// (`row-label,column-label` per line) to compare with ACRO's (`Benchmarks/acro_crosstab.py`).
struct AirlockChecksBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock-checks", abstract: "Output checks on a generated 1,000,000-row frequency table CSV.")

    @Option(help: "Distinct values per key column; rows = side × side.") var side: Int = 1000
    @Option(help: "Cells below this are flagged.") var threshold: Int = 10
    @Option(help: "Where to write the CSV.") var csv: String = NSTemporaryDirectory() + "enclave-bench-table.csv"
    @Option(help: "Where to write the flagged cells.") var flagged: String = NSTemporaryDirectory() + "enclave-bench-flagged.txt"
    @Option(help: "Timed rounds.") var rounds: Int = 3
    @Option(help: "Check this existing a,b,count CSV instead of generating one.") var input: String?

    func run() async throws {
        let text = try input.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? generate()
        let csv = input ?? self.csv
        if input == nil { try text.write(toFile: csv, atomically: false, encoding: .utf8) }
        try await runChecks(text: text, csv: csv)
    }

    func generate() -> String {
        var generator = SplitMix(seed: 42)
        var text = "a,b,count\n"
        text.reserveCapacity(side * side * 16)
        for a in 0..<side {
            for b in 0..<side {
                // Mostly large counts, some small and some zero, like a real sparse table.
                let roll = generator.next() % 100
                let count = roll < 2 ? 0 : roll < 10 ? Int(generator.next() % 10) : 10 + Int(generator.next() % 90)
                text += "a\(a),b\(b),\(count)\n"
            }
        }
        return text
    }

    func runChecks(text: String, csv: String) async throws {
        let size = text.utf8.count
        let file = AirlockFile(name: "table.csv", size: size, sha256: "")
        let parameters = OutputCheckParameters(threshold: threshold, maxRows: 5_000, checkIdentifiers: true)
        let checker = StatisticalOutputChecker()
        print("airlock-checks: \(text.utf8.count) bytes, \(size) bytes, threshold \(threshold)")
        var results: [OutputCheckResult] = []
        for round in 1...rounds {
            let started = ContinuousClock.now
            results = await checker.check(file: file, path: csv, allFiles: [file], directory: "/nonexistent", parameters: parameters)
            print(String(format: "round %d: %.3f s", round, (ContinuousClock.now - started).seconds))
        }
        guard let table = results.first(where: { $0.check == FrequencyTableCheck.name }) else { throw ValidationError("no frequency_table result") }
        print("frequency_table: \(table.summary)")
        // The listed findings are capped; recount every flagged cell from the file for the comparison.
        var cells: [String] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",")
            if let count = Int(fields[2]), count < threshold { cells.append("\(fields[0]),\(fields[1])") }
        }
        try (cells.sorted().joined(separator: "\n") + "\n").write(toFile: flagged, atomically: true, encoding: .utf8)
        print("flagged cells written to \(flagged): \(cells.count)")
    }
}

/// A small deterministic generator, so every run checks the same table.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
