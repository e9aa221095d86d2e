public import ArgumentParser
import EnclaveAPI
import EnclaveCore

/// `enclave templates list|show|new`: the template registry, one command for the four types.
public struct TemplatesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "templates", abstract: "List, show and register resource templates.",
        subcommands: [ListTemplates.self, ShowTemplate.self, NewTemplate.self])

    public init() {}
}

/// Which registry a template command addresses.
enum TemplateType: String, CaseIterable, ExpressibleByArgument {
    case workspace
    case workspaceService = "workspace-service"
    case sharedService = "shared-service"
    case userResource = "user-resource"

    /// The registry's path below `/api`; user-resource templates sit under their service template.
    func collectionPath(service: String?) throws(CLIError) -> String {
        switch self {
        case .workspace: return "/workspace-templates"
        case .workspaceService: return "/workspace-service-templates"
        case .sharedService: return "/shared-service-templates"
        case .userResource:
            guard let service, !service.isEmpty else {
                throw CLIError("User-resource templates belong to a workspace service template: pass --service NAME")
            }
            return "/workspace-service-templates/\(service)/user-resource-templates"
        }
    }
}

/// `--type` and `--service`, shared by the template commands.
struct TemplateSelection: ParsableArguments {
    @Option(help: "Template type: workspace, workspace-service, shared-service or user-resource.")
    var type: TemplateType?

    @Option(help: "The workspace service template a user-resource template belongs to.")
    var service: String?

    func validate() throws {
        if service != nil && type != .userResource { throw ValidationError("--service applies to --type user-resource only") }
        if type == .userResource && service == nil { throw ValidationError("--type user-resource needs --service NAME") }
    }
}

struct ListTemplates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List current templates (without --type: workspace, workspace-service and shared-service ones).")

    @OptionGroup var selection: TemplateSelection
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let types = selection.type.map { [$0] } ?? [.workspace, .workspaceService, .sharedService]
            var rows: [(type: String, summary: JSONValue)] = []
            var bodies: [String: JSONValue] = [:]
            for type in types {
                let response = try await client.get("/api" + type.collectionPath(service: selection.service))
                let templates = try client.decode([JSONValue].self, key: "templates", from: response)
                rows += templates.map { (type.rawValue, $0) }
                bodies[type.rawValue] = .array(templates)
            }
            switch output.output {
            case .table: environment.print(Tables.templates(rows, showType: selection.type == nil).render())
            case .json:
                // One type: the API's body; several: one {"templates": […]} per type, keyed by type.
                if let only = types.first, types.count == 1 {
                    environment.print(Printer.prettyJSON(["templates": bodies[only.rawValue] ?? .array([])]))
                } else {
                    environment.print(Printer.prettyJSON(bodies))
                }
            }
        }
    }
}

struct ShowTemplate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a template with its full (enriched) JSON schema.")

    @Argument(help: "The template's name.") var name: String
    @OptionGroup var selection: TemplateSelection
    @Option(help: "A specific version (default: the current one).") var version: String?
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            var path = "/api" + (try (selection.type ?? .workspace).collectionPath(service: selection.service)) + "/" + name
            if let version { path += "?version=\(version)" }
            let response = try await client.get(path)
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.template(try client.decode(JSONValue.self, from: response))
            }
        }
    }
}

struct NewTemplate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Register a template version (TREAdmin).",
        discussion: "The definition is the registration body: name, version, current, json_schema, …")

    @OptionGroup var selection: TemplateSelection
    @OptionGroup var definition: DefinitionOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if selection.type == nil { throw ValidationError("Pass --type: workspace, workspace-service, shared-service or user-resource") }
    }

    func run() async throws {
        let environment = CLIEnvironment.current
        try await environment.reportingErrors {
            let client = try connection.client(environment)
            let body = try definition.body(environment)
            let path = "/api" + (try (selection.type ?? .workspace).collectionPath(service: selection.service))
            let response = try await client.post(path, body: body)
            try Printer(environment: environment, format: output.output).print(response) { () throws(EnclaveClientError) in
                Tables.template(try client.decode(JSONValue.self, from: response))
            }
        }
    }
}
