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

    func register(on router: Router<EnclaveRequestContext>) {
        router.get("/metrics") { _, _ in
            for (status, count) in try await store.operationCounts() {
                registry.makeGauge(name: "enclave_operations", labels: [("status", status)]).set(Double(count))
            }
            let stats = try await store.queueStats(now: engine.now())
            registry.makeGauge(name: "enclave_queue_steps", labels: [("state", "queued")]).set(Double(stats.queued))
            registry.makeGauge(name: "enclave_queue_steps", labels: [("state", "running")]).set(Double(stats.running))
            registry.makeGauge(name: "enclave_queue_oldest_age_seconds").set(stats.oldestQueuedAgeSeconds ?? 0)
            registry.makeGauge(name: "enclave_workers_alive").set(Double(engine.aliveWorkers()))
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: .init(bytes: buffer)))
        }
    }
}
