import Testing

@testable import EnclaveCore

/// A small workspace template exercising updateable, sensitive, defaults and conditional branches.
let sampleSchema: JSONValue = [
    "$schema": "http://json-schema.org/draft-07/schema",
    "title": "Sample Workspace",
    "description": "For tests",
    "required": ["size"],
    "authorizedRoles": ["TREAdmin"],
    "properties": [
        "size": ["type": "string", "enum": ["small", "custom"], "default": "small"],
        "quota": ["type": "integer", "minimum": 1, "updateable": true],
        "enable_airlock": ["type": "boolean", "default": true, "updateable": true],
        "password": ["type": "string", "sensitive": true, "updateable": true],
        "settings": [
            "type": "object",
            "properties": ["token": ["type": "string", "sensitive": true]],
        ],
    ],
    "allOf": [
        [
            "if": ["properties": ["enable_airlock": ["const": true]], "required": ["enable_airlock"]],
            "then": [
                "properties": [
                    "review_vms": ["type": "boolean", "default": false, "updateable": true],
                    "airlock_key": ["type": "string", "sensitive": true],
                ]
            ],
            "else": ["properties": ["reason": ["type": "string"]]],
        ],
        [
            "if": ["properties": ["review_vms": ["const": true]], "required": ["review_vms"]],
            "then": ["properties": ["review_sku": ["type": "string", "default": "B2s"]]],
        ],
    ],
    "uiSchema": ["ui:order": ["size", "*"]],
    "pipeline": [
        "install": [
            ["stepId": "main"],
            [
                "stepId": "add-rule", "stepTitle": "Add a firewall rule", "resourceTemplateName": "tre-shared-service-firewall",
                "resourceType": "shared-service", "resourceAction": "upgrade",
                "properties": [
                    [
                        "name": "rule_collections", "type": "array", "arraySubstitutionAction": "replace",
                        "arrayMatchField": "name", "value": ["name": "arc_{{ resource.id }}"],
                    ]
                ],
            ],
        ],
        "uninstall": [["stepId": "main"]],
    ],
]

func sampleTemplate(_ schema: JSONValue = sampleSchema, type: ResourceType = .workspace) throws -> ResourceTemplate {
    try ResourceTemplate(
        registration: TemplateRegistration(
            name: "sample", version: "1.2.3", current: true, json_schema: schema,
            customActions: [CustomAction(name: "start", description: "Starts it")]),
        type: type, parent: type == .userResource ? "tre-service-parent" : nil,
        id: "11111111-1111-4111-8111-111111111111")
}

@Suite("Resource templates")
struct ResourceTemplateTests {
    // MARK: Registration

    @Test
    func registrationTakesTitleAndDescriptionFromTheSchemaAndKeepsItWhole() throws {
        let template = try sampleTemplate()
        #expect(template.title == "Sample Workspace")
        #expect(template.description == "For tests")
        #expect(template.schema == sampleSchema)
        #expect(template.authorizedRoles == ["TREAdmin"])
        #expect(template.required == ["size"])
        #expect(template.uiSchema == ["ui:order": ["size", "*"]])
        #expect(template.pipeline?.install?.count == 2)
        #expect(template.customActions == [CustomAction(name: "start", description: "Starts it")])
        #expect(template.isAuthorized(roles: ["TREAdmin"]) && !template.isAuthorized(roles: ["TREUser"]))
    }

    @Test
    func registrationDecodesAzureTREWireNames() throws {
        let body = #"{"name":"n","version":"1.0.0","current":true,"json_schema":{"title":"t"},"customActions":[{"name":"stop"}]}"#
        let registration = try JSONDecoderForTests.decode(TemplateRegistration.self, from: body)
        #expect(registration.json_schema == ["title": "t"])
        #expect(registration.customActions == [CustomAction(name: "stop", description: "")])
    }

