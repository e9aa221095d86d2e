import Testing

@testable import EnclaveCore

let substitutionContext: JSONValue = [
    "resource": [
        "id": "svc-1",
        "templateName": "tre-service-guacamole",
        "properties": [
            "uri": "https://svc-1.example.org", "port": 443, "public": true, "nothing": nil,
            "prefixes": ["10.0.0.0/24", "10.0.1.0/24"], "rule": ["name": "r1", "port": 22],
        ],
        "parent": ["id": "ws-1", "properties": ["address_space": "10.1.0.0/24"], "parent": ["id": "ws-0"]],
    ]
]

@Suite("Pipeline substitution")
struct PipelineSubstitutionTests {
    @Test(arguments: [
        ("no tokens", "plain", "plain"),
        ("whole token keeps a string", "{{ resource.id }}", "svc-1"),
        ("whitespace inside braces is optional", "{{resource.id}}", "svc-1"),
        ("extra whitespace is allowed", "{{   resource.id\t}}", "svc-1"),
        ("whole token keeps an integer", "{{ resource.properties.port }}", 443),
        ("whole token keeps a boolean", "{{ resource.properties.public }}", true),
        ("whole token yields an array", "{{ resource.properties.prefixes }}", ["10.0.0.0/24", "10.0.1.0/24"]),
        ("whole token yields an object", "{{ resource.properties.rule }}", ["name": "r1", "port": 22]),
        ("concatenation", "nrc_svc_{{ resource.id }}_guacamole", "nrc_svc_svc-1_guacamole"),
        ("several tokens", "{{ resource.parent.id }}/{{ resource.id }}", "ws-1/svc-1"),
        ("numbers concatenate", "port {{ resource.properties.port }}", "port 443"),
        ("booleans concatenate as Python spells them", "public={{ resource.properties.public }}", "public=True"),
        ("null concatenates as Python spells it", "x={{ resource.properties.nothing }}", "x=None"),
        ("an object inside text wins over the text", "rule: {{ resource.properties.rule }}", ["name": "r1", "port": 22]),
        ("missing path empties the whole value", "prefix {{ resource.properties.absent }} suffix", ""),
        ("missing parent level empties the value", "{{ resource.parent.parent.parent.id }}", ""),
        ("grandparent", "{{ resource.parent.parent.id }}", "ws-0"),
        ("parent properties", "{{ resource.parent.properties.address_space }}", "10.1.0.0/24"),
        ("unclosed braces are literal", "{{ resource.id", "{{ resource.id"),
    ] as [(String, String, JSONValue)])
    func stringSubstitution(_ name: String, _ text: String, _ expected: JSONValue) {
        #expect(PipelineSubstitution.substitute(text, context: substitutionContext) == expected, "\(name)")
    }

    @Test
    func substitutionAppliesRecursivelyInsideObjectValues() {
        let property = PipelineStepProperty(
            name: "settings", type: "object",
            value: ["name": "nrc_{{ resource.id }}", "rules": [["addresses": "{{ resource.properties.prefixes }}", "port": 1]]])
        let value = PipelineSubstitution.newValue(for: property, context: substitutionContext, current: ["old": 1])
        #expect(value == ["name": "nrc_svc-1", "rules": [["addresses": ["10.0.0.0/24", "10.0.1.0/24"], "port": 1]]])
    }

    @Test
    func stringValueReplacesThePropertyEvenForArrays() {
        let property = PipelineStepProperty(
            name: "list", type: "array", value: "{{ resource.properties.prefixes }}", arraySubstitutionAction: .append)
        let value = PipelineSubstitution.newValue(for: property, context: substitutionContext, current: ["x"])
        #expect(value == ["10.0.0.0/24", "10.0.1.0/24"])
    }

    static let existing: JSONValue = [["name": "a", "v": 1], ["name": "nrc_svc-1", "v": 2], ["name": "b", "v": 3]]

    @Test(arguments: [
        ("overwrite", ArraySubstitutionAction.overwrite, "name", existing, [["name": "nrc_svc-1", "v": 9]]),
        ("append", .append, "name", existing, [["name": "a", "v": 1], ["name": "nrc_svc-1", "v": 2], ["name": "b", "v": 3], ["name": "nrc_svc-1", "v": 9]]),
        ("replace a match", .replace, "name", existing, [["name": "a", "v": 1], ["name": "nrc_svc-1", "v": 9], ["name": "b", "v": 3]]),
        ("replace appends without a match", .replace, "name", [["name": "a", "v": 1]], [["name": "a", "v": 1], ["name": "nrc_svc-1", "v": 9]]),
        ("remove a match", .remove, "name", existing, [["name": "a", "v": 1], ["name": "b", "v": 3]]),
        ("remove without a match", .remove, "name", [["name": "a"]], [["name": "a"]]),
        ("remove compares whole values without a match field", .remove, nil, [["name": "nrc_svc-1", "v": 9], ["name": "x"]], [["name": "x"]]),
        ("append to a missing property", .append, nil, nil, [["name": "nrc_svc-1", "v": 9]]),
    ] as [(String, ArraySubstitutionAction, String?, JSONValue?, JSONValue)])
    func arrayAction(_ name: String, _ action: ArraySubstitutionAction, _ field: String?, _ current: JSONValue?, _ expected: JSONValue) {
        let property = PipelineStepProperty(
            name: "network_rule_collections", type: "array", value: ["name": "nrc_{{ resource.id }}", "v": 9],
            arraySubstitutionAction: action, arrayMatchField: field)
        #expect(PipelineSubstitution.newValue(for: property, context: substitutionContext, current: current) == expected, "\(name)")
    }

    @Test
    func arrayWithoutActionIsLeftAsItWas() {
        let property = PipelineStepProperty(name: "p", type: "array", value: ["name": "x"])
        #expect(PipelineSubstitution.newValue(for: property, context: substitutionContext, current: ["kept"]) == ["kept"])
    }

    @Test
    func stepPropertiesAreComputedFromTheTargetsCurrentValues() {
        let step = PipelineStep(
            stepId: "s", resourceType: .workspace, resourceAction: "upgrade",
            properties: [
                PipelineStepProperty(
                    name: "aad_redirect_uris", type: "array",
                    value: ["name": "{{ resource.id }}", "value": "{{ resource.properties.uri }}/oauth2/callback"],
                    arraySubstitutionAction: .replace, arrayMatchField: "name"),
                PipelineStepProperty(name: "note", type: "string", value: "added by {{ resource.templateName }}"),
            ])
        let updates = PipelineSubstitution.properties(
            for: step, context: substitutionContext, target: ["aad_redirect_uris": [["name": "other", "value": "v"]]])
        #expect(updates == [
            "aad_redirect_uris": [["name": "other", "value": "v"], ["name": "svc-1", "value": "https://svc-1.example.org/oauth2/callback"]],
            "note": "added by tre-service-guacamole",
        ])
    }
}
