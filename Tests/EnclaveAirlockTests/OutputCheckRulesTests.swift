// The pure output-check rules (EnclaveCore), on small inputs.
import EnclaveCore
import Foundation
import Testing

func parse(_ text: String, delimiter: UInt8 = UInt8(ascii: ",")) -> [[String]] {
    var parser = CSVParser(delimiter: delimiter)
    var rows: [[String]] = []
    parser.feed(text) { rows.append($0.strings) }
    parser.finish { rows.append($0.strings) }
    return rows
}

func tabular(_ text: String, parameters: OutputCheckParameters = OutputCheckParameters(), name: String = "t.csv") -> [OutputCheckResult] {
    var checks = TabularOutputChecks(parameters: parameters)
    var parser = CSVParser(delimiter: TabularOutputChecks.delimiter(forFileName: name))
    parser.feed(text) { checks.add($0) }
    parser.finish { checks.add($0) }
    return checks.results(bytes: text.utf8.count)
}

struct CSVParserTests {
    @Test
    func quotedFieldsKeepCommasNewlinesAndDoubledQuotes() {
        let rows = parse("name,note\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\nplain,x")
        #expect(rows == [["name", "note"], ["Smith, J", "said \"hi\"\nthen left"], ["plain", "x"]])
    }

    @Test
    func byteOrderMarkAndCRLFAreNotData() {
        let rows = parse("\u{FEFF}a,b\r\n1,2\r\n\r\n3,4\r\n")
        #expect(rows == [["a", "b"], ["1", "2"], ["3", "4"]])
    }

    @Test
    func recordsSplitAcrossChunksParseTheSame() {
        let text = "a,\"b\r\nc\",d\r\n1,2,3\r\n"
        var parser = CSVParser()
        var rows: [[String]] = []
        for byte in Array(text.utf8) { [byte].withUnsafeBytes { parser.feed($0) { rows.append($0.strings) } } }
        parser.finish { rows.append($0.strings) }
        #expect(rows == [["a", "b\r\nc", "d"], ["1", "2", "3"]])
    }

    @Test
    func tabsSeparateTSV() {
        #expect(parse("a\tb\n1,5\t2\n", delimiter: UInt8(ascii: "\t")) == [["a", "b"], ["1,5", "2"]])
    }

    @Test
    func integersParseWithoutStrings() {
        let record = CSVRecord([" 12 ", "-3", "1.5", "", "x"])
        #expect(record.integer(0) == 12)
        #expect(record.integer(1) == -3)
        #expect(record.integer(2) == nil)
        #expect(record.integer(3) == nil)
        #expect(record.integer(4) == nil)
    }
}

struct FrequencyTableCheckTests {
    func frequency(_ text: String, threshold: Int = 10) -> OutputCheckResult {
        tabular(text, parameters: OutputCheckParameters(threshold: threshold)).first { $0.check == "frequency_table" } ?? OutputCheckResult(
            check: "missing", parameters: .null, verdict: .fail, summary: "")
    }

    @Test
    func smallCellsAndZerosInACountColumnAreFlaggedWithRowColumnAndValue() {
        let result = frequency("region,sex,count\nnorth,f,120\nnorth,m,4\nsouth,f,0\nsouth,m,55\n")
        #expect(result.verdict == .review)
        #expect(result.findings.count == 2)
        #expect(result.findings[0]["row"] == .int(2))
        #expect(result.findings[0]["column"] == .string("count"))
        #expect(result.findings[0]["value"] == .int(4))
        #expect(result.findings[0]["labels"] == .array([.string("north"), .string("m")]))
        #expect(result.findings[1]["rule"] == .string("zero"))
    }

    @Test
    func aCrosstabOfCountsIsFlaggedCellByCell() {
        let result = frequency("region,female,male\nnorth,25,9\nsouth,30,31\n")
        #expect(result.verdict == .review)
        #expect(result.findings.count == 1)
        #expect(result.findings[0]["column"] == .string("male"))
        #expect(result.findings[0]["labels"] == .array([.string("north")]))
    }

    @Test
    func aTableWithoutSmallCellsPasses() {
        #expect(frequency("group,n\na,10\nb,11\n").verdict == .pass)
    }

    @Test
    func theThresholdIsAParameter() {
        #expect(frequency("group,n\na,10\nb,11\n", threshold: 11).findings.count == 1)
    }

    @Test
    func rowLevelDataIsNotTakenForATable() {
        let result = frequency("name,age\nann,34\nbob,5\n")
        #expect(result.verdict == .pass)
        #expect(result.summary.contains("Not a frequency table"))
    }
}

