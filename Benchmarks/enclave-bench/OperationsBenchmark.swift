import ArgumentParser
import AsyncHTTPClient
import EnclaveAPI
import Foundation
import Histogram
import Synchronization

/// `enclave-bench operations`: N workspace installs end to end (POST → `deployed`), K in flight.
///
/// Each client task takes the next index, POSTs a workspace, then polls the operation's `Location`
/// until it is terminal. Latency is POST sent → `deployed` seen, so it includes up to one poll
/// interval (polls back off from `--poll-start-ms` to `--poll-max-ms` to keep their own load on the
/// server small). Afterwards the template's install log is checked: every created workspace must
/// appear exactly once (0 lost, 0 duplicated). Exits non-zero if either check fails.
struct OperationsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operations", abstract: "Create N workspaces with a no-op install; report ops/s, p50/p99, lost, duplicated.")

    @Option(help: "Server URL.") var url: String
    @Option(help: "Bearer token (TREAdmin).") var token: String
    @Option(help: "Workspaces to create.") var count: Int = 1000
    @Option(help: "Operations in flight.") var concurrency: Int = 32
    @Option(help: "Workspace template (its install must append the resource id to --install-log).")
    var template: String = "bench-noop"
    @Option(help: "The file the template's install appends resource ids to (omit for a real template: no lost/duplicated check).")
    var installLog: String?
    @Option(help: "First poll of an operation this long after its POST answered.") var pollStartMs: Double = 5
    @Option(help: "Longest wait between polls of one operation.") var pollMaxMs: Double = 50
    @Option(help: "Give up on an operation after this many seconds (it then counts as lost).") var timeout: Double = 120

    func validate() throws {
        if count < 1 || concurrency < 1 { throw ValidationError("--count and --concurrency must be positive") }
    }

    func run() async throws {
        let httpClient = BenchAPI.httpClient(connections: concurrency)
        let client = EnclaveClient(baseURL: url, token: token, httpClient: httpClient)
        let outcomes: [Outcome]
        let elapsed: Duration
        do {
            try await BenchAPI.waitUntilHealthy(client, timeout: .seconds(30))
            let next = Ticket()
            let start = ContinuousClock.now
            outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var mine: [Outcome] = []
                        while let index = next.take(below: count) {
                            mine.append(try await runOne(client, index: index))
                        }
                        return mine
                    }
                }
                var all: [Outcome] = []
                for try await part in group { all += part }
                return all
            }
            elapsed = ContinuousClock.now - start
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        let failed = try report(outcomes, elapsed: elapsed)
        if failed { throw ExitCode.failure }
    }

    /// What happened to one operation.
    struct Outcome: Sendable {
        var workspaceId: String?
        var status: String
        /// POST sent → 202 received.
        var accepted: Duration
        /// POST sent → terminal status seen.
        var total: Duration
        var polls: Int
    }

    func runOne(_ client: EnclaveClient, index: Int) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let created = try await client.post("/api/workspaces", body: BenchAPI.workspaceBody(template: template, index: index))
        let accepted = clock.now - start
        guard let location = created.location else { throw BenchError("POST /api/workspaces gave no Location") }
        let workspaceId = try BenchAPI.workspaceId(fromLocation: location)
        var wait = pollStartMs
        var polls = 0
        while clock.now - start < .seconds(timeout) {
            try await Task.sleep(for: .microseconds(Int(wait * 1000)))
            polls += 1
            let operation = try await BenchAPI.operationStatus(client, location: location)
            if BenchAPI.terminalStatuses.contains(operation.status) {
                return Outcome(
                    workspaceId: workspaceId, status: operation.status, accepted: accepted, total: clock.now - start, polls: polls)
            }
            wait = min(wait * 1.5, pollMaxMs)
        }
        return Outcome(workspaceId: workspaceId, status: "timed out", accepted: accepted, total: clock.now - start, polls: polls)
    }

    /// Prints the figures; returns true when an operation was lost or an install ran twice.
    func report(_ outcomes: [Outcome], elapsed: Duration) throws -> Bool {
        var total = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var accepted = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for outcome in outcomes where outcome.status == "deployed" {
            _ = total.record(outcome.total.microseconds)
            _ = accepted.record(outcome.accepted.microseconds)
        }
        let deployed = outcomes.filter { $0.status == "deployed" }.count
        let seconds = elapsed.seconds
        let polls = outcomes.reduce(0) { $0 + $1.polls }
        print(String(format: "operations: %d in %.2f s = %.1f ops/s (%d in flight)", outcomes.count, seconds, Double(deployed) / seconds, concurrency))
        print("latency POST->deployed ms: \(Self.summary(total))")
        print("latency POST->202 ms:      \(Self.summary(accepted))")
        print(String(format: "polls: %.1f GET per operation (first after %.0f ms, then x1.5 up to %.0f ms)", Double(polls) / Double(max(outcomes.count, 1)), pollStartMs, pollMaxMs))

        let lost = outcomes.count - deployed
        guard let installLog else {
            var byStatus: [String: Int] = [:]
            for outcome in outcomes { byStatus[outcome.status, default: 0] += 1 }
            print("statuses: \(byStatus.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
            return lost > 0
        }
        let expected = Set(outcomes.compactMap(\.workspaceId))
        let lines = (try? String(contentsOfFile: installLog, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        var seen: [String: Int] = [:]
        for line in lines { seen[line, default: 0] += 1 }
        let duplicated = seen.values.filter { $0 > 1 }.count
        let missing = expected.subtracting(seen.keys).count
        let unexpected = Set(seen.keys).subtracting(expected).count
        var byStatus: [String: Int] = [:]
        for outcome in outcomes { byStatus[outcome.status, default: 0] += 1 }
        print("statuses: \(byStatus.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        print("lost: \(lost) (not deployed)  duplicated: \(duplicated) (installs run more than once)")
        print("install log: \(lines.count) lines, \(seen.count) unique, \(missing) missing, \(unexpected) unexpected")
        return lost > 0 || duplicated > 0 || missing > 0
    }

    static func summary(_ histogram: Histogram<UInt64>) -> String {
        func ms(_ micros: UInt64) -> String { String(format: "%.1f", Double(micros) / 1000) }
        guard histogram.totalCount > 0 else { return "no samples" }
        return "p50 \(ms(histogram.valueAtPercentile(50))) p90 \(ms(histogram.valueAtPercentile(90))) "
            + "p99 \(ms(histogram.valueAtPercentile(99))) max \(ms(histogram.max)) (n=\(histogram.totalCount))"
    }
}

/// Hands out indices 0..<n to client tasks, each exactly once.
final class Ticket: Sendable {
    private let next = Atomic<Int>(0)

    func take(below limit: Int) -> Int? {
        let value = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return value < limit ? value : nil
    }
}

extension Duration {
    var microseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000_000)
    }

    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
