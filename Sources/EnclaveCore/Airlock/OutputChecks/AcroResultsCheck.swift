import Foundation

/// Reads ACRO's `results.json` (field.md §6.3) shipped with an export: shows ACRO's verdict for each
/// output, and verifies that every file it lists was uploaded with the bytes ACRO saw.
///
/// ACRO 0.4+ writes `{"version", "results": {<output id>: {uid, status, type, properties, files:
/// [{name, sdc}], outcome, command, summary, timestamp, comments, exception}}}` and the SHA-256 of each
/// file in `checksums/<file>.txt`; a `sha256` on the file entry is accepted too. A listed file that is
/// missing, or whose bytes differ, is a `fail`: ACRO's verdicts would describe something else than what
/// is released. ACRO's own `fail`/`review` statuses are shown for the reviewer and make the check `review`.
public enum AcroResultsCheck {
    public static let name = "acro"
    public static let fileName = "results.json"

    /// Whether `name` is an ACRO results file.
    public static func applies(toFileName name: String) -> Bool { name.lowercased() == fileName }

    /// - Parameters:
    ///   - json: the bytes of `results.json`.
    ///   - files: the request's files, with the SHA-256 Enclave computed while they streamed in.
    ///   - checksums: expected SHA-256 by file name, from ACRO's `checksums/<file>.txt` when available.
    public static func result(json: Data, files: [AirlockFile], checksums: [String: String] = [:]) -> OutputCheckResult {
        let parameters = JSONValue.object(["verifies": .string("sha256 of every listed file")])
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: json), let root = document.objectValue else {
            return OutputCheckResult(
                check: name, parameters: parameters, verdict: .fail, summary: "results.json is not valid JSON: ACRO's record cannot be checked.")
        }
        // ACRO 0.4+ wraps the outputs in "results"; earlier versions wrote them at the top level.
        let outputs = root["results"]?.objectValue ?? root.filter { $0.value["status"] != nil }
        let byName = Dictionary(files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var findings: [JSONValue] = []
        var broken = 0
        var unverified = 0
        var flagged = 0
        for (id, output) in outputs.sorted(by: { $0.key < $1.key }) {
            let status = output["status"]?.stringValue ?? "unknown"
            if status != "pass" { flagged += 1 }
            var fileFindings: [JSONValue] = []
            for entry in output["files"]?.arrayValue ?? [] {
                guard let listed = entry["name"]?.stringValue ?? entry.stringValue else { continue }
                let base = String(listed.split(separator: "/").last ?? Substring(listed))
                let expected = (entry["sha256"]?.stringValue ?? checksums[base])?.lowercased().trimmed
                var record: [String: JSONValue] = ["name": .string(base)]
                if let uploaded = byName[base] {
                    if let expected, !expected.isEmpty {
                        let matches = expected == uploaded.sha256.lowercased()
                        record["integrity"] = .string(matches ? "verified" : "mismatch")
                        if !matches {
                            record["expected"] = .string(expected)
                            record["actual"] = .string(uploaded.sha256)
                            broken += 1
                        }
                    } else {
                        record["integrity"] = .string("unverified (ACRO recorded no checksum)")
                        unverified += 1
                    }
                } else {
                    record["integrity"] = .string("missing from the request")
                    broken += 1
                }
                if let sdc = entry["sdc"]?["summary"] { record["sdc"] = sdc }
                fileFindings.append(.object(record))
            }
            var finding: [String: JSONValue] = [
                "output": .string(id), "status": .string(status), "type": output["type"] ?? .null,
                "summary": output["summary"] ?? .null, "files": .array(fileFindings),
            ]
            if let exception = output["exception"]?.stringValue, !exception.isEmpty { finding["exception"] = .string(exception) }
            if let comments = output["comments"], comments != .null, comments != .array([]) { finding["comments"] = comments }
            findings.append(.object(finding))
        }
        let version = root["version"]?.stringValue.map { "ACRO \($0)" } ?? "ACRO"
        if broken > 0 {
            return OutputCheckResult(
                check: name, parameters: parameters, verdict: .fail,
                summary: "\(version) lists \(broken) file(s) missing from the request or with different bytes: its verdicts do not describe what is released.",
                findings: findings)
        }
        if flagged > 0 || unverified > 0 {
            var parts: [String] = []
            if flagged > 0 { parts.append("\(flagged) of \(outputs.count) output(s) not passed by ACRO") }
            if unverified > 0 { parts.append("\(unverified) file(s) without a checksum to verify") }
            return OutputCheckResult(
                check: name, parameters: parameters, verdict: .review, summary: "\(version): " + parts.joined(separator: "; ") + ".",
                findings: findings)
        }
        return OutputCheckResult(
            check: name, parameters: parameters, verdict: .pass,
            summary: "\(version): all \(outputs.count) output(s) passed, every listed file verified.", findings: findings)
    }
}