struct IdentifierCheckTests {
    @Test(arguments: [
        ("nhs_number", IdentifierCheck.Kind.nhsNumber), ("Date of Birth", .dateOfBirth), ("DOB", .dateOfBirth), ("postcode", .postcode),
        ("Email", .email), ("surname", .personName), ("patient_id", .key), ("id", .key),
    ])
    func headersNameTheirKind(header: String, kind: IdentifierCheck.Kind) {
        #expect(IdentifierCheck.headerKind(header) == kind)
    }

    @Test
    func harmlessHeadersAreNotIdentifiers() {
        for header in ["region", "count", "age_band", "valid", "paid"] { #expect(IdentifierCheck.headerKind(header) == nil) }
    }

    @Test
    func nhsNumbersNeedTheirModulus11CheckDigit() {
        #expect(IdentifierCheck.isNHSNumber("943 476 5919"))
        #expect(IdentifierCheck.isNHSNumber("9434765919"))
        #expect(!IdentifierCheck.isNHSNumber("9434765918"))
        #expect(!IdentifierCheck.isNHSNumber("123456789"))
    }

    @Test
    func postcodesEmailsAndDatesAreRecognised() {
        #expect(IdentifierCheck.isUKPostcode("SW1A 1AA"))
        #expect(IdentifierCheck.isUKPostcode("m1 1ae"))
        #expect(!IdentifierCheck.isUKPostcode("north"))
        #expect(IdentifierCheck.isEmail("a.b@example.org"))
        #expect(!IdentifierCheck.isEmail("a@b"))
        #expect(IdentifierCheck.isDate("1980-02-29"))
        #expect(IdentifierCheck.isDate("29/02/1980"))
        #expect(!IdentifierCheck.isDate("2024-13-01"))
    }

    @Test
    func columnsAreFlaggedByHeaderAndByValues() {
        let results = tabular("ref,contact,region,count\n9434765919,a@x.org,north,12\n4010232137,b@y.org,south,15\n")
        let identifiers = results.first { $0.check == "identifiers" }
        #expect(identifiers?.verdict == .review)
        let columns = identifiers?.findings.compactMap { $0["column"]?.stringValue }
        #expect(columns == ["ref", "contact"])
    }

    @Test
    func identifierChecksCanBeTurnedOff() {
        let results = tabular("email\na@x.org\n", parameters: OutputCheckParameters(checkIdentifiers: false))
        #expect(!results.contains { $0.check == "identifiers" })
    }
}

struct RowLimitCheckTests {
    @Test
    func moreRowsThanAllowedIsForReview() {
        let text = "group,count\n" + (1...6).map { "g\($0),100\n" }.joined()
        let size = tabular(text, parameters: OutputCheckParameters(maxRows: 5)).first { $0.check == "size" }
        #expect(size?.verdict == .review)
        #expect(size?.findings.first?["rows"] == .int(6))
        let within = tabular(text, parameters: OutputCheckParameters(maxRows: 6)).first { $0.check == "size" }
        #expect(within?.verdict == .pass)
    }
}

struct AcroResultsCheckTests {
    static let fixture: Data = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/acro/results.json")
        return (try? Data(contentsOf: url)) ?? Data()
    }()

    func file(_ name: String, _ sha: String) -> AirlockFile { AirlockFile(name: name, size: 1, sha256: sha) }

    @Test
    func acroVerdictsAreShownAndVerifiedFilesPassIntegrity() throws {
        let files = [file("results.json", "aa"), file("output_0.csv", "11"), file("output_1_0.csv", "22")]
        let result = AcroResultsCheck.result(json: Self.fixture, files: files, checksums: ["output_0.csv": "11", "output_1_0.csv": "22"])
        #expect(result.verdict == .review)
        #expect(result.findings.count == 2)
        #expect(result.findings[0]["status"] == .string("fail"))
        #expect(result.findings[0]["exception"] == .string("These cells are structural zeros"))
        #expect(result.findings[1]["status"] == .string("pass"))
        let integrity = result.findings[0]["files"]?.arrayValue?.first?["integrity"]
        #expect(integrity == .string("verified"))
    }

    @Test
    func aChangedFileFailsTheCheck() {
        let files = [file("output_0.csv", "11"), file("output_1_0.csv", "99")]
        let result = AcroResultsCheck.result(json: Self.fixture, files: files, checksums: ["output_0.csv": "11", "output_1_0.csv": "22"])
        #expect(result.verdict == .fail)
        #expect(result.findings[1]["files"]?.arrayValue?.first?["integrity"] == .string("mismatch"))
    }

