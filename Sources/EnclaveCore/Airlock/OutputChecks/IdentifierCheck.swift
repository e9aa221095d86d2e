/// Flags columns that look like direct identifiers — person names, NHS numbers, dates of birth, UK
/// postcodes, email addresses, `*_id` keys — by their header and by a sample of their values.
///
/// Statistical outputs should not carry these at all; a match is `review`, because a header like
/// `practice_id` may be a harmless grouping the reviewer can accept.
public struct IdentifierCheck: Sendable {
    public static let name = "identifiers"
    /// Values looked at per column: the first rows, enough to see a pattern without reading everything twice.
    public static let sampleSize = 1_000
    /// The share of non-empty sampled values that must match a pattern for the column to be flagged.
    public static let valueShare = 0.5

    public enum Kind: String, Sendable, CaseIterable {
        case personName = "person name", nhsNumber = "NHS number", dateOfBirth = "date of birth", postcode = "postcode"
        case email = "email", key = "identifier key", date = "date"
    }

    private var header: [String] = []
    private var sampled = 0
    private var nonEmpty: [Int] = []
    private var matches: [[Kind: Int]] = []

    public init() {}

    public mutating func add(_ record: CSVRecord) {
        if header.isEmpty {
            header = record.strings.map { $0.trimmed }
            nonEmpty = Array(repeating: 0, count: header.count)
            matches = Array(repeating: [:], count: header.count)
            return
        }
        guard sampled < Self.sampleSize else { return }
        sampled += 1
        for column in 0..<header.count {
            let value = record.string(column).trimmed
            guard !value.isEmpty else { continue }
            nonEmpty[column] += 1
            if let kind = Self.valueKind(value) { matches[column][kind, default: 0] += 1 }
        }
    }

    public func result(parameters: JSONValue) -> OutputCheckResult {
        var findings: [JSONValue] = []
        for (column, name) in header.enumerated() {
            var reasons: [JSONValue] = []
            if let kind = Self.headerKind(name) {
                reasons.append(.object(["by": .string("header"), "kind": .string(kind.rawValue)]))
            }
            if nonEmpty[column] > 0 {
                for (kind, count) in matches[column].sorted(by: { $0.key.rawValue < $1.key.rawValue })
                where Double(count) >= Self.valueShare * Double(nonEmpty[column]) {
                    reasons.append(.object([
                        "by": .string("values"), "kind": .string(kind.rawValue), "matching": .int(count), "sampled": .int(nonEmpty[column]),
                    ]))
                }
            }
            if !reasons.isEmpty {
                findings.append(.object(["column": .string(name), "index": .int(column), "reasons": .array(reasons)]))
            }
        }
        guard !findings.isEmpty else {
            return OutputCheckResult(check: Self.name, parameters: parameters, verdict: .pass, summary: "No column looks like a direct identifier.")
        }
        let names = findings.compactMap { $0["column"]?.stringValue }.map { "'\($0)'" }.joined(separator: ", ")
        return OutputCheckResult(
            check: Self.name, parameters: parameters, verdict: .review,
            summary: "\(findings.count) column(s) look like direct identifiers: \(names).", findings: findings)
    }

    /// What a header names, normalised (`Date of Birth`, `date-of-birth` and `DOB` are the same).
    public static func headerKind(_ header: String) -> Kind? {
        let words = header.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        let joined = words.joined(separator: "_")
        guard !joined.isEmpty else { return nil }
        if ["nhs", "nhs_number", "nhs_no", "nhsnumber", "nhs_num", "chi", "chi_number"].contains(joined) || words.first == "nhs" {
            return .nhsNumber
        }
        if ["dob", "date_of_birth", "birth_date", "birthdate", "dateofbirth", "birthday"].contains(joined) { return .dateOfBirth }
        if ["postcode", "post_code", "postal_code", "zip", "zipcode", "zip_code"].contains(joined) { return .postcode }
        if ["email", "e_mail", "email_address", "mail"].contains(joined) { return .email }
        let nameHeaders: Set<String> = [
            "name", "full_name", "fullname", "first_name", "firstname", "forename", "forenames", "given_name", "surname",
            "last_name", "lastname", "family_name", "patient_name", "person_name", "middle_name",
        ]
        if nameHeaders.contains(joined) { return .personName }
        if words.last == "id" { return .key }
        return nil
    }

    /// What a value looks like, if it looks like an identifier.
    public static func valueKind(_ value: String) -> Kind? {
        if isNHSNumber(value) { return .nhsNumber }
        if isEmail(value) { return .email }
        if isUKPostcode(value) { return .postcode }
        if isDate(value) { return .date }
        return nil
    }

    /// Ten digits (spaces or dashes allowed in the usual 3-3-4 groups) whose last is the modulus-11 check digit.
    public static func isNHSNumber(_ value: String) -> Bool {
        let digits = value.filter { $0 != " " && $0 != "-" }
        guard digits.count == 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        let numbers = digits.compactMap { $0.wholeNumberValue }
        let sum = (0..<9).reduce(0) { $0 + numbers[$1] * (10 - $1) }
        let check = 11 - sum % 11
        let expected = check == 11 ? 0 : check
        return expected != 10 && expected == numbers[9]
    }

    public static func isEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !value.contains(" ") else { return false }
        let domain = parts[1]
        guard let dot = domain.lastIndex(of: "."), dot != domain.startIndex else { return false }
        return domain.distance(from: dot, to: domain.endIndex) >= 3
    }

    /// A UK postcode: outward code (`A9`, `A99`, `AA9`, `AA99`, `A9A`, `AA9A`), optional space, inward code (`9AA`).
    public static func isUKPostcode(_ value: String) -> Bool {
        let compact = Array(value.uppercased().filter { $0 != " " })
        guard (5...7).contains(compact.count), compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return false }
        let inward = compact.suffix(3)
        let outward = Array(compact.dropLast(3))
        guard inward[inward.startIndex].isNumber, inward.dropFirst().allSatisfy(\.isLetter) else { return false }
        guard let first = outward.first, first.isLetter else { return false }
        let pattern = String(outward.map { $0.isLetter ? "A" : "9" })
        return ["A9", "A99", "AA9", "AA99", "A9A", "AA9A"].contains(pattern)
    }

    /// `YYYY-MM-DD`, `DD/MM/YYYY` or `DD-MM-YYYY` with a plausible year (1900–2099).
    public static func isDate(_ value: String) -> Bool {
        let parts = value.split { $0 == "-" || $0 == "/" }.map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return false }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == 3 else { return false }
        let (year, month, day): (Int, Int, Int) =
            parts[0].count == 4 ? (numbers[0], numbers[1], numbers[2]) : parts[2].count == 4 ? (numbers[2], numbers[1], numbers[0]) : (0, 0, 0)
        return (1900...2099).contains(year) && (1...12).contains(month) && (1...31).contains(day)
    }
}
