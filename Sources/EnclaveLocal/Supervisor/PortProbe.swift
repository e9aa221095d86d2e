// A single TCP connect, for health checks of workloads that are still starting.
public import NIOCore
import NIOPosix

/// Whether something accepts TCP connections at an address right now.
///
/// Health checks call this before their HTTP request: AsyncHTTPClient's pool answers a refused
/// connect by retrying with a growing backoff until the request's deadline, so a probe sent while
/// a workload is still starting waited up to its whole timeout and then saw the port open only after
/// the next backoff step (hundreds of milliseconds added to every start). One connect here is
/// refused at once, and the HTTP request is made only when the port is open.
public enum PortProbe {
    /// One connect attempt, no retries; false when refused, unreachable or not answered within `timeout`.
    public static func accepts(host: String, port: Int, timeout: TimeAmount = .seconds(1)) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(host: host, port: port)
                .get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }
}
