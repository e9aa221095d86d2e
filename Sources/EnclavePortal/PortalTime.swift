import Foundation

/// Times as pages show them: always UTC (records are kept in UTC and users work across time zones), in
/// one format. Pages with hundreds of rows format a time per row, so this uses `gmtime_r`, not a
/// formatter or calendar built per call.
public enum PortalTime {
    /// `2026-01-02 13:45:07 UTC`, or `2026-01-02 13:45 UTC` without seconds.
    public static func utc(_ seconds: Double, withSeconds: Bool = true) -> String {
        format(seconds, separator: " ", withSeconds: withSeconds, zone: " UTC")
    }

    /// `2026-01-02T13:45:07Z`, for `<time datetime>`.
    public static func iso(_ seconds: Double) -> String {
        format(seconds, separator: "T", withSeconds: true, zone: "Z")
    }

    static func format(_ seconds: Double, separator: String, withSeconds: Bool, zone: String) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "" }
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        var text = pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + separator
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2)
        if withSeconds { text += ":" + pad(parts.tm_sec, 2) }
        return text + zone
    }
}
