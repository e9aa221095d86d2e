import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `/proc` says about a process: enough to recognise, after Enclave restarts, that a pid still
/// belongs to the workload it started (pids are reused; the start time in clock ticks is not).
enum ProcessTable {
    /// Field 22 of `/proc/<pid>/stat`: start time after boot, in clock ticks. Nil when the process is gone.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come fields 3…; the comm may contain spaces or parentheses, hence lastIndex.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        let state = fields[0]
        if state == "Z" || state == "X" { return nil }
        return UInt64(fields[19])
    }

    /// Whether `pid` is still the process that started at `startTime`.
    static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        self.startTime(of: pid) == startTime
    }

    /// Sends `signal` to the process group `pgid` (a workload runs in its own session, so the group is
    /// its whole tree); ESRCH (nothing left) is not an error.
    static func signalGroup(_ pgid: Int32, _ signal: Int32) {
        guard pgid > 1 else { return }
        _ = kill(-pgid, signal)
    }
}
