import Foundation
import Testing

@testable import EnclaveCLI

/// `enclave git-credential`: git gets the access token as the password, for Enclave's server only.
@Suite("git credential helper")
struct GitCredentialTests {
    @Test func gitAskingTheSignedInServerGetsTheTokenAsThePassword() async throws {
        let variables = ["ENCLAVE_URL": "https://tre.example.org", "ENCLAVE_TOKEN": "eyJ.token"]
        let result = await runCLI(
            ["git-credential", "get"], variables: variables,
            input: ["protocol=https", "host=tre.example.org", "path=workspaces/w/services/s/repo/a.git", ""])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout == "username=enclave\npassword=eyJ.token\n")
    }

    @Test(arguments: [
        ["protocol=https", "host=github.example.com"], ["protocol=http", "host=tre.example.org"], ["protocol=https", "host=tre.example.org:8443"],
        ["host=tre.example.org"],
    ])
    func anotherHostProtocolOrPortGetsNothing(request: [String]) async throws {
        let variables = ["ENCLAVE_URL": "https://tre.example.org", "ENCLAVE_TOKEN": "eyJ.token"]
        let result = await runCLI(["git-credential", "get"], variables: variables, input: request + [""])
        #expect(result.exitCode == 0)
        #expect(result.stdout.isEmpty, "the token went to \(request)")
    }

    @Test func serversOnOtherPortsMatchWithTheirPort() {
        let request = ["protocol": "http", "host": "127.0.0.1:8000"]
        #expect(GitCredentialCommand.isForServer(request, serverURL: "http://127.0.0.1:8000"))
        #expect(!GitCredentialCommand.isForServer(request, serverURL: "http://127.0.0.1:9000"))
        #expect(GitCredentialCommand.isForServer(["protocol": "https", "host": "tre.example.org:443"], serverURL: "https://tre.example.org"))
        #expect(GitCredentialCommand.isForServer(["protocol": "https", "host": "tre.example.org"], serverURL: "https://tre.example.org:443/"))
    }

    @Test func storeAndEraseAreIgnoredAndOtherOperationsRefused() async throws {
        let variables = ["ENCLAVE_URL": "https://tre.example.org", "ENCLAVE_TOKEN": "eyJ.token"]
        for operation in ["store", "erase"] {
            let result = await runCLI(
                ["git-credential", operation], variables: variables, input: ["protocol=https", "host=tre.example.org", "password=x", ""])
            #expect(result.exitCode == 0)
            #expect(result.stdout.isEmpty)
        }
        let wrong = await runCLI(["git-credential", "fetch"], variables: variables)
        #expect(wrong.exitCode != 0)
        #expect(wrong.stderr.contains("get, store or erase"))
    }

    @Test func withoutALoginGitIsToldToSignIn() async throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = await runCLI(
            ["git-credential", "get"], variables: ["ENCLAVE_URL": "https://tre.example.org", "XDG_CONFIG_HOME": home.path],
            input: ["protocol=https", "host=tre.example.org", ""])
        #expect(result.exitCode != 0)
        #expect(result.stderr.contains("enclave login"), "\(result.stderr)")
    }
}
