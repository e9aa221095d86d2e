// End to end, as root: a restricted workspace with the git service (lighttpd + git-http-backend + cgit in the
// sandbox); the real git CLI pushes through the gateway as researcher A (an access token as the Basic password,
// after git's 401 challenge), researcher B clones it (`enclave git-credential` as the helper) and pushes too (a
// bearer token in http.extraHeader); users without a role get 403, anonymous pushes 401, cgit shows both
// commits, and the server refuses callers that bypass the gateway.
import AsyncHTTPClient
import EnclaveCore
import EnclaveLocal
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import Testing

enum GitE2ESupport {
    static let unavailableReason: String? =
        WorkloadE2ESupport.unavailableReason
        ?? {
            for path in ["/usr/sbin/lighttpd", "/usr/lib/git-core/git-http-backend", "/usr/lib/cgit/cgit.cgi"]
            where !FileManager.default.isExecutableFile(atPath: path) {
                return "\(path) missing (apt-get install lighttpd git cgit)"
            }
            return nil
        }()

    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"
}

@Suite(
    "Git workload end to end", .serialized,
    .enabled(if: GitE2ESupport.shouldRun, "needs root, ip, nft, setpriv, bwrap, lighttpd, git, cgit (\(GitE2ESupport.unavailableReason ?? ""))"))
struct GitWorkloadTests {
    /// git with no terminal prompt, no user or system configuration, and a fixed identity.
    func git(_ arguments: [String], home: String) async throws -> HostCommandResult {
        try await HostCommand().run(
            [
                "env", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME=\(home)", "git", "-c", "user.name=E2E", "-c",
                "user.email=e2e@example.org",
            ]
                + arguments)
    }

