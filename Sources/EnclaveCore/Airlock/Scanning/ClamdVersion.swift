/// clamd's `VERSION` answer: the engine, and — when an official daily database is loaded — its
/// version and build date, which is how Enclave tells how old the signatures are.
///
/// With only custom databases (`.ndb`, `.hdb`: the test database, or product-specific rules) clamd
/// answers just `ClamAV 1.4.6`; there is no date to check, which `signatureAgeProblem` reports as such
/// rather than guessing.
public struct ClamdVersion: Sendable, Hashable {
    /// `ClamAV 1.4.6`.
    public var engine: String
    /// The daily database's version (`27000`), when one is loaded.
    public var databaseVersion: Int?
    /// The daily database's build time (seconds since 1970, UTC), when one is loaded.
    public var databaseDate: Double?

    /// Parses `ClamAV 1.4.6` or `ClamAV 1.4.6/27000/Mon Jan  1 08:00:00 2024`.
    public init(parsing raw: String) {
        let text = raw.trimming("\0\n\r ")
        let parts = text.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        engine = parts.first.map(String.init) ?? text
        databaseVersion = parts.count > 1 ? Int(parts[1]) : nil
        databaseDate = parts.count > 2 ? Self.parseCTime(String(parts[2])) : nil
    }

    /// Why the signatures cannot be trusted to be current, or nil.
    ///
    /// - `maxAgeDays`: the oldest a dated database may be; nil checks no age.
    /// - `requireDated`: whether running without a dated (official) database is itself a problem —
    ///   production wants it, a deployment that ships only its own rules (and the tests) does not.
    public func signatureAgeProblem(now: Double, maxAgeDays: Int?, requireDated: Bool) -> String? {
        guard let databaseDate else {
            return requireDated
                ? "clamd has no dated signature database loaded (only custom rules): install the official CVDs (freshclam or shipped files)"
                : nil
        }
        guard let maxAgeDays else { return nil }
        let age = (now - databaseDate) / 86_400
        guard age > Double(maxAgeDays) else { return nil }
        return "clamd's signatures (daily \(databaseVersion.map(String.init) ?? "?")) are \(Int(age)) days old, older than the allowed \(maxAgeDays): update them (freshclam or new CVDs) and RELOAD"
    }

    /// Parses C's `ctime` format (`Mon Jan  1 08:00:00 2024`), which clamd prints, as UTC.
    static func parseCTime(_ text: String) -> Double? {
        let fields = text.split(separator: " ")
        guard fields.count == 5 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let monthIndex = months.firstIndex(of: String(fields[1])), let day = Int(fields[2]), let year = Int(fields[4]) else {
            return nil
        }
        let clock = fields[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        return Double(days * 86_400 + clock[0] * 3_600 + clock[1] * 60 + clock[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), avoiding Foundation calendars.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    fileprivate func trimming(_ set: String) -> String {
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view.removeFirst() }
        while let last = view.last, set.contains(last) { view.removeLast() }
        return String(view)
    }
}
