import EnclaveCore
import EnclavePortal
import Foundation
import Testing

@Suite("Portal: airlock display helpers and the upload script's planning")
struct AirlockDisplayTests {
    @Test("every status has a badge colour and words; decided statuses read as outcomes")
    func statuses() {
        let classes = Dictionary(uniqueKeysWithValues: AirlockStatus.allCases.map { ($0, AirlockDisplay.statusClass($0)) })
        #expect(classes[.approved] == "ok")
        #expect(classes[.inReview] == "busy" && classes[.submitted] == "busy" && classes[.approvalInProgress] == "busy")
        #expect([.rejected, .blockedByScan, .failed, .revoked].allSatisfy { classes[$0] == "bad" })
        #expect(classes[.draft] == "neutral" && classes[.cancelled] == "neutral")
        #expect(AirlockDisplay.statusText(.blockedByScan) == "blocked by scan")
        #expect(AirlockStatus.allCases.allSatisfy { !AirlockDisplay.statusHint($0, type: .export).isEmpty })
        #expect(AirlockDisplay.scanClass("clean") == "ok")
        #expect(AirlockDisplay.scanClass("infected: Eicar-Signature") == "bad")
        #expect(AirlockDisplay.scanClass("not scanned (scanning is disabled)") == "busy")
        #expect(AirlockDisplay.scanClass(nil) == "neutral")
    }

    @Test("sizes and times for people", arguments: [
        (0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (10 * 1024, "10 KiB"),
        (3 * 1024 * 1024 * 1024, "3.0 GiB"),
    ])
    func sizes(_ count: Int, _ text: String) {
        #expect(AirlockDisplay.bytes(count) == text)
    }

    @Test func timesAreUTC() {
        #expect(AirlockDisplay.time(0) == "1970-01-01 00:00 UTC")
        #expect(AirlockDisplay.time(1_767_312_000.5) == "2026-01-02 00:00 UTC")
    }

    @Test("an output check's findings become a table: usual keys first, lists joined, other values as JSON, a limit with a count of the rest")
    func findingsTable() {
        let findings: [JSONValue] = [
            ["row": 2, "column": "count", "value": 3, "labels": ["b"], "rule": "threshold"],
            ["row": 5, "column": "count", "value": 0, "labels": ["c", "x"], "rule": "zero", "extra": ["nested": true]],
            "a bare note",
        ]
        let table = AirlockDisplay.FindingsTable(findings, limit: 2)
        #expect(table.columns == ["row", "column", "value", "labels", "rule", "extra"])
        #expect(table.rows == [["2", "count", "3", "b", "threshold", ""], ["5", "count", "0", "c, x", "zero", "nested: true"]])
        #expect(table.more == 1)
        let all = AirlockDisplay.FindingsTable(findings)
        #expect(all.columns.last == "finding")
        #expect(all.rows.last?.last == "a bare note")
        #expect(all.more == 0)
        let reasons: JSONValue = [["by": "header", "kind": "NHS number"], ["by": "values", "matching": 2]]
        #expect(AirlockDisplay.FindingsTable([["column": "nhs", "reasons": reasons]]).rows == [["nhs", "by: header, kind: NHS number; by: values, matching: 2"]])
    }

    static let node = ["/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The upload script's pure planning (its parts and where a resume starts), run by Node when the machine has it.
    @Test("the upload script plans Content-Range parts and resumes from the server's received bytes", .enabled(if: node != nil || ProcessInfo.processInfo.environment["CI"] == "true", "needs node (apt-get install nodejs)"))
    func uploadScriptPlanning() throws {
        let script = try #require(try PortalViews.load().assets["airlock-upload.js"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-upload-\(UUID().uuidString).js")
        try Data(script.bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let checks = """
            const assert = require("assert");
            const u = require(process.argv[1]);
            assert.deepStrictEqual(u.nextPart(0, 10, 4), { start: 0, end: 3, header: "bytes 0-3/10" });
            assert.deepStrictEqual(u.nextPart(8, 10, 4), { start: 8, end: 9, header: "bytes 8-9/10" });
            assert.strictEqual(u.nextPart(10, 10, 4), null);
            assert.strictEqual(u.nextPart(0, 0, 4), null);
            let offset = 0, parts = [];
            for (let p = u.nextPart(offset, 20000000, u.CHUNK); p; p = u.nextPart(p.end + 1, 20000000, u.CHUNK)) parts.push(p.header);
            assert.deepStrictEqual(parts, ["bytes 0-8388607/20000000", "bytes 8388608-16777215/20000000", "bytes 16777216-19999999/20000000"]);
            const listing = { files: [], uploads: [{ name: "big.bin", received: 400000 }, { name: "odd.bin", received: 50 }] };
            assert.strictEqual(u.resumeOffset(listing, "big.bin", 1000000), 400000);
            assert.strictEqual(u.resumeOffset(listing, "new.bin", 10), 0);
            assert.strictEqual(u.resumeOffset(listing, "odd.bin", 50), -1);
            assert.strictEqual(u.resumeOffset(listing, "odd.bin", 20), -1);
            assert.strictEqual(u.resumeOffset({}, "big.bin", 5), 0);
            assert.strictEqual(u.bytes(1536), "1.5 KiB");
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.node))
        process.arguments = ["-e", checks, file.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(message)")
    }
}
