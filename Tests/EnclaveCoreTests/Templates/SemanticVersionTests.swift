import Testing

@testable import EnclaveCore

@Suite("Semantic versions")
struct SemanticVersionTests {
    @Test
    func versionsOrderAsSemanticVersioningSays() throws {
        let ordered = [
            "0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0",
        ]
        let parsed = try ordered.map { try #require(SemanticVersion($0)) }
        #expect(parsed == parsed.shuffled().sorted())
        for (a, b) in zip(parsed, parsed.dropFirst()) {
            #expect(a < b, "\(a) < \(b)")
        }
    }

    @Test(arguments: ["1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+meta", "a.b.c", "", "1..0"])
    func malformedVersionsDoNotParse(_ text: String) {
        #expect(SemanticVersion(text) == nil)
    }

    @Test(arguments: ["0.0.1", "1.2.3", "10.20.30-rc.1", "2.0.0-beta-2"])
    func versionsRoundTripThroughText(_ text: String) {
        #expect(SemanticVersion(text)?.description == text)
    }

    @Test
    func availableUpgradesListSameMajorFirstThenForcedMajors() {
        let upgrades = SemanticVersion.availableUpgrades(
            from: "1.2.0", registered: ["1.1.0", "1.2.0", "2.0.0", "1.10.0", "1.3.0", "3.0.0-rc.1", "not-a-version"])
        #expect(upgrades == [
            AvailableUpgrade(version: "1.3.0", forceUpdateRequired: false),
            AvailableUpgrade(version: "1.10.0", forceUpdateRequired: false),
            AvailableUpgrade(version: "2.0.0", forceUpdateRequired: true),
            AvailableUpgrade(version: "3.0.0-rc.1", forceUpdateRequired: true),
        ])
    }

    @Test
    func upgradeRulesUseAzureTREsMessages() throws {
        let registered = ["1.0.0", "1.1.0", "2.0.0"]
        func check(_ from: String, _ to: String, force: Bool = false) throws(EnclaveError) {
            try SemanticVersion.validateUpgrade(
                templateName: "tre-workspace-base", resourceType: .workspace, from: from, to: to, registered: registered,
                force: force)
        }
        try check("1.0.0", "1.1.0")
        #expect(throws: EnclaveError.badRequest("Attempt to upgrade from 1.0.0 to 2.0.0 denied. major version upgrade is not allowed.")) {
            try check("1.0.0", "2.0.0")
        }
        try check("1.0.0", "2.0.0", force: true)
        #expect(throws: EnclaveError.badRequest("Attempt to downgrade from 1.1.0 to 1.0.0 denied. version downgrade is not allowed.")) {
            try check("1.1.0", "1.0.0")
        }
        try check("1.1.0", "1.0.0", force: true)
        #expect(throws: EnclaveError.badRequest(
            "Template 'tre-workspace-base' not found for resource type 'workspace' with target template version '1.2.0'")) {
            try check("1.0.0", "1.2.0")
        }
        #expect(throws: EnclaveError.badRequest("Attempt to upgrade from 1.0.0 to latest denied. Invalid version format.")) {
            try check("1.0.0", "latest")
        }
    }

    @Test
    func versionsCodeAsStrings() throws {
        let decoded = try JSONDecoderForTests.decode([SemanticVersion].self, from: #"["1.2.3-rc.1"]"#)
        #expect(decoded == [SemanticVersion(major: 1, minor: 2, patch: 3, prerelease: ["rc", "1"])])
    }
}
