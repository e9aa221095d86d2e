import Foundation
import Testing

@testable import EnclaveCore

/// Every `template_schema.json` Azure TRE ships must register, enrich and validate unchanged.
@Suite("Azure TRE template fixtures", .enabled(if: Fixtures.shouldRun, Fixtures.skipReason))
struct AzureTREFixtureTests {
    @Test
    func fixturesAreFoundAndIncludeEveryResourceType() throws {
        let root = try #require(Fixtures.root, "Azure TRE fixtures not found (CI=true requires them)")
        #expect(Fixtures.templateSchemaPaths.count >= 20, "\(root.path)")
        let types = Set(Fixtures.templateSchemaPaths.map(FixtureTemplate.resourceType(ofPath:)))
        #expect(types == Set(ResourceType.allCases))
    }

    @Test(arguments: Fixtures.templateSchemaPaths)
    func templateRegistersUnchangedAndEnriches(_ path: String) throws {
        let template = try FixtureTemplate.register(path)
        let enriched = template.enriched()
        #expect(enriched["type"] == "object")
        #expect(enriched["unevaluatedProperties"] == false)
        let required = enriched["required"]?.arrayValue ?? []
        #expect(required.contains("display_name") && required.contains("description"))
        #expect(enriched["properties"]?["display_name"]?["type"] == "string")
        // The enriched template is itself a schema Enclave accepts.
        _ = try JSONSchema(enriched)
        _ = try JSONSchema(template.enriched(isUpdate: true))
    }

    @Test(arguments: Fixtures.templateSchemaPaths)
    func propertiesBuiltFromTheTemplatesOwnSchemaAreValid(_ path: String) throws {
        let template = try FixtureTemplate.register(path)
        let input = FixtureTemplate.validInput(for: template)
        try template.validateCreate(input)
        try template.validateCreate(template.applyingDefaults(to: input))
    }

    @Test(arguments: Fixtures.templateSchemaPaths)
    func unknownPropertyWrongTypeAndWrongEnumAreRejectedByName(_ path: String) throws {
        let template = try FixtureTemplate.register(path)
        let input = FixtureTemplate.validInput(for: template)

        var unknown = input
        unknown["no_such_property"] = "x"
        expectBadRequest(naming: "/no_such_property", rule: "unevaluatedProperties") { try template.validateCreate(unknown) }

        var wrongType = input
        wrongType["display_name"] = 42
        expectBadRequest(naming: "/display_name", rule: "type") { try template.validateCreate(wrongType) }

        let enumProperty = template.properties.keys.sorted().first { template.properties[$0]?["enum"] != nil }
        if let enumProperty {
            var wrongEnum = input
            wrongEnum[enumProperty] = "definitely-not-allowed"
            expectBadRequest(naming: "/\(enumProperty)", rule: "enum") { try template.validateCreate(wrongEnum) }
        }
    }

    @Test
    func baseWorkspaceAcceptsTheUsualCreateBody() throws {
        let template = try FixtureTemplate.register("templates/workspaces/base/template_schema.json")
        try template.validateCreate([
            "display_name": "x", "description": "y", "auth_type": "Automatic", "address_space_size": "small",
        ])
    }

    @Test
    func baseWorkspaceRequiresAddressSpaceOnlyWhenSizeIsCustom() throws {
        let template = try FixtureTemplate.register("templates/workspaces/base/template_schema.json")
        let body: [String: JSONValue] = [
            "display_name": "x", "description": "y", "auth_type": "Automatic", "address_space_size": "custom",
        ]
        expectBadRequest(naming: "/address_space", rule: "required") { try template.validateCreate(body) }
        var withSpace = body
        withSpace["address_space"] = "10.2.1.0/24"
        try template.validateCreate(withSpace)
    }

    @Test
    func baseWorkspaceManualAuthNeedsClientIdAndRejectsAutomaticOnlyProperties() throws {
        let template = try FixtureTemplate.register("templates/workspaces/base/template_schema.json")
        let manual: [String: JSONValue] = [
            "display_name": "x", "description": "y", "auth_type": "Manual", "address_space_size": "small",
            "create_aad_groups": true,
        ]
        expectBadRequest(naming: "/client_id", rule: "required") { try template.validateCreate(manual) }
        expectBadRequest(naming: "/create_aad_groups", rule: "unevaluatedProperties") { try template.validateCreate(manual) }
        var fixed = manual
        fixed["create_aad_groups"] = nil
        fixed["client_id"] = "abc"
        fixed["client_secret"] = "s3cret"
        try template.validateCreate(fixed)
        #expect(template.masked(fixed)["client_secret"] == "REDACTED")
        #expect(template.masked(fixed)["client_id"] == "abc")
    }

    @Test
    func guacamoleLinuxVMAcceptsAHandWrittenBody() throws {
        let path = "templates/workspace_services/guacamole/user_resources/guacamole-azure-linuxvm/template_schema.json"
        let template = try FixtureTemplate.register(path)
        #expect(template.resourceType == .userResource)
        #expect(template.enriched()["parentWorkspaceService"] == "tre-service-guacamole")
        let size = try #require(template.properties["vm_size"]?["enum"]?.arrayValue?.first)
        let image = try #require(template.properties["os_image"]?["enum"]?.arrayValue?.first)
        try template.validateCreate(["display_name": "my vm", "description": "for analysis", "vm_size": size, "os_image": image])
    }

