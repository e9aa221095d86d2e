import EnclaveTesting
import Foundation
import Testing

/// The portal in a real browser: `Tests/Browser/portal_test.py` drives headless Chromium with Selenium
/// through the portal's pages against `enclave serve`, as an admin (enrolling an authenticator at the
/// first sign-in), a researcher and an airlock manager, checking headings, CSP, visible focus and the
/// 375-px layout. Needs what `BrowserSignInTests` needs; skipped without it unless CI=true.
///
/// Screenshots of every page go to `docs/screenshots/` when ENCLAVE_SCREENSHOTS=1 (to refresh the
/// README's pictures); otherwise to a temporary directory, so a normal run leaves the tree alone.
@Suite("Browser portal end to end", .serialized)
struct BrowserPortalTests {
    /// An account the browser scripts sign in as, by the role the script knows it by.
    struct Person {
        var role: String
        var username: String
        var name: String
        var coreRole: String
    }

    static let people = [
        Person(role: "admin", username: "ada", name: "Ada Admin", coreRole: "TREAdmin"),
        Person(role: "researcher", username: "rosa", name: "Rosa Researcher", coreRole: "TREUser"),
        Person(role: "airlock_manager", username: "amir", name: "Amir Airlock", coreRole: "TREUser"),
    ]

    @Test(
        "an admin, a researcher and an airlock manager sign in with MFA and use the portal's pages in headless Chromium",
        .enabled(if: BrowserSignInTests.shouldRun, Comment(rawValue: BrowserSignInTests.unavailableReason ?? "")),
        .timeLimit(.minutes(5)))
    func portalInChromium() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-portal")
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = try EnclaveProcess(
            ["serve", "--data-dir", data.path, "--port", "\(port)", "--workers", "1", "--templates", TestPaths.templates],
            log: data.appendingPathComponent("serve.log"))
        defer { server.terminate() }
        _ = try await LiveAPI.waitHealthy(base)

        let accountsFile = try await Self.addAccounts(Self.people, data: data)
        let screenshots = Self.screenshotDirectory(data: data)
        let script = TestPaths.repoRoot.appendingPathComponent("Tests/Browser/portal_test.py").path
        let run = try await BrowserSignInTests.python([
            script, "--base-url", base, "--accounts", accountsFile.path, "--screenshots", screenshots.path,
        ])
        #expect(run.status == 0, "portal_test.py exited with \(run.status):\n\(run.output)\n--- serve log (tail) ---\n\(server.log.suffix(4000))")
        #expect(run.output.contains("PASSED"), "\(run.output)")
        for name in ["workspaces", "account", "admin", "admin-audit", "workspaces-narrow"] {
            let png = try? Data(contentsOf: screenshots.appendingPathComponent("\(name).png"))
            #expect(png?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true, "\(name).png was not saved as a PNG")
        }
        _ = await server.stop()
    }

    /// Adds each person with `enclave users add` (no authenticator yet: the script enrolls one at the first
    /// sign-in) and writes the scripts' accounts file: role → username, password, id, name.
    static func addAccounts(_ people: [Person], data: URL) async throws -> URL {
        var accounts: [String: [String: String]] = [:]
        for person in people {
            let password = "\(person.username)'s long browser password"
            let passwordFile = data.appendingPathComponent("\(person.username).password")
            try (password + "\n").write(to: passwordFile, atomically: true, encoding: .utf8)
            let added = try await UsersCommandTests.enclave([
                "users", "add", "--data-dir", data.path, "--username", person.username, "--name", person.name,
                "--email", "\(person.username)@example.org", "--role", person.coreRole, "--password-file", passwordFile.path,
            ])
            try #require(added.status == 0, "\(added.output)")
            // "Added USERNAME (ID) with roles …"
            let id = added.output.split(separator: "(", maxSplits: 1).last?.split(separator: ")").first.map(String.init) ?? ""
            accounts[person.role] = ["username": person.username, "password": password, "id": id, "name": person.name]
        }
        let accountsFile = data.appendingPathComponent("accounts.json")
        try JSONSerialization.data(withJSONObject: accounts).write(to: accountsFile)
        return accountsFile
    }

    /// `docs/screenshots` when ENCLAVE_SCREENSHOTS=1 (to refresh the README's pictures), else a directory in `data`.
    static func screenshotDirectory(data: URL) -> URL {
        ProcessInfo.processInfo.environment["ENCLAVE_SCREENSHOTS"] == "1"
            ? TestPaths.repoRoot.appendingPathComponent("docs/screenshots") : data.appendingPathComponent("screenshots")
    }
}
