// Basic credentials at the gateway, as git sends them: parsing and when a 401 carries the Basic challenge.
import EnclaveCore
import EnclaveGateway
import Foundation
import HTTPTypes
import Testing

@Suite("Basic credentials")
struct BasicCredentialsTests {
    static func basic(_ pair: String) -> String { "Basic " + Data(pair.utf8).base64EncodedString() }

    @Test func theTokenIsThePasswordAndTheUserNameIsKeptAsSent() throws {
        let parsed = try BasicCredentials.parse(Self.basic("ravi@example.org:eyJ.a.b")).get()
        #expect(parsed == BasicCredentials(user: "ravi@example.org", password: "eyJ.a.b"))
        // Only the first colon separates (RFC 7617): a password may contain more.
        #expect(try BasicCredentials.parse(Self.basic("token:a:b")).get().password == "a:b")
        #expect(try BasicCredentials.parse("bAsIc " + Data(":t".utf8).base64EncodedString()).get() == BasicCredentials(user: "", password: "t"))
    }

    @Test(arguments: [
        ("Basic", "not 'Basic <base64"), ("Basic !!!", "not base64"), (basic("no-colon"), "no ':'"), (basic("token:"), "password is empty"),
        ("Bearer abc", "not 'Basic <base64"),
    ])
    func malformedCredentialsAreRefusedWithTheReason(header: String, reason: String) {
        guard case .failure(let error) = BasicCredentials.parse(header) else {
            Issue.record("\(header) was accepted")
            return
        }
        #expect(error.kind == .unauthorized)
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test func gitAndBasicClientsAreChallengedButBrowsersWithASessionAreNot() {
        let cookie = "enclave_session"
        #expect(BasicCredentials.shouldChallenge([:], sessionCookie: cookie), "git's first request has no credentials")
        #expect(BasicCredentials.shouldChallenge([.authorization: Self.basic("x:bad")], sessionCookie: cookie))
        #expect(!BasicCredentials.shouldChallenge([.authorization: "Bearer bad"], sessionCookie: cookie))
        #expect(!BasicCredentials.shouldChallenge([.cookie: "a=1; enclave_session=expired"], sessionCookie: cookie))
        #expect(BasicCredentials.shouldChallenge([.cookie: "a=1; other_session=x"], sessionCookie: cookie))
    }

    @Test func onlyBrowserRequestsFromAnotherSiteCountAsCrossSite() throws {
        let site = try #require(HTTPField.Name("Sec-Fetch-Site"))
        #expect(!BasicCredentials.isCrossSiteBrowserRequest([:]))
        #expect(!BasicCredentials.isCrossSiteBrowserRequest([site: "same-origin"]))
        #expect(!BasicCredentials.isCrossSiteBrowserRequest([site: "none"]))
        #expect(BasicCredentials.isCrossSiteBrowserRequest([site: "cross-site"]))
        #expect(BasicCredentials.isCrossSiteBrowserRequest([site: "same-site"]))
    }
}
