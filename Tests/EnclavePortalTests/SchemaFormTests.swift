import EnclaveCore
import EnclavePortal
import Foundation
import Testing

@Suite("Schema forms: fields from a template's schema and back")
struct SchemaFormTests {
    let template = SchemaFormFixtures.workspaceTemplate
    var create: SchemaForm { SchemaForm(schema: template.enriched(), mode: .create) }
    var update: SchemaForm { SchemaForm(schema: template.enriched(isUpdate: true), mode: .update) }

    func field(_ fields: [FormField], _ name: String) -> FormField? {
        for field in fields {
            if field.name == name { return field }
            if let found = self.field(field.children, name) { return found }
        }
        return nil
    }

    func form(_ pairs: [(String, String)]) -> FormData { FormData(pairs: pairs.map { (name: $0.0, value: $0.1) }) }

    // MARK: Rendering

    @Test func fieldsFollowUiOrderWithConditionalFieldsAfterWhatSwitchesThemOn() {
        #expect(create.fieldNames == [
            "display_name", "description", "overview", "shared_storage_quota", "address_space_size", "address_space",
            "auth_type", "client_id", "client_secret", "create_aad_groups", "address_spaces", "code", "contact_email",
            "enable_airlock", "configure_review_vms", "review_workspace_id", "kernels", "notes", "output_checks",
            "output_checks.check_identifiers", "output_checks.threshold", "ports", "ratio", "redirect_uris",
        ], "owner_id is tre-hidden")
    }

    @Test func eachTypeGetsItsControlWithDefaultsAndConstraints() throws {
        let fields = create.render().fields
        let quota = try #require(field(fields, "shared_storage_quota"))
        #expect(quota.kind == .input && quota.inputType == "number")
        #expect(quota.value == "10" && quota.min == "1" && quota.max == "100" && quota.step == "1")
        #expect(quota.help == "Quota in GB.")
        #expect(try #require(field(fields, "ratio")).step == "any", "a number accepts decimals")

        let size = try #require(field(fields, "address_space_size"))
        #expect(size.kind == .select && size.isSelect)
        #expect(size.options.map(\.value) == ["small", "medium", "large", "custom"], "required with a default: no empty option")
        #expect(size.options.filter(\.selected).map(\.value) == ["small"])

        let airlock = try #require(field(fields, "enable_airlock"))
        #expect(airlock.kind == .checkbox && airlock.checked)
        #expect(try #require(field(fields, "contact_email")).inputType == "email")
        #expect(try #require(field(fields, "contact_email")).maxLength == "100")
        let code = try #require(field(fields, "code"))
        #expect(code.pattern == "^[A-Z]{3}[0-9]{2}$" && code.placeholder == "e.g. ABC12")
        let notes = try #require(field(fields, "notes"))
        #expect(notes.kind == .textarea && notes.help == "Anything reviewers should know.")
        #expect(try #require(field(fields, "client_secret")).inputType == "password")

        let kernels = try #require(field(fields, "kernels"))
        #expect(kernels.kind == .choices)
        #expect(kernels.options.map(\.value) == ["python3", "ir"])
        #expect(kernels.options.map(\.selected) == [true, false])
        #expect(kernels.options.map(\.id) == ["field-kernels-0", "field-kernels-1"])
        #expect(try #require(field(fields, "address_spaces")).kind == .lines)
        #expect(try #require(field(fields, "ports")).kind == .lines)
        #expect(try #require(field(fields, "redirect_uris")).kind == .json)

        let checks = try #require(field(fields, "output_checks"))
        #expect(checks.kind == .group && checks.children.map(\.name) == ["output_checks.check_identifiers", "output_checks.threshold"])
        #expect(try #require(field(fields, "output_checks.threshold")).value == "10")
        #expect(try #require(field(fields, "output_checks.threshold")).id == "field-output_checks.threshold")
        #expect(try #require(field(fields, "display_name")).label == "Name for the workspace", "base properties come from enrichment")
    }

    @Test func requiredFieldsAreMarkedAndOnlyUnconditionalOnesCarryTheAttribute() throws {
        let fields = create.render().fields
        let name = try #require(field(fields, "display_name"))
        #expect(name.isRequired && name.requiredAttribute)
        let clientId = try #require(field(fields, "client_id"))
        #expect(clientId.isRequired && !clientId.requiredAttribute, "a hidden branch's field must not block the form")
        #expect(clientId.requiredWhenShown)
        let threshold = try #require(field(fields, "output_checks.threshold"))
        #expect(threshold.isRequired && !threshold.requiredAttribute, "required only inside an optional object")
        #expect(try #require(field(fields, "notes")).isRequired == false)
    }

    @Test func conditionalFieldsCarryTheirConditionForTheScriptAndInWords() throws {
        let fields = create.render().fields
        let clientId = try #require(field(fields, "client_id"))
        let showIf = try #require(clientId.showIf)
        let condition = try #require(try? JSONValue.parse(Array(showIf.utf8)))
        #expect(condition == [
            "all": [["name": "auth_type", "values": ["Manual"], "required": true]], "negate": false,
        ])
        #expect(clientId.condition == "Applies when “Workspace Authentication Type” is Manual.")
        #expect(clientId.describedBy == "field-client_id-when")

        let groups = try #require(field(fields, "create_aad_groups"))
        #expect(groups.condition == "Applies unless “Workspace Authentication Type” is Manual.")
        #expect(groups.showIf?.contains("\"negate\":true") == true)

        let review = try #require(field(fields, "review_workspace_id"))
        #expect(review.condition == "Applies when “Configure Review VMs” is on and “Enable Airlock” is on.")
        #expect(field(fields, "address_space")?.showIf?.contains("\"values\":[\"custom\"]") == true)
        #expect(field(fields, "auth_type")?.showIf == nil)
    }

    @Test func editingLocksWhatCannotBeUpdatedAndNeverShowsSecrets() throws {
        let stored: [String: JSONValue] = [
            "display_name": "Cohort", "auth_type": "Manual", "client_id": "app-1", "client_secret": "REDACTED",
            "address_space_size": "medium", "shared_storage_quota": 20,
        ]
        let fields = update.render(values: stored).fields
        #expect(try #require(field(fields, "address_space_size")).disabled, "not updateable")
        #expect(try #require(field(fields, "address_space_size")).options.first { $0.selected }?.value == "medium")
        #expect(try #require(field(fields, "shared_storage_quota")).disabled == false)
        #expect(try #require(field(fields, "shared_storage_quota")).value == "20")
        let secret = try #require(field(fields, "client_secret"))
        #expect(secret.value == "" && secret.inputType == "password")
        #expect(secret.placeholder == "Unchanged: type a new value to replace it")
        #expect(!secret.requiredAttribute)
        #expect(try #require(field(fields, "output_checks.threshold")).disabled == false, "children follow their updateable parent")

        // Typed back after a problem: the secret is still not echoed, the rest is kept as typed.
        let again = update.render(values: stored, submitted: form([("client_secret", "hunter2"), ("client_id", "app-2 ")])).fields
        #expect(try #require(field(again, "client_secret")).value == "")
        #expect(try #require(field(again, "client_id")).value == "app-2 ")
    }

    @Test func errorsSitNextToTheirFieldOrTheNearestShownOneAndAreSummarised() throws {
        let rendered = create.render(
            errors: ["display_name": "Required: fill this in.", "kernels.1": "Must be one of …", "owner_id": "Too long.",
                     "output_checks.threshold": "Must be at least 1."],
            otherProblems: ["Something else."])
        #expect(field(rendered.fields, "display_name")?.error == "Required: fill this in.")
        #expect(field(rendered.fields, "display_name")?.describedBy == "field-display_name-help field-display_name-error")
        #expect(field(rendered.fields, "kernels")?.error == "Must be one of …")
        #expect(field(rendered.fields, "output_checks")?.error == nil)
        #expect(field(rendered.fields, "output_checks.threshold")?.error == "Must be at least 1.")
        #expect(rendered.showProblems)
        #expect(rendered.problems.map(\.text) == [
            "Name for the workspace: Required: fill this in.", "Kernels: Must be one of …",
            "Minimum cell count: Must be at least 1.", "Owner: Too long.", "Something else.",
        ])
        #expect(rendered.problems.map(\.href) == ["#field-display_name", "#field-kernels", "#field-output_checks.threshold", nil, nil])
    }

    // MARK: Parsing

    @Test func aSubmittedFormBecomesTypedProperties() throws {
        let parsed = create.parse(form([
            ("display_name", " Cohort study "), ("description", "Trial"), ("overview", ""),
            ("shared_storage_quota", "25"), ("ratio", "0.5"), ("address_space_size", "small"), ("auth_type", "Automatic"),
            ("kernels", "python3"), ("kernels", "ir"), ("address_spaces", "10.0.0.0/24\n\n 10.1.0.0/24 \n"),
            ("ports", "80\n443"), ("redirect_uris", #"[{"name": "a", "value": "https://a"}]"#),
            ("output_checks.threshold", "5"), ("code", ""), ("notes", "  keep  "),
            ("enable_airlock", "true"), ("owner_id", "sneaky"),
        ]))
        #expect(parsed.errors.isEmpty)
        #expect(parsed.properties == [
            "display_name": "Cohort study", "description": "Trial", "shared_storage_quota": 25, "ratio": 0.5,
            "address_space_size": "small", "auth_type": "Automatic", "kernels": ["python3", "ir"],
            "address_spaces": ["10.0.0.0/24", "10.1.0.0/24"], "ports": [80, 443],
            "redirect_uris": [["name": "a", "value": "https://a"]],
            "output_checks": ["threshold": 5, "check_identifiers": false], "notes": "  keep  ",
            "enable_airlock": true, "configure_review_vms": false, "create_aad_groups": false,
        ], "empty optional fields are left out, unchecked boxes are false, hidden fields are never read")
    }

    @Test func onlyTheBranchesThatApplyAreRead() {
        let automatic = create.parse(form([("auth_type", "Automatic"), ("client_id", "typed anyway"), ("create_aad_groups", "true")]))
        #expect(automatic.properties["client_id"] == nil, "shown without JavaScript, but its condition does not hold")
        #expect(automatic.properties["create_aad_groups"] == true)

        let manual = create.parse(form([("auth_type", "Manual"), ("client_id", "app"), ("client_secret", "s3cret"), ("create_aad_groups", "true")]))
        #expect(manual.properties["client_id"] == "app" && manual.properties["client_secret"] == "s3cret")
        #expect(manual.properties["create_aad_groups"] == nil)

        // A branch's own field switches the next branch on.
        let chained = create.parse(form([("enable_airlock", "true"), ("configure_review_vms", "true"), ("review_workspace_id", "ws-9")]))
        #expect(chained.properties["review_workspace_id"] == "ws-9")
        let off = create.parse(form([("configure_review_vms", "true"), ("review_workspace_id", "ws-9")]))
        #expect(off.properties["configure_review_vms"] == nil && off.properties["review_workspace_id"] == nil)
    }

    @Test func unreadableValuesAreReportedPerField() {
        let parsed = create.parse(form([
            ("shared_storage_quota", "ten"), ("ratio", "x"), ("ports", "80\nhttp"), ("redirect_uris", "{not json"),
            ("address_space_size", "huge"), ("kernels", "cobol"), ("output_checks.threshold", "1.5"),
        ]))
        #expect(parsed.errors == [
            "shared_storage_quota": "Enter a whole number.", "ratio": "Enter a number.", "ports": "Line 2: Enter a whole number.",
            "redirect_uris": "Enter valid JSON.", "address_space_size": "Choose one of the listed values.",
            "kernels": "Choose only the listed values.", "output_checks.threshold": "Enter a whole number.",
        ])
        #expect(create.parse(form([("redirect_uris", "{}")])).errors["redirect_uris"] == "Enter a JSON list: [ … ].")
        #expect(create.parse(form([("shared_storage_quota", "12.0")])).properties["shared_storage_quota"] == 12)
    }

    @Test func anEditReadsOnlyUpdateableFieldsAndSendsOnlyChanges() {
        let stored: [String: JSONValue] = [
            "display_name": "Cohort", "description": "Trial", "auth_type": "Manual", "client_id": "app-1",
            "client_secret": "REDACTED", "address_space_size": "medium", "shared_storage_quota": 20, "notes": "old",
            "enable_airlock": true, "configure_review_vms": false, "kernels": ["python3"],
            "output_checks": ["threshold": 10, "check_identifiers": true],
        ]
        // As a browser sends it: every enabled control, checked boxes only.
        let submitted = form([
            ("display_name", "Cohort 2"), ("description", "Trial"), ("overview", ""), ("auth_type", "Manual"),
            ("client_id", "app-1"), ("client_secret", ""), ("address_space_size", "large"), ("shared_storage_quota", "20"),
            ("contact_email", ""), ("notes", ""), ("enable_airlock", "true"), ("kernels", "python3"), ("address_spaces", ""),
            ("output_checks.check_identifiers", "true"), ("output_checks.threshold", "10"),
        ])
        let parsed = update.parse(submitted, current: stored)
        #expect(parsed.errors.isEmpty)
        #expect(parsed.properties["address_space_size"] == nil, "not updateable: never sent")
        #expect(parsed.properties["client_secret"] == nil, "an empty secret keeps the stored one")
        #expect(parsed.properties["notes"] == "", "an emptied text field clears it")
        #expect(update.changes(parsed.properties, from: stored) == ["display_name": "Cohort 2", "notes": ""])
    }

    @Test func propertyErrorsFromTheControlPlaneNameTheirFields() throws {
        var problems: [String: String] = [:]
        do {
            try template.validateCreate([
                "display_name": "x", "auth_type": "Manual", "address_space_size": "small", "shared_storage_quota": 500,
                "kernels": ["cobol"], "output_checks": ["threshold": 0],
            ])
            Issue.record("expected a validation error")
        } catch {
            let split = try #require(PropertyErrors.split(error.message))
            problems = split.fields
            #expect(split.other.isEmpty)
        }
        #expect(problems == [
            "description": "Required: fill this in.", "client_id": "Required: fill this in.",
            "shared_storage_quota": "Must be at most 100.", "kernels.0": "Must be one of [\"python3\",\"ir\"].",
            "output_checks.threshold": "Must be at least 1.",
        ])
        let updateProblems = try #require(PropertyErrors.split(
            "Invalid properties for template 'x': 'address_space_size' is not updateable; 'nope' is not a property of template 'x'"))
        #expect(updateProblems.fields == [
            "address_space_size": "Cannot be changed once created.", "nope": "Is not a property of template 'x'.",
        ])
        #expect(PropertyErrors.split("Workspace is not deployed.") == nil)
        let unknown = try #require(PropertyErrors.split("Invalid properties for template 'x': /extra: is not a property the schema defines (unevaluatedProperties); /: must be object, not array (type)"))
        #expect(unknown.fields == ["extra": "Not a property of this template."])
        #expect(unknown.other == ["/: must be object, not array (type)"])
    }

    @Test(arguments: [
        ("^[A-Z]{3}[0-9]{2}$", true), ("^[0-9]{1,5}$", true), ("[a-z]+", false), ("^([A-Za-z0-9][A-Za-z0-9._-]*)?$", false),
        ("^a{2,}$", true), ("^a{x}$", false), ("^[a-z]$\\$", false), ("^[(]$", false), ("^[a..z]$", false),
    ])
    func onlyPatternsThatMeanTheSameInBrowsersBecomeHTMLPatterns(pattern: String, passed: Bool) {
        let schema: JSONValue = ["properties": ["p": ["type": "string", "pattern": .string(pattern)]]]
        let field = SchemaForm(schema: schema, mode: .create).render().fields.first
        #expect((field?.pattern != nil) == passed)
    }
}