    @Test
    func guacamolePipelineDecodesWithItsArraySubstitutions() throws {
        let template = try FixtureTemplate.register("templates/workspace_services/guacamole/template_schema.json")
        let pipeline = try #require(template.pipeline)
        let install = try #require(pipeline.install)
        #expect(install.contains { $0.isMain })
        let actions = install.flatMap { $0.properties ?? [] }.compactMap(\.arraySubstitutionAction)
        #expect(!actions.isEmpty)
        #expect(pipeline.uninstall?.flatMap { $0.properties ?? [] }.contains { $0.arraySubstitutionAction == .remove } == true)
    }

    @Test(arguments: ResourceType.allCases)
    func embeddedBaseSchemasMatchAzureTREsFiles(_ type: ResourceType) throws {
        let file: String =
            switch type {
            case .workspace: "workspace.json"
            case .workspaceService: "workspace_service.json"
            case .userResource: "user_resource.json"
            case .sharedService: "shared_service.json"
            }
        let schema = try Fixtures.json("api_app/schemas/\(file)")
        let embedded = TemplateBaseSchema.parts(for: type)
        #expect(schema["required"] == .array(embedded.required.map(JSONValue.string)))
        #expect(schema["properties"] == .object(embedded.properties))
        if type == .workspace {
            let azureAD = try Fixtures.json("api_app/schemas/azuread.json")
            #expect(azureAD["required"] == [] && azureAD["properties"] == [:])
        }
    }
}

/// Registers fixture templates and builds inputs from their own schemas.
enum FixtureTemplate {
    static func resourceType(ofPath path: String) -> ResourceType {
        if path.contains("/user_resources/") { return .userResource }
        if path.hasPrefix("templates/workspaces/") { return .workspace }
        if path.hasPrefix("templates/workspace_services/") { return .workspaceService }
        return .sharedService
    }

    /// The workspace-service template a user-resource fixture sits under (`tre-service-<folder>`).
    static func parentService(ofPath path: String) -> String? {
        let parts = path.split(separator: "/")
        guard path.contains("/user_resources/"), parts.count > 2 else { return nil }
        return "tre-service-\(parts[2])"
    }

    static func register(_ path: String) throws -> ResourceTemplate {
        let schema = try Fixtures.json(path)
        let name = "fixture-" + path.split(separator: "/").dropLast().joined(separator: "-")
        let registration = TemplateRegistration(
            name: name, version: "1.0.0", current: true, json_schema: schema,
            customActions: [CustomAction(name: "start", description: "Start")])
        return try ResourceTemplate(
            registration: registration, type: resourceType(ofPath: path),
            parent: parentService(ofPath: path), id: "00000000-0000-4000-8000-000000000001")
    }

    /// A property set the template's own schema describes: every required property (root and of
    /// applicable `allOf` branches, repeated until stable) with a value taken from the definition.
    static func validInput(for template: ResourceTemplate) -> [String: JSONValue] {
        var input: [String: JSONValue] = [:]
        var changed = true
        while changed {
            changed = false
            let definitions = template.declaredProperties(for: input)
            var required = template.enriched()["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for branch in template.applicableBranches(for: input) {
                required += branch["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            }
            for name in required where input[name] == nil {
                input[name] = sample(definitions[name]?.first ?? [:])
                changed = true
            }
        }
        return input
    }

    /// The first of const, enum[0], default, examples[0] and a made-up value of the right type that
    /// the definition itself accepts (a template's default may violate its own rules, e.g. `""` with minLength 1).
    static func sample(_ definition: JSONValue) -> JSONValue {
        let candidates = [
            definition["const"], definition["enum"]?.arrayValue?.first, definition["default"],
            definition["examples"]?.arrayValue?.first,
        ].compactMap { $0 }.filter { $0 != .null }
        let schema = try? JSONSchema(definition)
        return candidates.first { schema?.isValid($0) ?? true } ?? madeUp(definition)
    }

    static func madeUp(_ definition: JSONValue) -> JSONValue {
        let type = definition["type"]?.stringValue ?? definition["type"]?.arrayValue?.first?.stringValue ?? "string"
        switch type {
        case "integer": return .int(definition["minimum"]?.intValue ?? 1)
        case "number": return .double(definition["minimum"]?.numberValue ?? 1)
        case "boolean": return false
        case "array": return []
        case "null": return nil
        case "object":
            var object: [String: JSONValue] = [:]
            for name in definition["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                object[name] = sample(definition["properties"]?[name] ?? [:])
            }
            return .object(object)
        default:
            let minLength = definition["minLength"]?.intValue ?? 1
            return .string(String(repeating: "x", count: max(minLength, 1)))
        }
    }
}

/// Expects a 400 whose message names `pointer` with `rule`.
func expectBadRequest(
    naming pointer: String, rule: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected a 400 naming \(pointer) (\(rule))", sourceLocation: sourceLocation)
    } catch let error as EnclaveError {
        #expect(error.statusCode == 400, sourceLocation: sourceLocation)
        #expect(error.message.contains("\(pointer): "), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains("(\(rule))"), "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an EnclaveError, got \(error)", sourceLocation: sourceLocation)
    }
}
