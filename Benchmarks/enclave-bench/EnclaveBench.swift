import ArgumentParser

/// `enclave-bench`: the load generators and the instrumented server behind `make bench`.
///
/// Benchmarks live in their own executable so that timing never runs inside the test suite (machines
/// are shared and noisy); `Benchmarks/run.sh` drives these subcommands and `BENCHMARKS.md` records
/// what they printed.
@main
struct EnclaveBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enclave-bench",
        abstract: "Measure Enclave: operations end to end, cold start and idle memory (GET throughput uses wrk).",
        subcommands: [
            OperationsBenchmark.self, DeployerBenchmark.self, StartupBenchmark.self, CreateWorkspace.self, BenchServe.self,
            AuthBenchmark.self, GatewayBenchmark.self, AirlockScanBenchmark.self, AirlockChecksBenchmark.self, AirlockTransferBenchmark.self,
            IsolationBenchmark.self, JupyterLabStartBenchmark.self, PortalBenchmark.self,
        ])
}
