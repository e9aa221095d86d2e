import EnclaveCore
import Foundation
import Testing

@Suite("JSON parser (bytes → JSONValue)")
struct JSONParserTests {
    static let documents = [
        #"{"iss":"https://login.microsoftonline.com/t/v2.0","aud":["a","b"],"exp":1700000000,"nbf":-1,"amr":["pwd","otp"]}"#,
        #"{"realm_access":{"roles":["TREAdmin","offline_access"]},"n":1.5,"e":2e10,"z":0,"neg":-0.25,"t":true,"f":false,"x":null}"#,
        #"  [ 1 , [ ] , { } , "" , "a\"b\\c\/d\b\f\n\r\t" , "\u00e9\u4e2d\ud83d\ude00" , "é中😀" ]  "#,
        #"{"dup":1,"dup":2}"#,
        #""just a string""#,
        "9007199254740993",
        "1.0",
    ]

    @Test("parses exactly what JSONDecoder parses, integers apart from other numbers", arguments: documents)
    func agreesWithJSONDecoder(_ text: String) throws {
        let parsed = try JSONValue.parse(Array(text.utf8))
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(parsed == decoded)
    }

    @Test(
        "refuses what is not JSON, saying where",
        arguments: [
            "", "{", "[1,]", #"{"a":1,}"#, "01", "1.", "-", "1e", "tru", "nul", #""unterminated"#, "\"tab\there\"",
            #""\x""#, #""\ud83d""#, #""\ude00""#, "[1] 2", "{'a':1}", "/* c */ 1", "NaN", "1e999",
            String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        ])
    func refuses(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() throws {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(try JSONValue.parse([0x22, 0xC3, 0xA9, 0x22]) == .string("é"))
    }
}
