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
}
