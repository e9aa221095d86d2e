import EnclaveTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real browser on the sign-in page: `Tests/Browser/signin_test.py` drives headless Chromium with
/// Selenium through password, TOTP enrollment and recovery codes against `enclave serve`, then uses the
/// tokens on the API. Needs Debian's `chromium` and `chromium-driver` and `pip install selenium`
/// (`.ci/run` installs them); skipped without them unless CI=true.
@Suite("Browser sign-in end to end", .serialized)
struct BrowserSignInTests {
    /// Why the browser test cannot run here, or nil when chromium, chromedriver and selenium are present.
    static let unavailableReason: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        func onPath(_ name: String) -> Bool {
            path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
        var missing: [String] = []
        if !onPath("chromium") && !onPath("chromium-browser") { missing.append("chromium") }
        if !onPath("chromedriver") { missing.append("chromedriver (chromium-driver)") }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import selenium"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        if (try? probe.run()) == nil {
            missing.append("python3")
        } else {
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { missing.append("python3 selenium") }
        }
        guard !missing.isEmpty else { return nil }
        return "needs \(missing.joined(separator: ", ")): apt-get install chromium chromium-driver; python3 -m pip install selenium"
    }()

    /// Runs unless something is missing; under CI=true it always runs, so a missing part fails.
    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(
        "a user made with enclave users add signs in through the sign-in page in headless Chromium with password and TOTP, and the token works on the API",
        .enabled(if: shouldRun, Comment(rawValue: unavailableReason ?? "")),
        .timeLimit(.minutes(5)))
    func headlessChromiumSignIn() async throws {
        let data = try TestPaths.temporaryDirectory("e2e-browser")
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let server = try EnclaveProcess(
            ["serve", "--data-dir", data.path, "--port", "\(port)", "--workers", "0", "--templates", TestPaths.templates],
            log: data.appendingPathComponent("serve.log"))
        defer { server.terminate() }
        _ = try await LiveAPI.waitHealthy(base)

        let passwordFile = data.appendingPathComponent("password.txt")
        try "a browser's long password\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        let added = try await UsersCommandTests.enclave([
            "users", "add", "--data-dir", data.path, "--username", "rosa", "--name", "Rosa Browser", "--email", "rosa@example.org",
            "--role", "TREUser", "--password-file", passwordFile.path,
        ])
        try #require(added.status == 0, "\(added.output)")

        let screenshots = data.appendingPathComponent("screenshots")
        let script = TestPaths.repoRoot.appendingPathComponent("Tests/Browser/signin_test.py").path
        let run = try await Self.python([
            script, "--base-url", base, "--username", "rosa", "--password-file", passwordFile.path, "--screenshots", screenshots.path,
        ])
        #expect(run.status == 0, "signin_test.py exited with \(run.status):\n\(run.output)\n--- serve log (tail) ---\n\(server.log.suffix(4000))")
        #expect(run.output.contains("PASSED"), "\(run.output)")
        for name in ["signin.png", "signin-totp.png", "account.png"] {
            let png = try? Data(contentsOf: screenshots.appendingPathComponent(name))
            #expect(png?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true, "\(name) was not saved as a PNG")
        }
        _ = await server.stop()
    }

    /// Runs `python3 args…` to completion off the cooperative pool, killing it after `timeout` seconds;
    /// exit status and stdout + stderr.
    static func python(_ arguments: [String], timeout: Double = 240) async throws -> (status: Int32, output: String) {
        try await Blocking.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-u"] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier
            let watchdog = DispatchWorkItem { kill(pid, SIGTERM) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            watchdog.cancel()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }
}
