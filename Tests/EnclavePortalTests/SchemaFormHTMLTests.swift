import EnclaveCore
import EnclavePortal
import Foundation
import Testing

@Suite("Schema forms: the HTML of the fields")
struct SchemaFormHTMLTests {
    let views: PortalViews
    let template = SchemaFormFixtures.workspaceTemplate

    init() throws { views = try PortalViews.load() }

    func html(_ form: RenderedForm) -> String {
        views.render("schema-form", ["form": form], layout: PageLayout(title: "Form"))
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func controlsAreLabelledAndConditionalOnesCarryDataShowIf() {
        let page = html(SchemaForm(schema: template.enriched(), mode: .create).render())
        #expect(page.contains(#"<label for="field-display_name">Name for the workspace <span class="required">(required)</span></label>"#))
        #expect(page.contains(#"<input type="text" id="field-display_name" name="display_name" value="" required aria-describedby="field-display_name-help">"#))
        #expect(page.contains(#"<div class="field" data-show-if="{&quot;all&quot;:[{&quot;name&quot;:&quot;auth_type&quot;,&quot;required&quot;:true,&quot;values&quot;:[&quot;Manual&quot;]}],&quot;negate&quot;:false}">"#))
        #expect(page.contains(#"<span class="hint when" id="field-client_id-when">Applies when “Workspace Authentication Type” is Manual.</span>"#))
        #expect(page.contains(#"id="field-client_id" name="client_id" value="" data-required aria-describedby="field-client_id-when">"#))
        #expect(page.contains(#"<input type="checkbox" id="field-enable_airlock" name="enable_airlock" value="true" checked>"#))
        #expect(page.contains(#"<option value="small" selected>small</option>"#))
        #expect(page.contains(#"<input type="checkbox" id="field-kernels-0" name="kernels" value="python3" checked><label for="field-kernels-0">python3</label>"#))
        #expect(page.contains(#"<fieldset class="field-group" id="field-output_checks">"#))
        #expect(page.contains(#"name="output_checks.threshold" value="10" min="1" step="1">"#))
        #expect(page.contains("<textarea id=\"field-notes\" name=\"notes\" rows=\"5\" aria-describedby=\"field-notes-help\">\n</textarea>"))
        #expect(!page.contains("owner_id"), "tre-hidden properties are not rendered")
        #expect(count(" required", in: page) == 4, "display_name, description, address_space_size and auth_type")
        #expect(!page.contains("field-error"))
    }

    @Test func secretsAreNeverEchoedAndLockedFieldsAreDisabled() {
        let form = SchemaForm(schema: template.enriched(isUpdate: true), mode: .update)
        let stored: [String: JSONValue] = ["auth_type": "Manual", "client_secret": "the-real-secret", "address_space_size": "large"]
        let page = html(form.render(values: stored, submitted: FormData(pairs: [(name: "client_secret", value: "typed-secret")])))
        #expect(page.contains(#"<input type="password" id="field-client_secret" name="client_secret" value="" placeholder="Unchanged: type a new value to replace it" autocomplete="new-password""#))
        #expect(!page.contains("the-real-secret") && !page.contains("typed-secret"))
        #expect(page.contains(#"<select id="field-address_space_size" name="address_space_size" disabled>"#))
    }

    @Test func errorsAreDescribedAndDoNotLeakIntoNestedFields() {
        let form = SchemaForm(schema: template.enriched(), mode: .create)
        let rendered = form.render(
            submitted: FormData(pairs: [(name: "shared_storage_quota", value: "ten")]),
            errors: ["output_checks": "Fix the checks.", "shared_storage_quota": "Enter a whole number."])
        let page = html(rendered)
        #expect(count("class=\"field-error\"", in: page) == 2, "a nested field never shows its parent's error")
        #expect(page.contains(#"<span class="field-error" id="field-shared_storage_quota-error">Enter a whole number.</span>"#))
        #expect(page.contains(#"value="ten" min="1" max="100" step="1" aria-describedby="field-shared_storage_quota-help field-shared_storage_quota-error" aria-invalid="true">"#))
        #expect(page.contains(##"<li><a href="#field-shared_storage_quota">Shared Storage Quota: Enter a whole number.</a></li>"##))
        #expect(page.contains(#"<h2 id="problems-title">Please check these fields</h2>"#))
    }

    @Test func hostileTextIsEscapedEverywhere() {
        let hostile = "<script>alert('x')</script>\""
        let schema: JSONValue = [
            "properties": [
                "name": ["type": "string", "title": .string(hostile), "description": .string(hostile)],
                "mode": ["type": "string", "enum": [.string(hostile), "b"]],
            ],
            "allOf": [["if": ["properties": ["mode": ["const": .string(hostile)]]], "then": ["properties": ["extra": ["type": "string"]]]]],
        ]
        let form = SchemaForm(schema: schema, mode: .create)
        let page = html(form.render(values: ["name": .string(hostile)], errors: ["name": hostile]))
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;"))
    }
}