    @Test
    func unsupportedKeywordMakesRegistrationABadRequestNamingIt() throws {
        let schema: JSONValue = ["title": "t", "properties": ["a": ["anyOf": [["type": "string"]]]]]
        #expect(throws: EnclaveError.badRequest("Template schema uses unsupported keyword 'anyOf' at /properties/a")) {
            try sampleTemplate(schema)
        }
    }

    @Test(arguments: ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.0.0+build", ""])
    func nonSemanticVersionIsABadRequest(_ version: String) {
        #expect(throws: EnclaveError.self) {
            try ResourceTemplate(
                registration: TemplateRegistration(name: "n", version: version, json_schema: ["title": "t"]),
                type: .workspace, id: "x")
        }
    }

    @Test
    func nonObjectJSONSchemaIsABadRequest() {
        #expect(throws: EnclaveError.badRequest("json_schema must be a JSON object, not array")) {
            try ResourceTemplate(
                registration: TemplateRegistration(name: "n", version: "1.0.0", json_schema: []), type: .workspace,
                id: "x")
        }
    }

    @Test
    func duplicateStepIdIsUnprocessable() {
        let schema: JSONValue = [
            "title": "t",
            "pipeline": ["install": [["stepId": "a"], ["stepId": "main"]], "upgrade": [["stepId": "a"]]],
        ]
        #expect(throws: EnclaveError.unprocessable("Invalid template - duplicate stepIds are not allowed. stepId: a")) {
            try sampleTemplate(schema)
        }
    }

    @Test
    func secondMainStepInOneActionIsUnprocessableButMainMayRepeatAcrossActions() throws {
        let twice: JSONValue = ["title": "t", "pipeline": ["install": [["stepId": "main"], ["stepId": "main"]]]]
        #expect(throws: EnclaveError.unprocessable("Invalid template - duplicate stepIds are not allowed. stepId: main")) {
            try sampleTemplate(twice)
        }
        let perAction: JSONValue = ["title": "t", "pipeline": ["install": [["stepId": "main"]], "upgrade": [["stepId": "main"]]]]
        _ = try sampleTemplate(perAction)
    }

    @Test
    func malformedPipelineIsUnprocessable() {
        let schema: JSONValue = [
            "title": "t", "pipeline": ["install": [["stepId": "x", "properties": [["name": "p", "type": "array", "arraySubstitutionAction": "merge"]]]]],
        ]
        #expect(throws: EnclaveError.self) { try sampleTemplate(schema) }
    }

    @Test
    func nullPipelineMeansNoPipeline() throws {
        let template = try sampleTemplate(["title": "t", "pipeline": nil])
        #expect(template.pipeline == nil)
        #expect(template.enriched()["pipeline"] == nil)
    }

    // MARK: Enrichment

    @Test
    func enrichedTemplateHasAzureTREsFields() throws {
        let enriched = try sampleTemplate().enriched()
        #expect(enriched["id"] == "11111111-1111-4111-8111-111111111111")
        #expect(enriched["resourceType"] == "workspace")
        #expect(enriched["current"] == true)
        #expect(enriched["type"] == "object")
        #expect(enriched["required"] == ["display_name", "description", "size"])
        #expect(enriched["properties"]?.objectValue?.keys.sorted() == [
            "description", "display_name", "enable_airlock", "overview", "password", "quota", "settings", "size",
        ])
        #expect(enriched["actions"] == [])
        #expect(enriched["customActions"] == [["name": "start", "description": "Starts it"]])
        #expect(enriched["unevaluatedProperties"] == false)
        #expect(enriched["allOf"]?.arrayValue?.count == 2)
        #expect(enriched["pipeline"] == sampleSchema["pipeline"])
        #expect(enriched["system_properties"] == [
            "tre_id": ["type": "string"], "workspace_id": ["type": "string"], "azure_location": ["type": "string"],
        ])
        #expect(enriched["parentWorkspaceService"] == nil)
        #expect(enriched["properties"]?["display_name"]?["readOnly"] == nil)
    }

    @Test
    func sharedServiceSystemPropertiesNameTheSharedServiceId() throws {
        let enriched = try sampleTemplate(type: .sharedService).enriched()
        #expect(enriched["system_properties"]?["shared_service_id"] == ["type": "string"])
        #expect(enriched["system_properties"]?["workspace_id"] == nil)
    }

    @Test
    func userResourceTemplateNamesItsParentService() throws {
        #expect(try sampleTemplate(type: .userResource).enriched()["parentWorkspaceService"] == "tre-service-parent")
    }

    @Test
    func updateViewMarksEveryNonUpdateablePropertyReadOnly() throws {
        let enriched = try sampleTemplate().enriched(isUpdate: true)
        let properties = try #require(enriched["properties"])
        #expect(properties["size"]?["readOnly"] == true)
        #expect(properties["settings"]?["readOnly"] == true)
        #expect(properties["quota"]?["readOnly"] == nil)
        #expect(properties["display_name"]?["readOnly"] == nil)
        let branch = try #require(enriched["allOf"]?.arrayValue?.first)
        #expect(branch["then"]?["properties"]?["review_vms"]?["readOnly"] == nil)
        #expect(branch["then"]?["properties"]?["airlock_key"]?["readOnly"] == true)
        #expect(branch["else"]?["properties"]?["reason"]?["readOnly"] == true)
        #expect(branch["if"]?["properties"]?["enable_airlock"]?["readOnly"] == nil)
    }

    // MARK: Create / update validation

    @Test
    func createCollectsEveryViolationInOneBadRequest() throws {
        let template = try sampleTemplate()
        do {
            try template.validateCreate(["description": "d", "size": "huge", "quota": 0, "surprise": 1])
            Issue.record("expected a 400")
        } catch {
            #expect(error.statusCode == 400)
            for fragment in [
                "/display_name: is required", "/size: must be one of", "(enum)", "/quota: must be at least 1 (minimum)",
                "/surprise:", "(unevaluatedProperties)",
            ] {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
            #expect(error.message.hasPrefix("Invalid properties for template 'sample': "))
        }
    }

    @Test
    func propertyOfAnInactiveBranchIsUnknown() throws {
        let template = try sampleTemplate()
        let base: [String: JSONValue] = ["display_name": "n", "description": "d", "size": "small"]
        try template.validateCreate(base.merging(["enable_airlock": true, "airlock_key": "k"]) { $1 })
        // Defaults are not applied by validation: without enable_airlock the `if` does not hold.
        expectBadRequest(naming: "/airlock_key", rule: "unevaluatedProperties") {
            try template.validateCreate(base.merging(["airlock_key": "k"]) { $1 })
        }
        expectBadRequest(naming: "/airlock_key", rule: "unevaluatedProperties") {
            try template.validateCreate(base.merging(["enable_airlock": false, "airlock_key": "k"]) { $1 })
        }
        try template.validateCreate(base.merging(["enable_airlock": false, "reason": "no data"]) { $1 })
    }

    @Test
    func propertyNamedInAHoldingIfConditionCountsAsEvaluated() throws {
        // JSON Schema 2020-12 (which Azure TRE's validator uses): a successful `if` evaluates its properties,
        // so `review_vms` is accepted even where the branch declaring it does not apply.
        let template = try sampleTemplate()
        try template.validateCreate(["display_name": "n", "description": "d", "size": "small", "enable_airlock": false, "review_vms": true])
    }

    @Test
    func updateAcceptsOnlyUpdateableProperties() throws {
        let template = try sampleTemplate()
        try template.validateUpdate(["quota": 5, "display_name": "renamed", "password": "new"])
        #expect(throws: EnclaveError.badRequest("Invalid properties for template 'sample': 'size' is not updateable")) {
            try template.validateUpdate(["size": "custom"])
        }
        #expect(throws: EnclaveError.badRequest("Invalid properties for template 'sample': 'nope' is not a property of template 'sample'")) {
            try template.validateUpdate(["nope": 1])
        }
    }

    @Test
    func updateValidatesValuesButRequiresNothing() throws {
        let template = try sampleTemplate()
        #expect(throws: EnclaveError.badRequest("Invalid properties for template 'sample': /quota: must be integer, not string (type)")) {
            try template.validateUpdate(["quota": "five"])
        }
        try template.validateUpdate([:])
    }

    @Test
    func updateableBranchPropertyMayBePatchedWhileItsBranchApplies() throws {
        let template = try sampleTemplate()
        try template.validateUpdate(["review_vms": true], current: ["enable_airlock": true])
        #expect(throws: EnclaveError.self) {
            try template.validateUpdate(["review_vms": true], current: ["enable_airlock": false])
        }
        #expect(throws: EnclaveError.badRequest("Invalid properties for template 'sample': 'airlock_key' is not updateable")) {
            try template.validateUpdate(["airlock_key": "k"], current: ["enable_airlock": true])
        }
    }

    // MARK: Defaults, sensitivity

    @Test
    func defaultsFlowThroughBranchesThatDefaultsSwitchOn() throws {
        let template = try sampleTemplate()
        let filled = template.applyingDefaults(to: ["display_name": "n"])
        #expect(filled == ["display_name": "n", "size": "small", "enable_airlock": true, "review_vms": false])
        let chained = template.applyingDefaults(to: ["review_vms": true])
        #expect(chained["review_sku"] == "B2s")
        #expect(template.applyingDefaults(to: ["size": "custom"])["size"] == "custom")
    }

    @Test
    func sensitiveNamesAreFoundAtEveryDepthAndMasked() throws {
        let template = try sampleTemplate()
        #expect(template.sensitivePropertyNames == ["password", "token", "airlock_key"])
        let masked = template.masked(["password": "p", "quota": 1, "settings": ["token": "t", "other": "o"]])
        #expect(masked == ["password": "REDACTED", "quota": 1, "settings": ["token": "REDACTED", "other": "o"]])
    }
}

import Foundation

enum JSONDecoderForTests {
    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
