// Who a workload runs as, and the private home folder a user's own workload gets.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The uid/gid, port and home one workload runs with.
struct WorkloadIdentity: Sendable, Hashable {
    var uid: Int
    /// nil: the uid's number (the workspace uid and gid are equal).
    var gid: Int?
    var port: Int
    var home: String
}

extension LocalWorkloads {
    /// Whether `text` is safe as one path component (a cgroup or folder named after an id).
    static func isPathComponent(_ text: String) -> Bool {
        !text.isEmpty && text != "." && text != ".." && !text.hasPrefix("-") && !text.contains("/") && !text.contains("\0")
    }

    /// Makes `home` the private folder of `uid` (owner `uid:gid`, mode 0700), creating it when missing.
    ///
    /// Mode 0700 alone is not privacy when every member's tools run as the workspace uid; a user's
    /// own uid is. The first time a home moves to its user's uid, what the workspace uid (or root)
    /// created in it moves too, so the user can still change their files; later starts only check
    /// the top folder, so a large home is walked once.
    static func prepareHome(_ home: String, uid: Int, gid: Int) -> Result<Void, SandboxError> {
        let fm = FileManager.default
        if !fm.fileExists(atPath: home) {
            guard mkdir(home, 0o700) == 0 || errno == EEXIST else {
                return .failure(SandboxError(message: "Cannot create \(home): \(String(cString: strerror(errno)))"))
            }
        }
        var info = stat()
        guard lstat(home, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            return .failure(SandboxError(message: "\(home) is not a folder"))
        }
        if Int(info.st_uid) != uid {
            let previous = info.st_uid
            for case let relative as String in fm.enumerator(atPath: home) ?? FileManager.DirectoryEnumerator() {
                let path = "\(home)/\(relative)"
                var entry = stat()
                guard lstat(path, &entry) == 0, entry.st_uid == previous || entry.st_uid == 0 else { continue }
                _ = lchown(path, uid_t(uid), gid_t(gid))
            }
        }
        guard lchown(home, uid_t(uid), gid_t(gid)) == 0, chmod(home, 0o700) == 0 else {
            return .failure(SandboxError(message: "Cannot give \(home) to uid \(uid): \(String(cString: strerror(errno)))"))
        }
        return .success(())
    }
}