    @Test func researchersPushAndCloneThroughTheGatewayAndOutsidersAreRefused() async throws {
        let enclave = try await WorkloadScenario.enclave(prefix: "g")
        defer { enclave.remove() }
        let scratch = try TestPaths.temporaryDirectory("git-e2e")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await buildApplication(enclave.deps).test(.live) { client in
            let scenario = WorkloadScenario(enclave: enclave, client: client)
            let port = try #require(client.port)
            let (ws, uid) = try await scenario.createWorkspace()
            #expect(uid != nil, "the workspace reports no workspace_uid")
            for user in [TestUsers.researcher, TestUsers.researcher2] {
                let assigned = try await scenario.call(
                    .post, "/api/workspaces/\(ws)/users/assign", as: TestUsers.admin,
                    json: ["role_id": "WorkspaceResearcher", "user_ids": [.string(user.id)]])
                #expect(assigned.status == .accepted, "\(assigned.text)")
            }
            let svc = try await scenario.createService("tre-service-git", in: ws, properties: ["initial_repository": "analysis"])
            let base = "/workspaces/\(ws)/services/\(svc)"
            let repo = "127.0.0.1:\(port)\(base)/repo/analysis.git"
            let home = scratch.path

            // Researcher A pushes a new commit: the token is the Basic password, sent after the gateway's challenge.
            let work = scratch.appendingPathComponent("a").path
            try #require(try await git(["init", "-q", "-b", "main", work], home: home).status == 0)
            try "results\n".write(toFile: "\(work)/README", atomically: true, encoding: .utf8)
            #expect(try await git(["-C", work, "add", "README"], home: home).status == 0)
            #expect(try await git(["-C", work, "commit", "-q", "-m", "First results from A"], home: home).status == 0)
            let tokenA = try await enclave.token(TestUsers.researcher)
            let pushed = Date()
            let push = try await git(["-C", work, "push", "http://git:\(tokenA)@\(repo)", "main"], home: home)
            print("git: push through the gateway took \(String(format: "%.2f", Date().timeIntervalSince(pushed))) s")
            #expect(push.status == 0, "\(push.error)")

            // Researcher B clones it with `enclave git-credential` as git's credential helper, then pushes a commit of
            // their own with a bearer token in an extra header.
            let clone = scratch.appendingPathComponent("b").path
            let enclaveBinary = try #require(
                [".build/debug/enclave", ".build/x86_64-unknown-linux-gnu/debug/enclave"].map { TestPaths.repoRoot.appendingPathComponent($0).path }
                    .first { FileManager.default.isExecutableFile(atPath: $0) }, "the enclave binary is not built (swift build --build-tests)")
            let helper =
                "!ENCLAVE_URL=http://127.0.0.1:\(port) ENCLAVE_TOKEN=\(try await enclave.token(TestUsers.researcher2)) \(enclaveBinary) git-credential"
            let cloned = try await git(["-c", "credential.helper=\(helper)", "clone", "-q", "http://\(repo)", clone], home: home)
            #expect(cloned.status == 0, "\(cloned.error)")
            let log = try await git(["-C", clone, "log", "--format=%s", "main"], home: home)
            #expect(log.output.contains("First results from A"), "\(log.output) \(log.error)")
            #expect(try await git(["-C", clone, "commit", "-q", "--allow-empty", "-m", "Review by B"], home: home).status == 0)
            let bearerB = try await enclave.bearer(TestUsers.researcher2)
            let pushB = try await git(["-C", clone, "-c", "http.extraHeader=Authorization: \(bearerB)", "push", "-q", "origin", "main"], home: home)
            #expect(pushB.status == 0, "\(pushB.error)")

            // A user without a role in the workspace: 403; nobody at all: 401 and git cannot ask for a password.
            let tokenNoRole = try await enclave.token(TestUsers.noRole)
            let refused = try await git(["-C", work, "push", "http://git:\(tokenNoRole)@\(repo)", "main"], home: home)
            #expect(refused.status != 0)
            #expect(refused.error.contains("403"), "\(refused.error)")
            let anonymous = try await git(["-C", work, "push", "http://\(repo)", "main"], home: home)
            #expect(anonymous.status != 0)
            #expect(anonymous.error.contains("could not read Username"), "\(anonymous.error)")
            let challenge = try await scenario.call(.get, "\(base)/repo/analysis.git/info/refs?service=git-receive-pack", as: nil)
            #expect(challenge.status == .unauthorized)
            #expect(challenge.headers[values: .wwwAuthenticate].contains { $0.hasPrefix("Basic") })

            // cgit lists the repository and its commit.
            let index = try await scenario.call(.get, "\(base)/cgit/", as: TestUsers.researcher2)
            #expect(index.status == .ok)
            #expect(index.text.contains("analysis.git"), "\(index.text.prefix(500))")
            let commits = try await scenario.call(.get, "\(base)/cgit/analysis.git/log/", as: TestUsers.owner)
            #expect(commits.text.contains("First results from A") && commits.text.contains("Review by B"))
            #expect(try await scenario.call(.get, "\(base)/cgit-static/cgit.css", as: TestUsers.owner).headers[.contentType] == "text/css")

            // Straight to the server, around the gateway (as anything else in the workspace's network would): refused
            // even when it claims to be a member.
            let sealed = try #require(try await enclave.deps.store.sealedSecrets(resourceId: svc))
            let upstream = try #require(try enclave.deps.controlPlane.secrets.open(sealed)["gateway_upstream"]?.stringValue)
            var direct = HTTPClientRequest(url: "\(upstream)/repo/analysis.git/info/refs?service=git-receive-pack")
            direct.headers.add(name: "X-Forwarded-User", value: TestUsers.researcher.id)
            let answer = try await HTTPClient.shared.execute(direct, timeout: .seconds(30))
            #expect(answer.status.code == 403)

            try await scenario.deleteWorkspace(ws, uid: uid)
        }
        let leftover = try await HostCommand().check(["ps", "-e", "-o", "args="])
        #expect(!leftover.contains(enclave.dataDir.path), "no process runs from the test's DATA any more")
    }
}
