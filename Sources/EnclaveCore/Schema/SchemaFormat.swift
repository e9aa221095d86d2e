/// The `format` names Enclave checks; any other name is kept as an annotation and never fails.
///
/// Checking is deliberately strict-but-simple (syntax only, no DNS or URI normalisation) because a
/// template uses `format` to catch typos in user input, not to prove reachability.
struct SchemaFormat: Sendable, Hashable {
    let name: String

    init(name: String) {
        self.name = name
    }

    /// Whether `text` is a valid value of this format; unknown formats accept everything.
    func accepts(_ text: String) -> Bool {
        switch name {
        case "uuid": Self.isUUID(text)
        case "date-time": Self.isDateTime(text)
        case "uri": Self.isURI(text)
        case "email": Self.isEmail(text)
        case "ipv4": Self.isIPv4(text)
        default: true
        }
    }

    static func isHexDigit(_ c: Character) -> Bool { c.isASCII && c.isHexDigit }
    static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    /// RFC 4122 textual form: 8-4-4-4-12 hexadecimal digits.
    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(isHexDigit) }
    }

    /// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    static func isDateTime(_ text: String) -> Bool {
        let chars = Array(text)
        guard chars.count >= 20 else { return false }
        func number(_ range: Range<Int>) -> Int? {
            let slice = chars[range]
            guard slice.allSatisfy(isDigit) else { return nil }
            return Int(String(slice))
        }
        guard let year = number(0..<4), chars[4] == "-", let month = number(5..<7), chars[7] == "-",
            let day = number(8..<10), "Tt ".contains(chars[10]), let hour = number(11..<13), chars[13] == ":",
            let minute = number(14..<16), chars[16] == ":", let second = number(17..<19)
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), day >= 1, day <= monthDays[month - 1], hour <= 23, minute <= 59, second <= 60
        else { return false }
        var index = 19
        if index < chars.count, chars[index] == "." {
            index += 1
            let start = index
            while index < chars.count, isDigit(chars[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < chars.count else { return false }
        if "Zz".contains(chars[index]) { return index + 1 == chars.count }
        guard "+-".contains(chars[index]), chars.count == index + 6,
            let offsetHour = number(index + 1..<index + 3), chars[index + 3] == ":",
            let offsetMinute = number(index + 4..<index + 6)
        else { return false }
        return offsetHour <= 23 && offsetMinute <= 59
    }

    /// RFC 3986 absolute URI: a scheme, a colon, and no characters URIs cannot contain.
    static func isURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return false }
        let forbidden: Set<Character> = [" ", "<", ">", "\"", "{", "}", "|", "\\", "^", "`"]
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
            && !text.contains(where: { forbidden.contains($0) })
    }

    /// A mailbox `local@domain`: one `@`, both sides non-empty, no whitespace, domain labels non-empty.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !text.contains(where: \.isWhitespace)
        else { return false }
        return parts[1].split(separator: ".", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty }
    }

    /// Dotted-quad IPv4 address: four decimal octets 0–255 without leading zeros.
    static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        return octets.allSatisfy { octet in
            guard (1...3).contains(octet.count), octet.allSatisfy(isDigit), let value = Int(octet) else { return false }
            return value <= 255 && (octet.count == 1 || octet.first != "0")
        }
    }
}
