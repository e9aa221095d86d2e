public import EnclaveCore
import Foundation

/// The tables the commands print: the key fields of each wire type, in Azure TRE's terms.
public enum Tables {
    /// id, name (display_name), template, version, status, enabled.
    public static func resources(_ resources: [Resource]) -> Table {
        Table(
            columns: ["id", "name", "template", "version", "status", "enabled"],
            rows: resources.map { resource in
                [
                    resource.id, resource.properties["display_name"]?.text ?? "", resource.templateName,
                    resource.templateVersion, resource.deploymentStatus ?? "-", resource.isEnabled ? "yes" : "no",
                ]
            })
    }

    /// id, action, status, resource path, message (steps are in `--output json`).
    public static func operations(_ operations: [ResourceOperation]) -> Table {
        Table(
            columns: ["id", "action", "status", "resource", "message"],
            rows: operations.map { op in [op.id, op.action, op.status.rawValue, op.resourcePath, op.message] },
            maxCellWidth: 80)
    }

    /// Template summaries (`GET /api/…-templates`): name, title, description; with a type column when
    /// several types are listed together.
    public static func templates(_ templates: [(type: String, summary: JSONValue)], showType: Bool) -> Table {
        Table(
            columns: (showType ? ["type"] : []) + ["name", "title", "description"],
            rows: templates.map { item in
                (showType ? [item.type] : []) + [
                    item.summary["name"]?.text ?? "", item.summary["title"]?.text ?? "",
                    item.summary["description"]?.text ?? "",
                ]
            })
    }

    /// One enriched template (`GET /api/…-templates/{name}`).
    public static func template(_ template: JSONValue) -> Table {
        let actions: [String] =
            template["customActions"]?.arrayValue?.compactMap { $0["name"]?.text } ?? []
        return Table(
            columns: ["name", "version", "type", "title", "custom actions"],
            rows: [
                [
                    template["name"]?.text ?? "", template["version"]?.text ?? "",
                    template["resourceType"]?.text ?? "", template["title"]?.text ?? "",
                    actions.joined(separator: ", "),
                ]
            ])
    }

    /// `GET /api/users`: username, id, name, email, roles, enabled, MFA, source, last seen (UTC).
    public static func users(_ users: [DirectoryUser]) -> Table {
        Table(
            columns: ["username", "id", "name", "email", "roles", "enabled", "mfa", "source", "last seen"],
            rows: users.map { user in
                [
                    user.username, user.id, user.name, user.email, user.roles.joined(separator: ","), user.enabled ? "yes" : "no",
                    user.source == .builtin ? (user.mfaEnrolled ? "enrolled" : "not enrolled") : "-", user.source.rawValue,
                    user.lastSeen.map { Date(timeIntervalSince1970: $0).formatted(.iso8601) } ?? "never",
                ]
            })
    }

    /// `GET /api/health`: service, status, message.
    public static func health(_ services: [JSONValue]) -> Table {
        Table(
            columns: ["service", "status", "message"],
            rows: services.map { [$0["service"]?.text ?? "", $0["status"]?.text ?? "", $0["message"]?.text ?? ""] })
    }
}

extension JSONValue {
    /// Scalars as a table cell shows them; nil for arrays and objects.
    var text: String? {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .null: ""
        case .array, .object: nil
        }
    }
}

extension ResourceOperation {
    /// The step progress lines show: while running, the first unfinished step; once finished, the
    /// step that failed, else the last.
    public var currentStep: OperationStep? {
        if !status.isTerminal, let running = steps.first(where: { !$0.status.isTerminal }) { return running }
        return steps.first { $0.status.isFailure } ?? steps.last
    }

    /// The 1-based position of `currentStep`.
    var currentStepNumber: Int? {
        guard let step = currentStep else { return nil }
        return steps.firstIndex(of: step).map { $0 + 1 }
    }
}
