import ArgumentParser
import EnclaveCore
import EnclaveEngine
import Foundation
import Histogram

/// `enclave-bench deployer`: the exec deployer alone, with no HTTP, store or queue in the way.
///
/// The operations benchmark measures the whole control plane; this one runs the same template's
/// install through `ExecDeployer.deploy` directly, K at a time, so the difference between the two
/// is what the API, SQLite and the worker loop add on top of spawning the step's process.
struct DeployerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployer", abstract: "Run a template's install through the exec deployer only; report steps/s.")

    @Option(help: "Directory of template folders.") var templates: String = "Benchmarks/templates"
    @Option(help: "Template to install.") var template: String = "bench-noop"
    @Option(help: "Scratch data directory (the no-op install appends to bench-installs.log there).") var dataDir: String
    @Option(help: "Installs to run.") var count: Int = 1000
    @Option(help: "Installs at once (as the server's --workers).") var concurrency: Int = 2

    func run() async throws {
        let catalog = BundleCatalog.load(from: templates)
        guard let bundle = catalog.bundles.first(where: { $0.name == template }) else {
            throw BenchError("No template '\(template)' under \(templates)")
        }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let deployer = ExecDeployer(catalog: catalog, dataDirectory: dataDir)
        let next = Ticket()
        let start = ContinuousClock.now
        let durations = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var mine: [Duration] = []
                    while let index = next.take(below: count) {
                        let request = DeploymentRequest(
                            operationId: "op-\(index)", stepId: "step-\(index)", action: "install", resourceId: "ws-\(index)",
                            resourceType: .workspace, templateName: bundle.name, templateVersion: bundle.version,
                            parameters: [:], workspaceId: "ws-\(index)")
                        let began = ContinuousClock.now
                        let result = try await deployer.deploy(request) { _ in }
                        guard result.succeeded else { throw BenchError("install \(index) failed: \(result.message)") }
                        mine.append(ContinuousClock.now - began)
                    }
                    return mine
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - start
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for duration in durations { _ = histogram.record(duration.microseconds) }
        print(String(format: "deployer only: %d installs in %.2f s = %.1f steps/s (%d at once)", count, elapsed.seconds, Double(count) / elapsed.seconds, concurrency))
        print("latency per step ms: \(OperationsBenchmark.summary(histogram))")
    }
}
