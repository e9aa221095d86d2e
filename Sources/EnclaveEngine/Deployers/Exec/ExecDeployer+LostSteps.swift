import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

extension ExecDeployer {
    /// Kills (SIGKILL) every process on this host whose environment carries `ENCLAVE_STEP_ID=<stepId>`.
    ///
    /// When a worker process dies with `kill -9`, the children running its step are orphaned and keep
    /// going. Every step's processes inherit `ENCLAVE_STEP_ID`, so scanning `/proc` finds them — also
    /// grandchildren in other process groups — without trusting a recorded pid that may have been reused.
    /// Processes of another host's data dir are out of reach; there the lease's expiry is the only guard.
    public func stopLeftovers(ofStep stepId: String) async -> Int {
        #if os(Linux)
            let marker = Array("ENCLAVE_STEP_ID=\(stepId)".utf8)
            let fm = FileManager.default
            guard let entries = try? fm.contentsOfDirectory(atPath: "/proc") else { return 0 }
            let me = getpid()
            var killed = 0
            for entry in entries {
                guard let pid = Int32(entry), pid != me, pid > 1,
                    let environ = fm.contents(atPath: "/proc/\(entry)/environ")
                else { continue }
                let matches = environ.split(separator: 0).contains { Array($0) == marker }
                if matches, kill(pid, SIGKILL) == 0 { killed += 1 }
            }
            if killed > 0 {
                logger.warning("stopped processes left by a lost worker", metadata: ["step": "\(stepId)", "processes": "\(killed)"])
            }
            return killed
        #else
            return 0
        #endif
    }
}
