public import EnclaveCore
public import EnclaveStore
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// The resource processor: workers that claim operation steps from the store, run them through a
/// deployer and apply the results — plus a reaper that recovers steps whose worker was lost.
///
/// `enclave serve` runs one in-process; `enclave worker` runs another against the same store. Any
/// number may run at once: the store's leases guarantee a step is held by one worker at a time.
public struct Engine: Service {
    let store: any Store
    let deployer: any Deployer
    let secrets: SecretBox
    let configuration: EngineConfiguration
    let environment: EngineEnvironment
    let signal: WorkSignal
    let logger: Logger
    let liveWorkers: LiveWorkerCount

    public init(
        store: any Store, deployer: any Deployer, secrets: SecretBox, configuration: EngineConfiguration,
        environment: EngineEnvironment = .live, signal: WorkSignal = WorkSignal(),
        logger: Logger = Logger(label: "enclave.engine")
    ) {
        self.store = store
        self.deployer = deployer
        self.secrets = secrets
        self.configuration = configuration
        self.environment = environment
        self.signal = signal
        self.logger = logger
        self.liveWorkers = LiveWorkerCount()
    }

    /// Workers currently running their loop (for health and metrics).
    public var aliveWorkers: Int { liveWorkers.value }

    public func run() async throws {
        guard configuration.workers > 0 else {
            try await gracefulShutdown()
            return
        }
        logger.info("engine starting", metadata: ["workers": "\(configuration.workers)", "deployer": "\(deployer.name)"])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<configuration.workers {
                    let worker = StepRunner(
                        engine: self, workerId: "\(configuration.workerIdPrefix)-w\(index)")
                    group.addTask { await worker.loop() }
                }
            }
        } onGracefulShutdown: {
            signal.ringAll()
        }
        logger.info("engine stopped")
    }
}

/// Counts live worker loops; shared by copies of the engine value.
final class LiveWorkerCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
    func decrement() { count.subtract(1, ordering: .relaxed) }
}
