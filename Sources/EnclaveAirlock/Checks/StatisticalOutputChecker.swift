public import EnclaveCore
import Foundation
import NIOCore
import NIOFileSystem

/// The output checks Enclave runs on exports: reads each file once, streamed, and hands its bytes to
/// the pure rules in `EnclaveCore` (`TabularOutputChecks` for CSV/TSV, `AcroResultsCheck` for ACRO's
/// `results.json`). Other files get no automated check: reviewers look at them.
public struct StatisticalOutputChecker: OutputChecker {
    /// `results.json` larger than this is not parsed (ACRO's records are kilobytes to a few megabytes).
    public static let maxResultsBytes = 64 << 20

    public init() {}

    public func check(
        file: AirlockFile, path: String, allFiles: [AirlockFile], directory: String, parameters: OutputCheckParameters
    ) async -> [OutputCheckResult] {
        if AcroResultsCheck.applies(toFileName: file.name) {
            return [await acro(path: path, allFiles: allFiles, directory: directory)]
        }
        guard TabularOutputChecks.applies(toFileName: file.name) else { return [] }
        var checks = TabularOutputChecks(parameters: parameters)
        var parser = CSVParser(delimiter: TabularOutputChecks.delimiter(forFileName: file.name))
        var bytes = 0
        do {
            try await AirlockFiles.fileSystem.withFileHandle(forReadingAt: FilePath(path)) { handle in
                for try await chunk in handle.readChunks(chunkLength: .mebibytes(1)) {
                    bytes += chunk.readableBytes
                    chunk.withUnsafeReadableBytes { raw in parser.feed(raw) { checks.add($0) } }
                }
            }
            parser.finish { checks.add($0) }
        } catch {
            return [
                OutputCheckResult(
                    check: "read", parameters: .null, verdict: .fail,
                    summary: "The file could not be read for the output checks: \(error)")
            ]
        }
        return checks.results(bytes: bytes)
    }

    private func acro(path: String, allFiles: [AirlockFile], directory: String) async -> OutputCheckResult {
        let data: Data
        do {
            let buffer = try await AirlockFiles.fileSystem.withFileHandle(forReadingAt: FilePath(path)) { handle in
                try await handle.readToEnd(maximumSizeAllowed: .bytes(Int64(Self.maxResultsBytes)))
            }
            data = Data(buffer.readableBytesView)
        } catch {
            return OutputCheckResult(
                check: AcroResultsCheck.name, parameters: .null, verdict: .fail,
                summary: "results.json could not be read (larger than \(Self.maxResultsBytes >> 20) MiB, or unreadable): \(error)")
        }
        return AcroResultsCheck.result(json: data, files: allFiles, checksums: Self.acroChecksums(directory: directory))
    }

    /// ACRO's `checksums/<file>.txt` (each holding a SHA-256) when the request's files keep that folder.
    static func acroChecksums(directory: String) -> [String: String] {
        let folder = directory + "/checksums"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [:] }
        var checksums: [String: String] = [:]
        for name in names where name.hasSuffix(".txt") {
            guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else { continue }
            let digest = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
            checksums[String(name.dropLast(4))] = digest
        }
        return checksums
    }
}
