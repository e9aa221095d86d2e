import EnclaveCore
import Foundation
public import Logging

/// The deployer that runs a template's bundle.yaml steps as child processes on this host.
///
/// It is the default deployer: templates implement actions with whatever tools the host has
/// (sh, terraform, ansible, …), the way Azure TRE's Porter bundles do, without a container
/// runtime or a cloud. Each step runs in the template folder with the parameters as a JSON object
/// on stdin and as `ENCLAVE_*` environment variables, and may write a JSON object of outputs to
/// the file named by `$ENCLAVE_OUTPUTS`. See `docs/templates.md` for the full contract.
public struct ExecDeployer: Deployer {
    public let name = "exec"
    public let catalog: BundleCatalog
    /// Absolute path of the data directory (`DATA`), passed to steps as `ENCLAVE_DATA_DIR`.
    public let dataDirectory: String
    /// Operator-chosen variables added to every step's environment (e.g. proxy settings); the
    /// `ENCLAVE_*` variables and a step's own `environment` win over them.
    public let extraEnvironment: [String: String]
    /// How long a step has to exit after SIGTERM (timeout or cancellation) before it gets SIGKILL.
    public let terminationGracePeriod: Duration
    /// Runs `isolate:` steps (the local data plane); nil: such steps fail with the reason.
    public let isolation: (any IsolationStepRunner)?
    /// Runs `workload:` and `tool:` steps; nil: such steps fail with the reason.
    public let workloads: (any WorkloadStepRunner)?
    let logger: Logger

    /// The most a step may write to `$ENCLAVE_OUTPUTS`; more is reported as a failure.
    public static let maxOutputsFileSize = 1024 * 1024
    /// The failure message keeps this many bytes of the step's stderr (or stdout).
    public static let diagnosticTailLimit = 4096

    /// - Parameters:
    ///   - catalog: the bundles this deployer can run.
    ///   - dataDirectory: the `DATA` directory; a relative path is made absolute against the
    ///     current directory now, so steps (which run elsewhere) get a usable path.
    ///   - extraEnvironment: added to every step's environment.
    ///   - terminationGracePeriod: time between SIGTERM and SIGKILL when a step is stopped.
    public init(
        catalog: BundleCatalog, dataDirectory: String, extraEnvironment: [String: String] = [:],
        terminationGracePeriod: Duration = .seconds(5), isolation: (any IsolationStepRunner)? = nil,
        workloads: (any WorkloadStepRunner)? = nil, logger: Logger = Logger(label: "enclave.deployer.exec")
    ) {
        self.isolation = isolation
        self.workloads = workloads
        self.catalog = catalog
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.extraEnvironment = extraEnvironment
        self.terminationGracePeriod = terminationGracePeriod
        self.logger = logger
    }

    public func isIdempotent(templateName: String, templateVersion: String, action: String) -> Bool {
        guard let bundle = catalog.bundle(name: templateName, version: templateVersion) else { return false }
        guard let definition = bundle.manifest.actions[action] else { return action == "uninstall" }
        return definition.idempotent
    }

    /// True when the bundle exists and defines the action; a missing `uninstall` counts as
    /// supported because there is nothing to remove.
    public func supports(templateName: String, templateVersion: String, action: String) -> Bool {
        guard let bundle = catalog.bundle(name: templateName, version: templateVersion) else { return false }
        return bundle.manifest.actions[action] != nil || action == "uninstall"
    }

    public func healthProblem() async -> String? {
        if catalog.bundles.isEmpty {
            var message = "No template bundles were loaded from '\(catalog.root)'"
            if !catalog.problems.isEmpty {
                message += ": " + catalog.problems.prefix(3).map(\.description).joined(separator: "; ")
            }
            return message
        }
        if !FileManager.default.isExecutableFile(atPath: "/bin/sh") {
            return "/bin/sh is missing or not executable; template steps cannot run"
        }
        return nil
    }

