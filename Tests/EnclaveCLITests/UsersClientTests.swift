import EnclaveCLI
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HummingbirdTesting
import Testing

/// `enclave users …` through the API against the real server, in-process on a free port.
@Suite("Users commands against a live server", .serialized)
struct UsersClientTests {
    func withServer(_ body: @Sendable (_ enclave: TestEnclave, _ variables: [String: String]) async throws -> Void) async throws {
        let enclave = try await TestEnclave.make(workers: 0)
        defer { enclave.remove() }
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let token = try await enclave.token(TestUsers.admin)
        let app = try buildApplication(enclave.deps)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(enclave, ["ENCLAVE_URL": "http://127.0.0.1:\(port)", "ENCLAVE_TOKEN": token, "XDG_CONFIG_HOME": home.path])
        }
    }

    func json(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    @Test("invite prints the one-time link; list, assign, remove, disable and enable work by username or id")
    func inviteAndManage() async throws {
        try await withServer { enclave, variables in
            let invited = await runCLI(
                ["users", "invite", "Rosa", "--name", "Rosa Franklin", "--email", "rosa@example.org", "--role", "TREUser"],
                variables: variables)
            #expect(invited.exitCode == 0, "\(invited.stderr)")
            let lines = invited.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("Invited rosa (") == true && lines.first?.hasSuffix("with roles TREUser.") == true)
            #expect(lines.last?.hasPrefix("http://127.0.0.1:0/oidc/invitation?token=") == true, "\(invited.stdout)")
            let id = try #require(try await enclave.deps.store.user(username: "rosa")?.id)

            let listed = await runCLI(["users", "list"], variables: variables)
            #expect(listed.exitCode == 0, "\(listed.stderr)")
            #expect(listed.stdout.hasPrefix("USERNAME "))
            let row = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix("rosa ") })
            #expect(row.contains(id) && row.contains("Rosa Franklin") && row.contains("not enrolled") && row.contains("builtin"))
            #expect(row.hasSuffix("never"))

            // Another admin, so rosa is not the last TREAdmin once she has the role.
            _ = await runCLI(["users", "invite", "ada", "--email", "ada@example.org", "--role", "TREAdmin"], variables: variables)
            let assigned = await runCLI(["users", "assign", "ROSA", "TREAdmin", "-o", "json"], variables: variables)
            #expect(assigned.exitCode == 0, "\(assigned.stderr)")
            #expect(try json(assigned.stdout)["user"]?["roles"] == ["TREUser", "TREAdmin"])
            let removed = await runCLI(["users", "remove", id, "TREAdmin"], variables: variables)
            #expect(removed.exitCode == 0, "\(removed.stderr)")
            #expect(removed.stdout.split(separator: "\n").last?.contains(" TREUser ") == true, "\(removed.stdout)")
            #expect(try await enclave.deps.store.user(id: id)?.roles == ["TREUser"])

            let disabled = await runCLI(["users", "disable", "rosa"], variables: variables)
            #expect(disabled.exitCode == 0, "\(disabled.stderr)")
            #expect(try await enclave.deps.store.user(id: id)?.enabled == false)
            let enabled = await runCLI(["users", "enable", "rosa", "-o", "json"], variables: variables)
            #expect(try json(enabled.stdout)["user"]?["enabled"] == true)

            let reinvited = await runCLI(["users", "reinvite", "rosa", "-o", "json"], variables: variables)
            #expect(reinvited.exitCode == 0, "\(reinvited.stderr)")
            let url = try #require(try json(reinvited.stdout)["invitationUrl"]?.stringValue)
            #expect(!invited.stdout.contains(url))

            let filtered = await runCLI(["users", "list", "--filter", "franklin", "-o", "json"], variables: variables)
            #expect(try json(filtered.stdout)["users"]?.arrayValue?.map { $0["username"] } == ["rosa"])
            let shown = await runCLI(["users", "show", "rosa"], variables: variables)
            #expect(shown.exitCode == 0 && shown.stdout.contains(id))
        }
    }

    @Test("refusals print the API's message, exit 1 and change nothing")
    func refusals() async throws {
        try await withServer { enclave, variables in
            _ = await runCLI(["users", "invite", "ada", "--email", "ada@example.org", "--role", "TREAdmin"], variables: variables)
            let before = try await enclave.deps.store.users()
            let cases: [([String], String)] = [
                (["users", "remove", "ada", "TREAdmin"], "Error (409): 'ada' is the last TREAdmin"),
                (["users", "disable", "ada"], "Error (409): 'ada' is the last TREAdmin"),
                (["users", "assign", "ada", "Root"], "Error (400): Unknown role 'Root'"),
                (["users", "assign", "ghost", "TREUser"], "Error: No user 'ghost'"),
                (["users", "invite", "ADA", "--email", "x@example.org"], "Error (409): A user named 'ada' already exists"),
                (["users", "invite", "bad name", "--email", "x@example.org"], "Error (400): A username may contain only"),
                (["users", "invite", "eve", "--email", "nope"], "Error (400): 'nope' is not an email address"),
                // The admin calling is known from its token only: its provider manages it.
                (["users", "disable", TestUsers.admin.id], "Error (409): 'ada@example.org' is managed by the identity provider"),
            ]
            for (arguments, message) in cases {
                let result = await runCLI(arguments, variables: variables)
                #expect(result.exitCode == 1, "\(arguments)")
                #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
                #expect(result.stderr.hasPrefix(message), "\(arguments): \(result.stderr)")
            }
            #expect(try await enclave.deps.store.users() == before)

            var user = variables
            user["ENCLAVE_TOKEN"] = try await enclave.token(TestUsers.treUser)
            let forbidden = await runCLI(["users", "list"], variables: user)
            #expect(forbidden.exitCode == 1 && forbidden.stderr.hasPrefix("Error (403): The user is missing a required role"))
        }
    }
}
