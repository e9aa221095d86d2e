import EnclaveCore
import EnclaveTesting
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 6's journey in a real browser against `enclave serve` with real workspace isolation:
/// `Tests/Browser/portal_flow_test.py` signs four people in with MFA and drives the portal from creating a
/// restricted workspace through its generated form, to JupyterLab opened through Connect, an import
/// uploaded, reviewed and approved, and the workspace deleted again. Needs root (the data plane), the
/// data plane's tools and what `BrowserSignInTests` needs; skipped without them unless CI=true.
@Suite("Browser portal journey", .serialized)
struct BrowserPortalJourneyTests {
    static let unavailableReason: String? = {
        if getuid() != 0 { return "not root (the journey deploys a restricted workspace and JupyterLab)" }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for tool in ["ip", "nft", "setpriv", "bwrap"]
        where !path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }) {
            return "\(tool) missing"
        }
        return BrowserSignInTests.unavailableReason
    }()

    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    static let people = [
        BrowserPortalTests.Person(role: "admin", username: "ada", name: "Ada Admin", coreRole: "TREAdmin"),
        BrowserPortalTests.Person(role: "owner", username: "olga", name: "Olga Owner", coreRole: "TREUser"),
        BrowserPortalTests.Person(role: "researcher", username: "rosa", name: "Rosa Researcher", coreRole: "TREUser"),
        BrowserPortalTests.Person(role: "airlock_manager", username: "amir", name: "Amir Airlock", coreRole: "TREUser"),
    ]

    @Test(
        "an admin creates a restricted workspace through its form, the owner opens JupyterLab through Connect, a researcher's import is approved by an airlock manager, the admin deletes the workspace: all in headless Chromium",
        .enabled(if: shouldRun, Comment(rawValue: unavailableReason ?? "")),
        .timeLimit(.minutes(30)))
    func journey() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-journey")
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let plane = ParallelHostPlane.make("b")
        let server = try EnclaveProcess(
            ["serve", "--data-dir", data.path, "--port", "\(port)", "--workers", "2", "--templates", TestPaths.templates]
                + plane.serveArguments + ["--airlock-scanner", "none", "--airlock-workspace-port", "0"],
            log: data.appendingPathComponent("serve.log"))
        defer { server.terminate() }
        _ = try await LiveAPI.waitHealthy(base)

        let accountsFile = try await BrowserPortalTests.addAccounts(Self.people, data: data)
        let screenshots = BrowserPortalTests.screenshotDirectory(data: data)
        let script = TestPaths.repoRoot.appendingPathComponent("Tests/Browser/portal_flow_test.py").path
        let run = try await BrowserSignInTests.python(
            [script, "--base-url", base, "--accounts", accountsFile.path, "--screenshots", screenshots.path], timeout: 1500)
        #expect(run.status == 0, "portal_flow_test.py exited with \(run.status):\n\(run.output)\n--- serve log (tail) ---\n\(server.log.suffix(6000))")
        #expect(run.output.contains("PASSED"), "\(run.output)")
        for name in ["workspace-new", "workspace", "jupyterlab", "airlock-draft", "airlock-preview", "airlock-approved"] {
            let png = try? Data(contentsOf: screenshots.appendingPathComponent("\(name).png"))
            #expect(png?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true, "\(name).png was not saved as a PNG")
        }

        // The journey deletes its workspace; after a failure part-way, delete what is left so no isolation
        // or workload outlives the test.
        try await Self.deleteWorkspaces(base: base, data: data)
        _ = await server.stop()
        #expect(Self.processes(mentioning: data.path).isEmpty, "processes still run from the journey's data directory")
    }

    /// Command lines of running processes that mention `text` (read from /proc, as `ps` would).
    static func processes(mentioning text: String) -> [String] {
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            guard let raw = fm.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains(text) ? line : nil
        }
    }

    static func deleteWorkspaces(base: String, data: URL) async throws {
        let token = try await EnclaveBinary.run([
            "token", "--data-dir", data.path, "--user", "journey-cleanup", "--name", "Cleanup", "--email", "c@x", "--role", "TREAdmin",
        ])
        let api = LiveAPI(base: base, token: token)
        let list = try await api.call(.GET, "/api/workspaces")
        for workspace in list.json["workspaces"]?.arrayValue ?? [] {
            guard let id = workspace["id"]?.stringValue, workspace["deploymentStatus"]?.stringValue != "deleted" else { continue }
            if workspace["isEnabled"]?.boolValue == true {
                let disable = try await api.call(.PATCH, "/api/workspaces/\(id)", json: ["isEnabled": false], headers: [("etag", "*")])
                if let location = disable.location { _ = try await api.waitTerminal(location, timeout: 300) }
            }
            let delete = try await api.call(.DELETE, "/api/workspaces/\(id)")
            if let location = delete.location { _ = try await api.waitTerminal(location, timeout: 300) }
        }
    }
}