    /// Runs every step of the request's action in order and merges their outputs (later wins).
    ///
    /// Returns a failed result for a missing bundle or action, a step that cannot start, exits
    /// non-zero, is killed, times out or writes invalid outputs.
    /// - Throws: `CancellationError` when the task is cancelled (the running step is killed first),
    ///   or an error when the deployer's scratch directory cannot be created.
    public func deploy(
        _ request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult {
        guard let bundle = catalog.bundle(name: request.templateName, version: request.templateVersion) else {
            return DeploymentResult(
                succeeded: false,
                message:
                    "No bundle for template '\(request.templateName)' version '\(request.templateVersion)' is installed under the templates directory"
            )
        }
        guard let action = bundle.manifest.actions[request.action] else {
            if request.action == "uninstall" {
                return DeploymentResult(
                    succeeded: true,
                    message: "Template '\(request.templateName)' has no 'uninstall' action; nothing to remove")
            }
            return DeploymentResult(
                succeeded: false, message: "Template '\(request.templateName)' has no '\(request.action)' action")
        }
        try Task.checkCancellation()

        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let scratch = try Scratch.create()
        defer { scratch.remove() }
        let input = Data(Self.standardInputDocument(for: request).description.utf8)
        try scratch.write(input, to: scratch.parametersPath)

        let runner = ExecStepRunner(terminationGracePeriod: terminationGracePeriod, tailLimit: Self.diagnosticTailLimit)
        var outputs: [String: JSONValue] = [:]
        var metadata: Logger.Metadata = [
            "operation_id": "\(request.operationId)", "step_id": "\(request.stepId)",
            "resource_id": "\(request.resourceId)", "template": "\(bundle.name)@\(bundle.version)",
            "action": "\(request.action)",
        ]
        for (index, step) in action.steps.enumerated() {
            try Task.checkCancellation()
            metadata["bundle_step"] = "\(step.name)"
            if action.steps.count > 1 {
                await progress("Step '\(step.name)' (\(index + 1)/\(action.steps.count))")
            }
            if step.workload != nil || step.tool != nil {
                guard let workloads else {
                    return DeploymentResult(
                        succeeded: false,
                        message: "Step '\(step.name)' needs the local data plane (workloads and tools), which this server does not run")
                }
                var stepRequest = request
                stepRequest.parameters.merge(outputs) { _, output in output }
                let result =
                    if let workload = step.workload {
                        try await workloads.workload(workload, request: stepRequest, progress: progress)
                    } else if let tool = step.tool {
                        try await workloads.tool(tool, request: stepRequest, progress: progress)
                    } else {
                        DeploymentResult(succeeded: false, message: "unreachable")
                    }
                guard result.succeeded else {
                    return DeploymentResult(succeeded: false, message: "Step '\(step.name)' failed: \(result.message)")
                }
                outputs.merge(result.outputs) { _, later in later }
                continue
            }
            if let isolate = step.isolate {
                guard let isolation else {
                    return DeploymentResult(
                        succeeded: false,
                        message:
                            "Step '\(step.name)' needs the local data plane (workspace isolation), which this server does not run")
                }
                var stepRequest = request
                stepRequest.parameters.merge(outputs) { _, output in output }
                let result = try await isolation.isolate(isolate, request: stepRequest, progress: progress)
                guard result.succeeded else {
                    return DeploymentResult(succeeded: false, message: "Step '\(step.name)' failed: \(result.message)")
                }
                outputs.merge(result.outputs) { _, later in later }
                continue
            }
            // Outputs of earlier steps (an `isolate:` step's uid, addresses) reach later steps as parameters.
            var stepRequest = request
            stepRequest.parameters.merge(outputs) { _, output in output }
            try scratch.write(Data(Self.standardInputDocument(for: stepRequest).description.utf8), to: scratch.parametersPath)
            let outputsPath = scratch.path + "/outputs-\(index).json"
            try scratch.write(Data(), to: outputsPath)
            var environment = baseEnvironment(scratch: scratch)
            environment.merge(extraEnvironment) { _, extra in extra }
            environment.merge(step.environment ?? [:]) { _, own in own }
            environment.merge(
                Self.stepEnvironment(
                    for: stepRequest, dataDirectory: dataDirectory, templateDirectory: bundle.directory,
                    outputsPath: outputsPath, stepName: step.name)
            ) { _, enclave in enclave }
            let seconds = step.timeout ?? action.timeout ?? BundleAction.defaultTimeoutSeconds

            logger.debug("Running bundle step", metadata: metadata)
            let outcome = await runner.run(
                argv: step.run, workingDirectory: bundle.directory, environment: environment,
                standardInputPath: scratch.parametersPath, timeout: .seconds(seconds), progress: progress)

            let tail = outcome.diagnosticTail
            switch outcome.termination {
            case .exited(0):
                break
            case .exited(let code):
                logger.info("Bundle step failed", metadata: metadata.merging(["exit_code": "\(code)"]) { $1 })
                return failure("Step '\(step.name)' failed (exit code \(code)): ", tail)
            case .signaled(let signal):
                logger.info("Bundle step killed", metadata: metadata.merging(["signal": "\(signal)"]) { $1 })
                return failure("Step '\(step.name)' was killed by signal \(signal): ", tail)
            case .timedOut:
                logger.info("Bundle step timed out", metadata: metadata)
                return DeploymentResult(
                    succeeded: false,
                    message: "Step '\(step.name)' timed out after \(seconds) s"
                        + (tail.isEmpty ? "" : "; last output: \(tail)"))
            case .cancelled:
                logger.debug("Bundle step cancelled", metadata: metadata)
                throw CancellationError()
            case .couldNotStart(let reason):
                return DeploymentResult(succeeded: false, message: "Step '\(step.name)' could not start: \(reason)")
            }

            switch Self.readOutputs(at: outputsPath) {
            case .success(let stepOutputs):
                outputs.merge(stepOutputs) { _, later in later }
            case .failure(let problem):
                return DeploymentResult(succeeded: false, message: "Step '\(step.name)' \(problem.message)")
            }
        }
        let stepCount = action.steps.count
        return DeploymentResult(
            succeeded: true, outputs: outputs,
            message:
                "Action '\(request.action)' of template '\(bundle.name)' completed (\(stepCount) step\(stepCount == 1 ? "" : "s"))"
        )
    }

    private func failure(_ prefix: String, _ tail: String) -> DeploymentResult {
        DeploymentResult(succeeded: false, message: prefix + (tail.isEmpty ? "(no output)" : tail))
    }

    private func baseEnvironment(scratch: Scratch) -> [String: String] {
        let inheritedPath = ProcessInfo.processInfo.environment["PATH"]
        return [
            "PATH": inheritedPath.flatMap { $0.isEmpty ? nil : $0 }
                ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": scratch.homePath,
            "TMPDIR": scratch.temporaryPath,
            "LANG": "C.UTF-8",
        ]
    }

    struct OutputsProblem: Error {
        var message: String
    }

    /// Reads a step's outputs file: empty means no outputs; otherwise it must be a JSON object.
    static func readOutputs(at path: String) -> Result<[String: JSONValue], OutputsProblem> {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(OutputsProblem(message: "removed its outputs file ($ENCLAVE_OUTPUTS)"))
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxOutputsFileSize + 1) ?? Data()
        } catch {
            return .failure(OutputsProblem(message: "left an unreadable outputs file: \(error.localizedDescription)"))
        }
        guard data.count <= maxOutputsFileSize else {
            return .failure(
                OutputsProblem(
                    message: "wrote more than \(maxOutputsFileSize) bytes to $ENCLAVE_OUTPUTS; outputs must be small"))
        }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .success([:]) }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            let excerpt = String(decoding: data.prefix(200), as: UTF8.self)
            return .failure(
                OutputsProblem(message: "wrote invalid JSON to $ENCLAVE_OUTPUTS (expected a JSON object): \(excerpt)"))
        }
        guard let object = value.objectValue else {
            return .failure(
                OutputsProblem(
                    message: "wrote a JSON \(value.typeName) to $ENCLAVE_OUTPUTS; outputs must be a JSON object"))
        }
        return .success(object)
    }
}

/// A private directory for one deploy call: the parameters file, outputs files, HOME and TMPDIR.
/// Removed when the call ends, so nothing a step leaves there outlives it.
private struct Scratch {
    let path: String

    var parametersPath: String { path + "/parameters.json" }
    var homePath: String { path + "/home" }
    var temporaryPath: String { path + "/tmp" }

    static func create() throws -> Scratch {
        let base = FileManager.default.temporaryDirectory.standardizedFileURL.path
        let path = base + "/enclave-exec-" + UUID().uuidString.lowercased()
        let attributes: [FileAttributeKey: Any] = [.posixPermissions: 0o700]
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: attributes)
        let scratch = Scratch(path: path)
        try FileManager.default.createDirectory(
            atPath: scratch.homePath, withIntermediateDirectories: false, attributes: attributes)
        try FileManager.default.createDirectory(
            atPath: scratch.temporaryPath, withIntermediateDirectories: false, attributes: attributes)
        return scratch
    }

    func write(_ data: Data, to file: String) throws {
        guard FileManager.default.createFile(atPath: file, contents: data, attributes: [.posixPermissions: 0o600])
        else {
            throw EnclaveError.internal("Cannot create \(file) for a template step")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
