import EnclaveCore
import Foundation

/// The RFC 5322 text of a notification mail: headers, then the plain-text body.
public enum NotificationMail {
    /// - Parameters:
    ///   - messageId: the delivery's id; the same on every retry, so a mail delivered twice is recognisably one.
    public static func render(
        from: String, to: String, subject: String, body: String, messageId: String, date: Date
    ) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = from.split(separator: "@").last.map(String.init) ?? "enclave"
        let headers = [
            "Date: \(formatter.string(from: date))",
            "From: \(from)",
            "To: \(to)",
            "Subject: \(encodedHeader(subject))",
            "Message-ID: <\(messageId)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Auto-Submitted: auto-generated",
        ]
        // Base64 keeps every body line short and 7-bit, whatever the title's characters: no relay rewraps it.
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + encoded + "\r\n"
    }

    /// A header value safe to send: control characters (a title's CR/LF could otherwise add headers)
    /// become spaces, and non-ASCII text becomes an RFC 2047 encoded word.
    public static func encodedHeader(_ value: String) -> String {
        let cleaned = String(String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        if cleaned.unicodeScalars.allSatisfy({ $0.isASCII }) && cleaned.utf8.count <= 900 { return cleaned }
        // Encoded words are at most 75 characters: 45 bytes of UTF-8 each, split on character boundaries.
        var words: [String] = []
        var chunk = ""
        for character in cleaned {
            if chunk.utf8.count + String(character).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }
}
