import EnclaveCore
import Foundation
import Testing

@testable import EnclaveEngine

@Suite("ExecDeployer")
struct ExecDeployerTests {
    @Test func parametersReachTheStepOnStandardInputAndAsEnvironmentVariables() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: record
                        run: ["/bin/sh", "scripts/record.sh"]
                """,
            scripts: [
                "record.sh": """
                set -eu
                cat > "$ENCLAVE_DATA_DIR/stdin.json"
                env > "$ENCLAVE_DATA_DIR/env.txt"
                pwd > "$ENCLAVE_DATA_DIR/pwd.txt"
                """
            ])
        defer { fixture.remove() }
        let parameters: [String: JSONValue] = [
            "display_name": "My workspace", "shared_storage_quota": 10, "enable_airlock": true,
            "tags": ["a", "b"], "odd-name.x": "y",
        ]
        let deployer = fixture.deployer(extraEnvironment: ["HTTP_PROXY": "http://proxy:3128"])
        let result = try await deployer.deploy(fixture.request(parameters: parameters), progress: { _ in })
        #expect(result.succeeded, "\(result.message)")

        let stdin = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: fixture.dataFile("stdin.json")))
        #expect(stdin["display_name"] == "My workspace")
        #expect(stdin["shared_storage_quota"] == 10)
        #expect(stdin["tags"] == ["a", "b"])
        #expect(stdin["id"] == "res-1")
        #expect(stdin["action"] == "install")
        #expect(stdin["resource_type"] == "workspace")
        #expect(stdin["template_name"] == "test-template")
        #expect(stdin["template_version"] == "1.0.0")
        #expect(stdin["workspace_id"] == "res-1")
        #expect(stdin["operation_id"] == "op-1")
        #expect(stdin["step_id"] == "main")
        #expect(stdin["owner_id"] == nil)

        var environment: [String: String] = [:]
        for line in try fixture.readData("env.txt").split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        #expect(environment["ENCLAVE_PARAM_DISPLAY_NAME"] == "My workspace")
        #expect(environment["ENCLAVE_PARAM_SHARED_STORAGE_QUOTA"] == "10")
        #expect(environment["ENCLAVE_PARAM_ENABLE_AIRLOCK"] == "true")
        #expect(environment["ENCLAVE_PARAM_TAGS"] == #"["a","b"]"#)
        #expect(environment["ENCLAVE_PARAM_ODD_NAME_X"] == "y")
        #expect(environment["ENCLAVE_RESOURCE_ID"] == "res-1")
        #expect(environment["ENCLAVE_ACTION"] == "install")
        #expect(environment["ENCLAVE_WORKSPACE_ID"] == "res-1")
        #expect(environment["ENCLAVE_DATA_DIR"] == fixture.dataDirectory.standardizedFileURL.path)
        #expect(environment["ENCLAVE_OUTPUTS"]?.isEmpty == false)
        #expect(environment["LANG"] == "C.UTF-8")
        #expect(environment["HTTP_PROXY"] == "http://proxy:3128")
        #expect(environment["PATH"]?.isEmpty == false)
        let home = try #require(environment["HOME"])
        #expect(!home.hasPrefix(fixture.templateFolder.path))
        // Only the variables the deployer sets (and the few a shell adds itself) reach the step.
        let allowed: Set<String> = ["PATH", "HOME", "TMPDIR", "LANG", "HTTP_PROXY", "PWD", "OLDPWD", "SHLVL", "_"]
        let unexpected = environment.keys.filter { !$0.hasPrefix("ENCLAVE_") && !allowed.contains($0) }
        #expect(unexpected.isEmpty, "unexpected variables: \(unexpected.sorted())")

        let workingDirectory = try fixture.readData("pwd.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            URL(fileURLWithPath: workingDirectory).resolvingSymlinksInPath().path
                == fixture.templateFolder.resolvingSymlinksInPath().path)
    }

    @Test func outputsOfAllStepsAreMergedAndLaterStepsWin() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: first
                        run: ["/bin/sh", "-c", "printf '{\\"a\\": 1, \\"b\\": \\"x\\"}' > \\"$ENCLAVE_OUTPUTS\\""]
                      - name: quiet
                        run: ["/bin/sh", "-c", "true"]
                      - name: second
                        run: ["/bin/sh", "-c", "printf '{\\"b\\": \\"y\\", \\"c\\": [1, true]}' > \\"$ENCLAVE_OUTPUTS\\""]
                """)
        defer { fixture.remove() }
        let progress = ProgressLog()
        let result = try await fixture.deployer().deploy(fixture.request(), progress: progress.callback)
        #expect(result.succeeded, "\(result.message)")
        #expect(result.outputs == ["a": 1, "b": "y", "c": [1, true]])
        #expect(progress.all.contains("Step 'second' (3/3)"))
    }

    @Test func aNonZeroExitFailsWithTheLastFourKiBOfStandardError() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: noisy
                        run: ["/bin/sh", "scripts/fail.sh"]
                """,
            scripts: [
                "fail.sh": """
                i=0
                while [ $i -lt 400 ]; do echo "stdout line $i"; echo "error line $i is long enough to matter" >&2; i=$((i+1)); done
                echo "the real reason" >&2
                exit 3
                """
            ])
        defer { fixture.remove() }
        let result = try await fixture.deployer().deploy(fixture.request(), progress: { _ in })
        #expect(!result.succeeded)
        let prefix = "Step 'noisy' failed (exit code 3): "
        #expect(result.message.hasPrefix(prefix))
        #expect(result.message.hasSuffix("the real reason"))
        #expect(!result.message.contains("stdout line"))
        #expect(result.message.utf8.count - prefix.utf8.count <= 4096)
        #expect(result.message.utf8.count - prefix.utf8.count > 3000)
    }

    @Test func aFailingStepWithoutStandardErrorReportsTheTailOfStandardOutput() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: terse
                        run: ["/bin/sh", "-c", "echo 'disk full'; exit 7"]
                """)
        defer { fixture.remove() }
        let result = try await fixture.deployer().deploy(fixture.request(), progress: { _ in })
        #expect(result.message == "Step 'terse' failed (exit code 7): disk full")
    }

    @Test func aStepThatRunsPastItsTimeoutIsKilledWithItsChildrenAndFails() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    timeout: 1
                    steps:
                      - name: stubborn
                        run: ["/bin/sh", "scripts/hang.sh"]
                """,
            scripts: [
                // Ignores SIGTERM (and so does its child, which inherits that), so only SIGKILL stops them.
                "hang.sh": """
                trap '' TERM
                sleep 60 &
                echo $! > "$ENCLAVE_DATA_DIR/child.pid"
                wait
                """
            ])
        defer { fixture.remove() }
        let started = ContinuousClock.now
        let result = try await fixture.deployer().deploy(fixture.request(), progress: { _ in })
        let elapsed = ContinuousClock.now - started
        #expect(!result.succeeded)
        #expect(result.message.hasPrefix("Step 'stubborn' timed out after 1 s"))
        // Well under the child's 60 s sleep proves the kill, not the sleep, ended the step (a loaded machine
        // has taken 30 s, so the bound is not tighter).
        #expect(elapsed < .seconds(55), "took \(elapsed)")
        let child = try #require(Int32(fixture.readData("child.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await eventually { processHasEnded(child) }, "background child \(child) survived the timeout")
    }

    @Test func cancellingTheTaskKillsTheRunningStep() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: long
                        run: ["/bin/sh", "scripts/long.sh"]
                """,
            scripts: [
                "long.sh": """
                sleep 60 &
                echo $! > "$ENCLAVE_DATA_DIR/child.pid"
                wait
                """
            ])
        defer { fixture.remove() }
        let deployer = fixture.deployer()
        let request = fixture.request()
        let task = Task { try await deployer.deploy(request, progress: { _ in }) }
        let pidFile = fixture.dataFile("child.pid")
        // Generous: on a loaded two-core machine starting a shell can take seconds.
        let started = await eventually(timeout: .seconds(30)) {
            ((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n")
        }
        try #require(started, "the step's shell never wrote its child's pid")
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let outcome = await task.result
        #expect(ContinuousClock.now - cancelledAt < .seconds(20))
        #expect(throws: CancellationError.self) { try outcome.get() }
        let child = try #require(Int32(fixture.readData("child.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await eventually { processHasEnded(child) }, "child \(child) survived cancellation")
    }

    @Test func progressLinesOnStandardOutputUpdateTheStepMessage() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: tools
                        run: ["/bin/sh", "-c", "echo 'ENCLAVE_PROGRESS installing tools 40%'; echo chatter; echo 'ENCLAVE_PROGRESSNOSPACE'; printf 'ENCLAVE_PROGRESS done'"]
                """)
        defer { fixture.remove() }
        let progress = ProgressLog()
        let result = try await fixture.deployer().deploy(fixture.request(), progress: progress.callback)
        #expect(result.succeeded)
        #expect(progress.all == ["installing tools 40%", "done"])
    }

    @Test(arguments: [
        ("[1, 2]", "wrote a JSON array to $ENCLAVE_OUTPUTS; outputs must be a JSON object"),
        ("not json", "wrote invalid JSON to $ENCLAVE_OUTPUTS"),
        ("\"text\"", "wrote a JSON string to $ENCLAVE_OUTPUTS"),
    ])
    func anOutputsFileThatIsNotAJSONObjectFailsTheStep(content: String, expected: String) async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: bad outputs
                        run: ["/bin/sh", "-c", "cat > \\"$ENCLAVE_OUTPUTS\\" < scripts/outputs.txt"]
                """,
            scripts: ["outputs.txt": content])
        defer { fixture.remove() }
        let result = try await fixture.deployer().deploy(fixture.request(), progress: { _ in })
        #expect(!result.succeeded)
        #expect(result.message.hasPrefix("Step 'bad outputs' " + expected), "\(result.message)")
    }

    @Test func anEmptyOutputsFileMeansNoOutputs() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: blank
                        run: ["/bin/sh", "-c", "echo '  ' > \\"$ENCLAVE_OUTPUTS\\""]
                """)
        defer { fixture.remove() }
        let result = try await fixture.deployer().deploy(fixture.request(), progress: { _ in })
        #expect(result.succeeded)
        #expect(result.outputs.isEmpty)
    }

    @Test func aMissingBundleFailsWithAMessageNamingTemplateAndVersion() async throws {
        let fixture = try TemplateFixture(actionsYAML: "  install:\n    steps:\n      - {name: a, run: [\"true\"]}")
        defer { fixture.remove() }
        var request = fixture.request()
        request.templateVersion = "9.9.9"
        let result = try await fixture.deployer().deploy(request, progress: { _ in })
        #expect(!result.succeeded)
        #expect(
            result.message
                == "No bundle for template 'test-template' version '9.9.9' is installed under the templates directory")
    }

    @Test func aMissingCustomActionFailsButAMissingUninstallSucceeds() async throws {
        let fixture = try TemplateFixture(actionsYAML: "  install:\n    steps:\n      - {name: a, run: [\"true\"]}")
        defer { fixture.remove() }
        let deployer = fixture.deployer()
        let start = try await deployer.deploy(fixture.request(action: "start"), progress: { _ in })
        #expect(!start.succeeded)
        #expect(start.message == "Template 'test-template' has no 'start' action")
        let uninstall = try await deployer.deploy(fixture.request(action: "uninstall"), progress: { _ in })
        #expect(uninstall.succeeded)
        #expect(deployer.supports(templateName: "test-template", templateVersion: "1.0.0", action: "uninstall"))
        #expect(!deployer.supports(templateName: "test-template", templateVersion: "1.0.0", action: "start"))
        #expect(!deployer.supports(templateName: "test-template", templateVersion: "2.0.0", action: "install"))
    }

    @Test func idempotenceComesFromTheBundleAction() throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    idempotent: true
                    steps: [{name: a, run: ["true"]}]
                  upgrade:
                    steps: [{name: a, run: ["true"]}]
                """)
        defer { fixture.remove() }
        let deployer = fixture.deployer()
        #expect(deployer.isIdempotent(templateName: "test-template", templateVersion: "1.0.0", action: "install"))
        #expect(!deployer.isIdempotent(templateName: "test-template", templateVersion: "1.0.0", action: "upgrade"))
        #expect(deployer.isIdempotent(templateName: "test-template", templateVersion: "1.0.0", action: "uninstall"))
        #expect(!deployer.isIdempotent(templateName: "other", templateVersion: "1.0.0", action: "install"))
    }

    @Test func aCommandThatDoesNotExistFailsTheStepInsteadOfThrowing() async throws {
        let fixture = try TemplateFixture(
            actionsYAML: """
                  install:
                    steps:
                      - name: missing tool
                        run: ["enclave-no-such-tool-xyz", "--version"]
                      - name: missing script
                        run: ["scripts/absent.sh"]
                """)
        defer { fixture.remove() }
        let result = try await fixture.deployer().deploy(fixture.request(), progress: { _ in })
        #expect(!result.succeeded)
        #expect(result.message.hasPrefix("Step 'missing tool' could not start: "), "\(result.message)")
    }

    @Test func healthIsReportedOnlyWhenNoBundleLoaded() async throws {
        let fixture = try TemplateFixture(actionsYAML: "  install:\n    steps:\n      - {name: a, run: [\"true\"]}")
        defer { fixture.remove() }
        #expect(await fixture.deployer().healthProblem() == nil)
        let empty = ExecDeployer(
            catalog: BundleCatalog.load(from: fixture.base.appendingPathComponent("none").path),
            dataDirectory: fixture.dataDirectory.path)
        let problem = try #require(await empty.healthProblem())
        #expect(problem.hasPrefix("No template bundles were loaded from"))
        #expect(fixture.deployer().name == "exec")
    }

    @Test func parameterNamesBecomeUpperCaseEnvironmentNames() {
        #expect(ExecDeployer.environmentName("display_name") == "DISPLAY_NAME")
        #expect(ExecDeployer.environmentName("a.b-c d") == "A_B_C_D")
        #expect(ExecDeployer.environmentName("größe") == "GR__E")
    }
}
