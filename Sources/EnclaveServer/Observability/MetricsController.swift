import EnclaveStore
import Hummingbird
import Prometheus

/// `GET /metrics` in Prometheus text format: request metrics recorded by Hummingbird's
/// `MetricsMiddleware`, plus gauges read from the store at scrape time (operations by status, queue depth,
/// live workers), so they are right even when several processes share the store.
struct MetricsController: Sendable {
    let registry: PrometheusCollectorRegistry
    let store: any Store
    let engine: EngineStatus

    static func gauge(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "enclave", metricName: name, unitName: unit, helpText: help)
    }

    static var operations: MetricNameDescriptor { gauge("operations", help: "Operations in the store, by status") }
    static var queueSteps: MetricNameDescriptor { gauge("queue_steps", help: "Operation steps queued or running") }
    static var oldestQueued: MetricNameDescriptor { gauge("queue_oldest_age", unit: "seconds", help: "Age of the oldest queued step") }
    static var workersAlive: MetricNameDescriptor { gauge("workers_alive", help: "Worker loops running in this process") }

    func register(on router: Router<EnclaveRequestContext>) {
        router.get("/metrics") { _, _ in
            for (status, count) in try await store.operationCounts() {
                registry.makeGauge(descriptor: Self.operations, labels: [("status", status)]).set(Double(count))
            }
            let stats = try await store.queueStats(now: engine.now())
            registry.makeGauge(descriptor: Self.queueSteps, labels: [("state", "queued")]).set(Double(stats.queued))
            registry.makeGauge(descriptor: Self.queueSteps, labels: [("state", "running")]).set(Double(stats.running))
            registry.makeGauge(descriptor: Self.oldestQueued).set(stats.oldestQueuedAgeSeconds ?? 0)
            registry.makeGauge(descriptor: Self.workersAlive).set(Double(engine.aliveWorkers()))
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: .init(bytes: buffer)))
        }
    }
}
