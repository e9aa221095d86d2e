import EnclaveCore
import Foundation
import Testing

@testable import EnclaveEngine

@Suite("bundle.yaml")
struct BundleManifestTests {
    @Test func aCompleteManifestParsesWithDefaults() throws {
        let manifest = try BundleManifest.parse(
            yaml: """
                name: tre-user-resource-x
                version: 1.2.3-beta.1+build.5
                type: user-resource
                parent: tre-service-y
                description: A test.
                actions:
                  install:
                    idempotent: true
                    timeout: 30
                    steps:
                      - name: one
                        run: ["/bin/sh", "scripts/install.sh"]
                        environment: { TF_IN_AUTOMATION: "1" }
                      - name: two
                        run: [terraform, apply]
                        timeout: 900
                  uninstall:
                    steps:
                      - { name: remove, run: ["true"] }
                  start:
                    steps:
                      - { name: start, run: ["true"] }
                  reset_password:
                    steps:
                      - { name: reset, run: ["true"] }
                """)
        #expect(manifest.name == "tre-user-resource-x")
        #expect(manifest.version == "1.2.3-beta.1+build.5")
        #expect(manifest.type == .userResource)
        #expect(manifest.parent == "tre-service-y")
        let install = try #require(manifest.actions["install"])
        #expect(install.idempotent)
        #expect(install.timeout == 30)
        #expect(install.steps.map(\.name) == ["one", "two"])
        #expect(install.steps[0].environment == ["TF_IN_AUTOMATION": "1"])
        #expect(install.steps[1].timeout == 900)
        #expect(manifest.actions["uninstall"]?.idempotent == false)
        #expect(manifest.actions["uninstall"]?.timeout == nil)
        #expect(manifest.customActionNames == ["reset_password", "start"])
    }

    @Test(arguments: [
        (
            "name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  install:\n    timout: 5\n    steps: [{name: s, run: [x]}]",
            "unknown key 'timout'"
        ),
        (
            "name: a\nversion: 0.1\ntype: workspace\nactions:\n  install:\n    steps: [{name: s, run: [x]}]",
            "version '0.1' is not a semantic version"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: user-resource\nactions:\n  install:\n    steps: [{name: s, run: [x]}]",
            "must name its parent"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: workspace\nparent: b\nactions:\n  install:\n    steps: [{name: s, run: [x]}]",
            "'parent' is only allowed for user-resource templates"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  upgrade:\n    steps: [{name: s, run: [x]}]",
            "actions must define 'install'"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  install:\n    steps: []",
            "action 'install' has no steps"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  install:\n    steps: [{name: s, run: []}]",
            "has an empty 'run' command"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  install:\n    timeout: 0\n    steps: [{name: s, run: [x]}]",
            "it must be a positive number of seconds"
        ),
        (
            "name: a\nversion: 0.1.0\ntype: cluster\nactions:\n  install:\n    steps: [{name: s, run: [x]}]",
            "Invalid bundle.yaml"
        ),
        ("name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  install:\n    steps: [{name: s}]", "missing key 'run'"),
        ("name: [unclosed", "Invalid bundle.yaml"),
    ])
    func anInvalidManifestIsRejectedWithAMessageNamingTheProblem(yaml: String, expected: String) {
        #expect {
            try BundleManifest.parse(yaml: yaml)
        } throws: { error in
            guard let error = error as? EnclaveError else { return false }
            return error.kind == .unprocessable && error.message.contains(expected)
        }
    }

    @Test(arguments: ["0.1.0", "1.0.0", "10.20.30", "1.0.0-alpha", "1.0.0-rc.1+sha.abc"])
    func semanticVersionsAreAccepted(version: String) {
        #expect(BundleManifest.isSemanticVersion(version))
    }

    @Test(arguments: ["1.0", "01.0.0", "1.0.0-", "1.0.0+", "v1.0.0", "1.0.0.0", "", "1..0"])
    func nonSemanticVersionsAreRejected(version: String) {
        #expect(!BundleManifest.isSemanticVersion(version))
    }
}

