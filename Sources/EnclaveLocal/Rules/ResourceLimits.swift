// cgroup limits of a workspace, from template parameters, and the files that set them.
public import EnclaveCore

/// Memory, CPU and process limits of one workspace (nil: unlimited).
public struct ResourceLimits: Sendable, Hashable {
    public var memoryBytes: Int?
    /// Percent of one CPU (100 = one core, 250 = two and a half).
    public var cpuPercent: Int?
    public var maxProcesses: Int?

    public init(memoryBytes: Int? = nil, cpuPercent: Int? = nil, maxProcesses: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpuPercent = cpuPercent
        self.maxProcesses = maxProcesses
    }

    /// The property names templates declare to set limits.
    public static let memoryParameter = "memory_limit_mb"
    public static let cpuParameter = "cpu_limit_percent"
    public static let processesParameter = "max_processes"

    /// Reads `memory_limit_mb`, `cpu_limit_percent` and `max_processes` from the resource's
    /// properties, falling back to `defaults`; 0 means unlimited.
    ///
    /// - Throws: `EnclaveError.unprocessable` for a value that is not a non-negative whole number.
    public static func from(parameters: [String: JSONValue], defaults: ResourceLimits = .init()) throws -> ResourceLimits {
        func number(_ name: String) throws -> Int?? {
            guard let value = parameters[name], value != .null else { return .none }
            var parsed: Double?
            switch value {
            case .int(let n): parsed = Double(n)
            case .double(let n): parsed = n
            case .string(let text): parsed = Double(text)
            default: parsed = nil
            }
            guard let number = parsed, number >= 0, number.rounded() == number, number < 1e15 else {
                throw EnclaveError.unprocessable("\(name) must be a whole number ≥ 0, not \(value)")
            }
            return .some(number == 0 ? nil : Int(number))
        }
        var limits = defaults
        if let megabytes = try number(memoryParameter) { limits.memoryBytes = megabytes.map { $0 * 1024 * 1024 } }
        if let percent = try number(cpuParameter) { limits.cpuPercent = percent }
        if let processes = try number(processesParameter) { limits.maxProcesses = processes }
        return limits
    }

    /// The CFS period used for CPU quotas (100 ms).
    public static let cpuPeriodMicros = 100_000

    /// The controller files to write, as (controller, file, value), for cgroup v1 or v2.
    /// Unlimited values are written too (`-1` / `max`) so lowering then removing a limit works.
    public func files(unified: Bool) -> [CgroupFile] {
        let period = Self.cpuPeriodMicros
        let quota = cpuPercent.map { $0 * period / 100 }
        if unified {
            return [
                CgroupFile(controller: "memory", file: "memory.max", value: memoryBytes.map(String.init) ?? "max"),
                CgroupFile(controller: "cpu", file: "cpu.max", value: "\(quota.map(String.init) ?? "max") \(period)"),
                CgroupFile(controller: "pids", file: "pids.max", value: maxProcesses.map(String.init) ?? "max"),
            ]
        }
        return [
            CgroupFile(controller: "memory", file: "memory.limit_in_bytes", value: memoryBytes.map(String.init) ?? "-1"),
            CgroupFile(controller: "cpu", file: "cpu.cfs_period_us", value: String(period)),
            CgroupFile(controller: "cpu", file: "cpu.cfs_quota_us", value: quota.map(String.init) ?? "-1"),
            CgroupFile(controller: "pids", file: "pids.max", value: maxProcesses.map(String.init) ?? "max"),
        ]
    }
}

/// One cgroup control file and the value written to it.
public struct CgroupFile: Sendable, Hashable {
    public var controller: String
    public var file: String
    public var value: String
}
