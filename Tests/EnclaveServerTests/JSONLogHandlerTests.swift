@testable import EnclaveServer
import Foundation
import Testing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("awkward strings are escaped so every line stays one valid JSON object")
    func escaping() throws {
        var line = ""
        JSONLogHandler.appendQuoted("quote \" backslash \\ newline \n tab \t bell \u{07} é", to: &line)
        let decoded = try JSONDecoder().decode(String.self, from: Data(line.utf8))
        #expect(decoded == "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        #expect(!line.contains("\n"))
    }

    @Test("request lines never carry the token of a setup or invitation link")
    func secretQueryValuesAreRedacted() {
        typealias Log = RequestLogMiddleware<EnclaveRequestContext>
        #expect(Log.loggable(path: "/oidc/invitation", query: "token=s3cret") == "/oidc/invitation?token=REDACTED")
        #expect(Log.loggable(path: "/oidc/setup", query: "a=1&%74oken=x&b") == "/oidc/setup?a=1&%74oken=REDACTED&b")
        #expect(Log.loggable(path: "/api/audit", query: "limit=5&after=2") == "/api/audit?limit=5&after=2")
        #expect(Log.loggable(path: "/api/users", query: nil) == "/api/users")
    }
}
