import EnclaveCore
import Testing

@testable import EnclaveCLI

@Suite("Tables")
struct TableTests {
    @Test("Columns are padded to their widest cell and lines carry no trailing spaces")
    func columnsAreAligned() {
        let table = Table(columns: ["id", "name", "status"], rows: [["1", "Alpha", "deployed"], ["22", "B", ""]])
        #expect(
            table.render() == """
                ID  NAME   STATUS
                1   Alpha  deployed
                22  B
                """)
    }

    @Test("Long cells are cut with an ellipsis and newlines are folded")
    func longCellsAreCut() {
        let table = Table(columns: ["message"], rows: [["line one\nline two and more"]], maxCellWidth: 12)
        #expect(table.render() == "MESSAGE\nline one li…")
    }

    @Test("The resource table shows id, display name, template, version, status and enabled")
    func resourceTableShowsKeyFields() {
        let user = User(id: "u", name: "U", email: "u@x", roles: [])
        let resources = [
            Resource(
                id: "ws-1", resourceType: .workspace, templateName: "tre-workspace-base", templateVersion: "0.1.0",
                properties: ["display_name": "Genomics"], isEnabled: true, deploymentStatus: "deployed", etag: "e",
                resourcePath: "/workspaces/ws-1", user: user, updatedWhen: 0),
            Resource(
                id: "ws-2", resourceType: .workspace, templateName: "tre-workspace-unrestricted",
                templateVersion: "1.2.0", properties: [:], isEnabled: false, etag: "e",
                resourcePath: "/workspaces/ws-2", user: user, updatedWhen: 0),
        ]
        #expect(
            Tables.resources(resources).render() == """
                ID    NAME      TEMPLATE                    VERSION  STATUS    ENABLED
                ws-1  Genomics  tre-workspace-base          0.1.0    deployed  yes
                ws-2            tre-workspace-unrestricted  1.2.0    -         no
                """)
    }

    @Test("An empty list renders the header alone")
    func emptyListRendersHeader() {
        #expect(Tables.resources([]).render() == "ID  NAME  TEMPLATE  VERSION  STATUS  ENABLED")
    }
}

@Suite("Progress line")
struct ProgressLineTests {
    static func operation(_ status: OperationStatus, steps: [OperationStatus]) -> ResourceOperation {
        let user = User(id: "u", name: "U", email: "u@x", roles: [])
        return ResourceOperation(
            id: "op", resourceId: "r", resourcePath: "/workspaces/r", resourceVersion: 0, status: status,
            action: "install", message: "", createdWhen: 0, updatedWhen: 0, user: user,
            steps: steps.enumerated().map { index, stepStatus in
                OperationStep(
                    id: "s\(index)", templateStepId: index == 0 ? "main" : "step\(index)", stepTitle: "Step \(index + 1)",
                    resourceId: "r", resourceTemplateName: "t", resourceType: .workspace, resourceAction: "install",
                    status: stepStatus, message: "", updatedWhen: 0, sourceTemplateResourceId: "r")
            })
    }

    @Test("The line names the status, the current step of several and the elapsed seconds")
    func lineNamesStatusStepAndElapsed() {
        let op = Self.operation(.pipelineRunning, steps: [.deployed, .deploying, .awaitingDeployment])
        #expect(ProgressLine.text(for: op, elapsedSeconds: 12) == "pipeline_running · step 2/3: Step 2 · 12s")
        let single = Self.operation(.deploying, steps: [.deploying])
        #expect(ProgressLine.text(for: single, elapsedSeconds: 3) == "deploying · Step 1 · 3s")
    }

    @Test("Without a terminal a line is written only when the status or step changes")
    func nonTerminalWritesOneLinePerChange() {
        let captured = Captured()
        var line = ProgressLine(isTerminal: false, write: captured.environment(variables: [:]).writeError)
        line.update(Self.operation(.awaitingDeployment, steps: [.awaitingDeployment]), elapsedSeconds: 0)
        line.update(Self.operation(.deploying, steps: [.deploying]), elapsedSeconds: 1)
        line.update(Self.operation(.deploying, steps: [.deploying]), elapsedSeconds: 2)
        line.update(Self.operation(.deployed, steps: [.deployed]), elapsedSeconds: 3)
        line.finish()
        #expect(
            captured.stderr == """
                awaiting_deployment · Step 1 · 0s
                deploying · Step 1 · 1s
                deployed · Step 1 · 3s

                """)
    }

    @Test("On a terminal the line is redrawn in place and ended with a newline")
    func terminalRedrawsInPlace() {
        let captured = Captured()
        var line = ProgressLine(isTerminal: true, write: captured.environment(variables: [:]).writeError)
        line.update(Self.operation(.deploying, steps: [.deploying]), elapsedSeconds: 1)
        line.update(Self.operation(.deploying, steps: [.deploying]), elapsedSeconds: 2)
        line.finish()
        #expect(captured.stderr == "\r\u{1B}[2Kdeploying · Step 1 · 1s\r\u{1B}[2Kdeploying · Step 1 · 2s\n")
    }

    @Test("A finished operation shows the step that failed")
    func finishedOperationShowsFailedStep() {
        let op = Self.operation(.deploymentFailed, steps: [.deployed, .deploymentFailed, .awaitingDeployment])
        #expect(op.currentStep?.stepTitle == "Step 2")
    }
}
