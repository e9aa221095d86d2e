import EnclaveAuth
import Foundation
import Testing

@Suite struct SignInFactorTests {
    @Test func bcryptHashesAtCostTwelveAndChecksOffTheEventLoop() async {
        let hasher = PasswordHasher(cost: 4)
        #expect(hasher.cost == 12, "costs below 12 are raised to 12")
        let hash = await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("$2b$12$"))
        #expect(await hasher.verify("correct horse battery", hash: hash))
        #expect(await !hasher.verify("wrong horse battery", hash: hash))
    }

    @Test func anUnknownUserNeverMatchesButStillCostsAHash() async {
        #expect(await !PasswordHasher().verify("anything at all", hash: nil))
    }

    @Test func aTOTPCodeIsAcceptedOnceWithinOneStepOfDrift() {
        let totp = TOTPCode(secret: TOTPCode.generateSecret())
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let code = totp.code(at: now)
        let step = totp.acceptedStep(code, now: now, lastStep: nil)
        #expect(step == 1_700_000_000 / 30)
        #expect(totp.acceptedStep(code, now: now.addingTimeInterval(30), lastStep: nil) != nil, "one step of drift")
        #expect(totp.acceptedStep(code, now: now.addingTimeInterval(90), lastStep: nil) == nil)
        #expect(totp.acceptedStep(code, now: now, lastStep: step) == nil, "a used code is refused")
        #expect(totp.acceptedStep("000000x", now: now, lastStep: nil) == nil)
    }

    @Test func theEnrollmentURICarriesTheBase32Secret() {
        let totp = TOTPCode(secret: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let uri = totp.uri(account: "ada", issuer: "Enclave")
        #expect(uri.hasPrefix("otpauth://totp/Enclave:ada?secret="))
        #expect(uri.contains("secret=\(totp.base32Secret(account: "ada", issuer: "Enclave"))"))
        #expect(uri.contains("issuer=Enclave"))
    }

    @Test func libqrencodeDrawsTheURIAsSVG() throws {
        let svg = try #require(QRCode.svg("otpauth://totp/Enclave:ada?secret=ABC&issuer=Enclave"))
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains("<path"))
    }
}
