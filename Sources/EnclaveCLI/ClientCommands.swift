public import ArgumentParser

/// The client commands, in the order `enclave --help` lists them; the root command adds them to its
/// subcommands beside `serve`, `worker` and `token`.
public enum ClientCommands {
    public static let all: [any ParsableCommand.Type] = [
        LoginCommand.self, LogoutCommand.self, HealthCommand.self, WorkspacesCommand.self, WorkspaceCommand.self,
        WorkspaceServicesCommand.self, UserResourcesCommand.self, SharedServicesCommand.self,
        TemplatesCommand.self, OperationsCommand.self, GitCredentialCommand.self,
    ]
}
