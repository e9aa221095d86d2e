// Temporary template folders and data directories for the exec deployer and bundle tests.
import EnclaveCore
import Foundation
import Synchronization

@testable import EnclaveEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A throw-away templates root with one template folder, and a data directory beside it.
struct TemplateFixture {
    let base: URL
    let templatesRoot: URL
    let templateFolder: URL
    let dataDirectory: URL
    let name: String
    let version: String

    /// Creates `<tmp>/templates/workspaces/<name>/` with bundle.yaml (header + `actionsYAML`),
    /// a minimal template_schema.json and the given scripts under `scripts/` (made executable).
    init(
        name: String = "test-template", version: String = "1.0.0", type: ResourceType = .workspace,
        actionsYAML: String, scripts: [String: String] = [:]
    ) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "enclave-exec-test-" + UUID().uuidString.lowercased())
        templatesRoot = base.appendingPathComponent("templates")
        dataDirectory = base.appendingPathComponent("data")
        templateFolder = templatesRoot.appendingPathComponent("workspaces").appendingPathComponent(name)
        self.name = name
        self.version = version
        let scriptsFolder = templateFolder.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scriptsFolder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let manifest = """
            name: \(name)
            version: \(version)
            type: \(type.rawValue)
            actions:
            \(actionsYAML)
            """
        try manifest.write(to: templateFolder.appendingPathComponent("bundle.yaml"), atomically: true, encoding: .utf8)
        let schema =
            #"{"$schema": "http://json-schema.org/draft-07/schema", "type": "object", "title": "Test", "properties": {}}"#
        try schema.write(
            to: templateFolder.appendingPathComponent("template_schema.json"), atomically: true, encoding: .utf8)
        for (file, text) in scripts {
            let url = scriptsFolder.appendingPathComponent(file)
            try text.write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
    }

    var catalog: BundleCatalog { BundleCatalog.load(from: templatesRoot.path) }

    func deployer(extraEnvironment: [String: String] = [:]) -> ExecDeployer {
        ExecDeployer(
            catalog: catalog, dataDirectory: dataDirectory.path, extraEnvironment: extraEnvironment,
            terminationGracePeriod: .milliseconds(500))
    }

    func request(
        action: String = "install", parameters: [String: JSONValue] = [:], resourceId: String = "res-1"
    ) -> DeploymentRequest {
        DeploymentRequest(
            operationId: "op-1", stepId: "main", action: action, resourceId: resourceId, resourceType: .workspace,
            templateName: name, templateVersion: version, parameters: parameters)
    }

    func dataFile(_ relativePath: String) -> URL {
        dataDirectory.appendingPathComponent(relativePath)
    }

    func readData(_ relativePath: String) throws -> String {
        try String(contentsOf: dataFile(relativePath), encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(at: base)
    }
}

/// Collects progress messages from concurrent callbacks.
final class ProgressLog: Sendable {
    private let messages = Mutex<[String]>([])

    var all: [String] { messages.withLock { $0 } }

    var callback: @Sendable (String) async -> Void {
        { [self] message in messages.withLock { $0.append(message) } }
    }
}

/// True once `pid` no longer runs (gone, or a zombie waiting for its new parent to reap it).
func processHasEnded(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
    return state == "Z" || state == "X"
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
}

/// The root of the repository this test file belongs to (resolving the private build's symlinks).
func repositoryRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent()  // EnclaveEngineTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
}
