public import ArgumentParser

/// One of Azure TRE's four resource collections, as the generic resource commands need it: where it
/// lives (given its group command's `--workspace`/`--service`) and the envelope keys of its answers.
///
/// The `list/new/show/update/set-enabled/delete/invoke-action/operations` commands are written once,
/// generic over the scope, so the four command groups cannot drift apart.
public protocol ResourceScope: Sendable {
    /// The command group the leaf commands sit under, holding the parent ids.
    associatedtype Group: ParsableCommand
    /// "workspace service": for help and messages.
    static var singular: String { get }
    static var plural: String { get }
    /// The key of a single resource's envelope, e.g. `workspaceService`.
    static var itemKey: String { get }
    /// The key of a list's envelope, e.g. `workspaceServices`.
    static var listKey: String { get }
    /// The collection's path below `/api`, e.g. `/workspaces/WS/workspace-services`.
    static func collectionPath(_ group: Group) -> String
}

enum WorkspaceScope: ResourceScope {
    static let singular = "workspace"
    static let plural = "workspaces"
    static let itemKey = "workspace"
    static let listKey = "workspaces"
    static func collectionPath(_ group: WorkspacesCommand) -> String { "/workspaces" }
}

enum WorkspaceServiceScope: ResourceScope {
    static let singular = "workspace service"
    static let plural = "workspace services"
    static let itemKey = "workspaceService"
    static let listKey = "workspaceServices"
    static func collectionPath(_ group: WorkspaceServicesCommand) -> String {
        "/workspaces/\(group.workspace)/workspace-services"
    }
}

enum UserResourceScope: ResourceScope {
    static let singular = "user resource"
    static let plural = "user resources"
    static let itemKey = "userResource"
    static let listKey = "userResources"
    static func collectionPath(_ group: UserResourcesCommand) -> String {
        "/workspaces/\(group.workspace)/workspace-services/\(group.service)/user-resources"
    }
}

enum SharedServiceScope: ResourceScope {
    static let singular = "shared service"
    static let plural = "shared services"
    static let itemKey = "sharedService"
    static let listKey = "sharedServices"
    static func collectionPath(_ group: SharedServicesCommand) -> String { "/shared-services" }
}

/// The subcommands every resource group has.
func resourceSubcommands<Scope: ResourceScope>(_ scope: Scope.Type) -> [any ParsableCommand.Type] {
    [
        ListResources<Scope>.self, NewResource<Scope>.self, ShowResource<Scope>.self, UpdateResource<Scope>.self,
        SetEnabled<Scope>.self, DeleteResource<Scope>.self, InvokeAction<Scope>.self,
        ResourceOperations<Scope>.self,
    ]
}

/// `enclave workspaces …`
public struct WorkspacesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workspaces", abstract: "List, create, change and delete workspaces.",
        subcommands: resourceSubcommands(WorkspaceScope.self))

    public init() {}
}

/// `enclave workspace-services --workspace WS …`
public struct WorkspaceServicesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "workspace-services", abstract: "List, create, change and delete a workspace's services.",
        subcommands: resourceSubcommands(WorkspaceServiceScope.self))

    @Option(help: "The workspace id.")
    public var workspace: String

    public init() {}
}

/// `enclave user-resources --workspace WS --service SVC …`
public struct UserResourcesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "user-resources", abstract: "List, create, change and delete user resources of a workspace service.",
        subcommands: resourceSubcommands(UserResourceScope.self))

    @Option(help: "The workspace id.")
    public var workspace: String

    @Option(help: "The workspace service id.")
    public var service: String

    public init() {}
}

/// `enclave shared-services …`
public struct SharedServicesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shared-services", abstract: "List, create, change and delete shared services (TREAdmin).",
        subcommands: resourceSubcommands(SharedServiceScope.self))

    public init() {}
}