@Suite("BundleCatalog")
struct BundleCatalogTests {
    @Test func aBrokenBundleIsReportedWithoutStoppingTheOthersFromLoading() throws {
        let good = try TemplateFixture(actionsYAML: "  install:\n    steps: [{name: a, run: [\"true\"]}]")
        defer { good.remove() }
        let workspaces = good.templatesRoot.appendingPathComponent("workspaces")
        func folder(_ name: String, files: [String: String]) throws {
            let url = workspaces.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for (file, text) in files {
                try text.write(to: url.appendingPathComponent(file), atomically: true, encoding: .utf8)
            }
        }
        let schema = #"{"type": "object"}"#
        try folder("bad-yaml", files: ["bundle.yaml": "name: [", "template_schema.json": schema])
        try folder(
            "bad-json",
            files: [
                "bundle.yaml":
                    "name: bad-json\nversion: 1.0.0\ntype: workspace\nactions:\n  install:\n    steps: [{name: a, run: [x]}]",
                "template_schema.json": "{ not json",
            ])
        try folder(
            "wrong-type",
            files: [
                "bundle.yaml":
                    "name: wrong-type\nversion: 1.0.0\ntype: shared-service\nactions:\n  install:\n    steps: [{name: a, run: [x]}]",
                "template_schema.json": schema,
            ])
        try folder(
            "undeclared-action",
            files: [
                "bundle.yaml":
                    "name: undeclared\nversion: 1.0.0\ntype: workspace\nactions:\n  install:\n    steps: [{name: a, run: [x]}]",
                "template_schema.json": #"{"type": "object", "customActions": [{"name": "start"}]}"#,
            ])
        try folder("only-yaml", files: ["bundle.yaml": "name: x"])
        try folder("only-schema", files: ["template_schema.json": schema])
        try folder("not-a-template", files: ["README.md": "hello"])

        let catalog = good.catalog
        #expect(catalog.bundles.map(\.name) == ["test-template"])
        let problems = Dictionary(
            catalog.problems.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.message) },
            uniquingKeysWith: { $0 + "; " + $1 })
        #expect(
            Set(problems.keys) == [
                "bad-yaml", "bad-json", "wrong-type", "undeclared-action", "only-yaml", "only-schema",
            ])
        #expect(problems["bad-yaml"]?.contains("Invalid bundle.yaml") == true)
        #expect(problems["bad-json"]?.hasPrefix("template_schema.json is not valid JSON") == true)
        #expect(problems["wrong-type"]?.contains("where workspace templates go") == true)
        #expect(problems["undeclared-action"]?.contains("declares custom action 'start'") == true)
        #expect(problems["only-yaml"] == "bundle.yaml has no template_schema.json beside it")
        #expect(problems["only-schema"] == "template_schema.json has no bundle.yaml beside it")
    }

    @Test func bundlesAreFoundByNameAndVersionWithTheirFolderAndSchema() throws {
        let fixture = try TemplateFixture(
            name: "tre-x", version: "0.2.0", actionsYAML: "  install:\n    steps: [{name: a, run: [\"true\"]}]")
        defer { fixture.remove() }
        let catalog = fixture.catalog
        let bundle = try #require(catalog.bundle(name: "tre-x", version: "0.2.0"))
        #expect(catalog.bundle(name: "tre-x", version: "0.1.0") == nil)
        #expect(bundle.directory == fixture.templateFolder.standardizedFileURL.path)
        #expect(bundle.schema["title"] == "Test")
        #expect(try JSONDecoder().decode(JSONValue.self, from: bundle.schemaData) == bundle.schema)
        #expect(catalog.bundles(named: "tre-x").count == 1)
        #expect(catalog.problems.isEmpty)
    }

    @Test func aMissingTemplatesDirectoryGivesAnEmptyCatalogWithAProblem() {
        let catalog = BundleCatalog.load(from: "/nonexistent/enclave-templates")
        #expect(catalog.bundles.isEmpty)
        #expect(catalog.problems.map(\.message) == ["The templates directory does not exist"])
    }

    @Test func aDuplicateNameAndVersionKeepsTheFirstAndReportsTheSecond() throws {
        let manifest = BundleManifest(
            name: "a", version: "1.0.0", type: .workspace,
            actions: ["install": BundleAction(steps: [BundleStep(name: "s", run: ["true"])])])
        let first = TemplateBundle(manifest: manifest, directory: "/t/one", schemaData: Data("{}".utf8), schema: [:])
        var second = first
        second.directory = "/t/two"
        let catalog = BundleCatalog(bundles: [first, second])
        #expect(catalog.bundle(name: "a", version: "1.0.0")?.directory == "/t/one")
        #expect(catalog.problems.map(\.path) == ["/t/two"])
    }
}

extension BundleManifestTests {
    @Test func aYAMLSyntaxErrorSaysWhereItIs() {
        #expect {
            try BundleManifest.parse(yaml: "name: a\nversion: 0.1.0\nactions:\n  install: [\n")
        } throws: { error in
            guard let error = error as? EnclaveError else { return false }
            return error.message.contains("line")
        }
        #expect {
            try BundleManifest.parse(
                yaml: "name: a\nversion: 0.1.0\ntype: workspace\nactions:\n  install:\n    steps: [{name: s, run: x}]")
        } throws: { error in
            guard let error = error as? EnclaveError else { return false }
            return error.message.contains("actions.install.steps[0].run")
        }
    }
}
