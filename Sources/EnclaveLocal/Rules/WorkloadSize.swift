// The `vm_size` choices of tool templates and the cgroup limits each one means.
public import EnclaveCore

/// How big one workload (a desktop, a personal notebook) may grow, chosen by the `vm_size`
/// parameter as Azure TRE's VM templates do, and enforced by a cgroup of the workload's own under
/// its workspace's cgroup.
///
/// The workspace's own limits still cap the sum of its workloads: a Large desktop in a workspace
/// limited to 4 GB gets at most 4 GB.
public enum WorkloadSize: String, CaseIterable, Sendable, Hashable {
    case small = "Small (1 CPU, 2 GB)"
    case medium = "Medium (2 CPU, 4 GB)"
    case large = "Large (4 CPU, 8 GB)"

    /// The template parameter that picks a size.
    public static let parameter = "vm_size"

    /// Memory, CPU and process limits of this size.
    public var limits: ResourceLimits {
        let gigabyte = 1024 * 1024 * 1024
        switch self {
        case .small: return ResourceLimits(memoryBytes: 2 * gigabyte, cpuPercent: 100, maxProcesses: 256)
        case .medium: return ResourceLimits(memoryBytes: 4 * gigabyte, cpuPercent: 200, maxProcesses: 512)
        case .large: return ResourceLimits(memoryBytes: 8 * gigabyte, cpuPercent: 400, maxProcesses: 1024)
        }
    }

    /// The size a resource's properties ask for: nil when they have no `vm_size` (the workload then
    /// shares its workspace's limits only).
    ///
    /// - Throws: `EnclaveError.unprocessable` naming the valid choices when the value is not one of them.
    public static func from(parameters: [String: JSONValue]) throws -> WorkloadSize? {
        guard let value = parameters[parameter], value != .null else { return nil }
        guard let text = value.stringValue, let size = WorkloadSize(rawValue: text) else {
            let choices = allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw EnclaveError.unprocessable("\(parameter) must be one of \(choices), not \(value)")
        }
        return size
    }
}