    @Test
    func aListedFileMissingFromTheRequestFailsTheCheck() {
        let result = AcroResultsCheck.result(json: Self.fixture, files: [file("output_0.csv", "11")], checksums: ["output_0.csv": "11"])
        #expect(result.verdict == .fail)
    }

    @Test
    func aSha256OnTheFileEntryIsVerifiedToo() {
        let json = Data(#"{"version":"0.4.5","results":{"o":{"status":"pass","files":[{"name":"a.csv","sha256":"ABC"}]}}}"#.utf8)
        #expect(AcroResultsCheck.result(json: json, files: [file("a.csv", "abc")]).verdict == .pass)
        #expect(AcroResultsCheck.result(json: json, files: [file("a.csv", "abd")]).verdict == .fail)
    }

    @Test
    func invalidJSONFails() {
        #expect(AcroResultsCheck.result(json: Data("{".utf8), files: []).verdict == .fail)
    }
}

struct ClamdRulesTests {
    @Test(arguments: [
        ("stream: OK\0", ClamdReply.clean), ("fd[11]: OK", .clean),
        ("stream: Enclave.Test.EICAR.ndb.UNOFFICIAL FOUND\0", .found(signature: "Enclave.Test.EICAR.ndb.UNOFFICIAL")),
        ("fd[9]: Heuristics.Limits.Exceeded.MaxFileSize FOUND", .found(signature: "Heuristics.Limits.Exceeded.MaxFileSize")),
        ("INSTREAM size limit exceeded. ERROR", .streamLimitExceeded),
        ("fd[3]: lstat() failed: No such file. ERROR", .error("fd[3]: lstat() failed: No such file.")),
    ])
    func repliesParse(reply: String, expected: ClamdReply) {
        #expect(ClamdReply(parsing: reply) == expected)
    }

    @Test
    func unexpectedRepliesAreNeverClean() {
        for reply in ["", "PONG", "stream: OKAY", "UNKNOWN COMMAND"] {
            guard case .error = ClamdReply(parsing: reply) else {
                Issue.record("'\(reply)' must be an error")
                continue
            }
        }
    }

    @Test
    func versionWithADailyDatabaseGivesItsDateAndAge() {
        let version = ClamdVersion(parsing: "ClamAV 1.4.6/27000/Mon Jan  1 08:00:00 2024\0")
        #expect(version.engine == "ClamAV 1.4.6")
        #expect(version.databaseVersion == 27000)
        #expect(version.databaseDate == 1_704_096_000)
        let fiveDaysLater = 1_704_096_000 + 5 * 86_400.0
        #expect(version.signatureAgeProblem(now: fiveDaysLater, maxAgeDays: 7, requireDated: true) == nil)
        #expect(version.signatureAgeProblem(now: fiveDaysLater, maxAgeDays: 3, requireDated: true)?.contains("5 days old") == true)
    }

    @Test
    func versionWithOnlyCustomDatabasesHasNoDate() {
        let version = ClamdVersion(parsing: "ClamAV 1.4.6")
        #expect(version.databaseDate == nil)
        #expect(version.signatureAgeProblem(now: 0, maxAgeDays: 7, requireDated: false) == nil)
        #expect(version.signatureAgeProblem(now: 0, maxAgeDays: 7, requireDated: true) != nil)
    }

    @Test
    func generatedConfigurationFailsClosedAndCoversThePerFileLimit() {
        let small = ClamdConfiguration(socketPath: "/d/clamd.sock", databaseDirectory: "/db", temporaryDirectory: "/d/tmp", perFileLimit: 500 << 20)
        let text = small.render()
        for line in ["AlertExceedsMax yes", "ScanArchive yes", "Foreground yes", "LocalSocket /d/clamd.sock", "MaxFileSize \(500 << 20)",
            "StreamMaxLength \(500 << 20)", "MaxRecursion 17", "MaxFiles 10000"]
        {
            #expect(text.contains(line + "\n"), "missing \(line)")
        }
        let huge = ClamdConfiguration(socketPath: "/s", databaseDirectory: "/db", temporaryDirectory: "/t", perFileLimit: 100 << 30)
        #expect(huge.maxFileSize == ClamdConfiguration.largestScannableFile)
        #expect(huge.streamMaxLength == ClamdConfiguration.largestSizeOption)
        #expect(!huge.covers(fileSize: 3 << 30))
    }
}
