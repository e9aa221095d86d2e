import ArgumentParser
import EnclaveCLI

@main
struct Enclave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enclave",
        abstract: "A Trusted Research Environment: control plane server, worker and client.",
        subcommands: [Serve.self, Worker.self, Token.self, Users.self, Clients.self, Audit.self] + ClientCommands.all)
}
