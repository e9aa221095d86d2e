import ArgumentParser
import Foundation
import Testing

@testable import EnclaveCLI

@Suite("Config store and connection")
struct ConfigStoreTests {
    func permissions(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test("The config dir follows XDG_CONFIG_HOME, else HOME/.config")
    func configDirFollowsXDG() {
        #expect(ConfigStore(variables: ["XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"]).file.path == "/x/cfg/enclave/config.json")
        #expect(ConfigStore(variables: ["HOME": "/h"]).file.path == "/h/.config/enclave/config.json")
        #expect(ConfigStore(variables: ["XDG_CONFIG_HOME": "relative", "HOME": "/h"]).file.path == "/h/.config/enclave/config.json")
    }

    @Test("A saved login is readable only by its owner: file 0600 in a 0700 directory")
    func savedLoginIsPrivate() throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = ConfigStore(variables: ["XDG_CONFIG_HOME": home.path])
        try store.save(StoredLogin(url: "http://a", token: "t1"))
        try store.save(StoredLogin(url: "http://b", token: "t2"))
        #expect(try permissions(store.file) == 0o600)
        #expect(try permissions(store.directory) == 0o700)
        #expect(try store.load() == StoredLogin(url: "http://b", token: "t2"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.path) == ["config.json"])
    }

    @Test("login saves the login and logout removes it")
    func loginAndLogout() async throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let variables = ["XDG_CONFIG_HOME": home.path]
        let login = await runCLI(["login", "--url", "http://127.0.0.1:9", "--token", "tok", "--no-verify"], variables: variables)
        #expect(login.exitCode == 0)
        let store = ConfigStore(variables: variables)
        #expect(try store.load() == StoredLogin(url: "http://127.0.0.1:9", token: "tok"))
        #expect(try permissions(store.file) == 0o600)
        #expect(await runCLI(["logout"], variables: variables).exitCode == 0)
        #expect(try store.load() == nil)
    }

    @Test("Flags override the environment, which overrides the saved login")
    func connectionPrecedence() throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        var variables = ["XDG_CONFIG_HOME": home.path]
        try ConfigStore(variables: variables).save(StoredLogin(url: "http://saved", token: "saved"))
        let environment = { Captured().environment(variables: variables) }
        var options = try ConnectionOptions.parse([])
        #expect(try options.resolve(environment()).url == "http://saved")
        #expect(try options.resolve(environment()).token == "saved")
        variables["ENCLAVE_URL"] = "http://env"
        variables["ENCLAVE_TOKEN"] = "env"
        #expect(try options.resolve(environment()).url == "http://env")
        #expect(try options.resolve(environment()).token == "env")
        options.url = "http://flag"
        options.token = "flag"
        #expect(try options.resolve(environment()).url == "http://flag")
        #expect(try options.resolve(environment()).token == "flag")
    }

    @Test("Without any URL the command says how to log in and fails")
    func missingURLExplainsLogin() async throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = await runCLI(["workspaces", "list"], variables: ["XDG_CONFIG_HOME": home.path])
        #expect(result.exitCode != 0)
        #expect(result.stderr.contains("enclave login --url URL"))
    }

    @Test("A server that cannot be reached is named in the error")
    func unreachableServerIsNamed() async throws {
        let home = try temporaryConfigHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = await runCLI(["health", "--url", "http://127.0.0.1:1"], variables: ["XDG_CONFIG_HOME": home.path])
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("Error: could not reach http://127.0.0.1:1/api/health"))
    }
}
