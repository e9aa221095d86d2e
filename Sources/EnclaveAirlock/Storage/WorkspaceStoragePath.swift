import EnclaveCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A file in a workspace's storage that an export may take: under `shared/` or the requester's own
/// `home/<user>/`, reached without following any symbolic link (a link planted in `shared/` could
/// otherwise point at another user's home or at Enclave's own files).
public struct WorkspaceStoragePath: Sendable, Hashable {
    public var path: String
    /// The path relative to the workspace's storage, as the request records it.
    public var relative: String
    public var size: Int

    public static func resolve(_ given: String, workspaceRoot: String, userId: String) throws -> WorkspaceStoragePath {
        let components = given.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !given.hasPrefix("/"), !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
            !given.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw EnclaveError.badRequest("'\(given)' must be a relative path like shared/results/table.csv, without '.', '..' or empty parts")
        }
        switch components.first {
        case "shared" where components.count >= 2: break
        case "home" where components.count >= 3 && components[1] == userId: break
        default:
            throw EnclaveError.forbidden("Exports take files from shared/… or your own home/\(userId)/… only")
        }
        var current = workspaceRoot
        var info = stat()
        for (index, component) in components.enumerated() {
            current += "/" + component
            guard lstat(current, &info) == 0 else {
                throw EnclaveError.notFound("'\(given)' does not exist in the workspace's storage")
            }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFLNK { throw EnclaveError.badRequest("'\(given)' goes through a symbolic link, which exports do not follow") }
            if index < components.count - 1, kind != S_IFDIR {
                throw EnclaveError.notFound("'\(given)' does not exist in the workspace's storage")
            }
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw EnclaveError.badRequest("'\(given)' is not a regular file") }
        return WorkspaceStoragePath(path: current, relative: given, size: Int(info.st_size))
    }

    /// Files an export could take, for a picker: regular files under `shared/` and `home/<userId>/`, as the
    /// relative paths `resolve` accepts, sorted; symbolic links and what lies behind them are skipped, at
    /// most `limit` paths and `maxDepth` folders deep. Only a suggestion: `resolve` still decides.
    public static func candidates(workspaceRoot: String, userId: String, limit: Int = 500, maxDepth: Int = 8) -> [String] {
        var found: [String] = []
        func walk(_ relative: String, depth: Int) {
            guard found.count < limit, depth <= maxDepth,
                let names = try? FileManager.default.contentsOfDirectory(atPath: workspaceRoot + "/" + relative)
            else { return }
            for name in names.sorted() where found.count < limit {
                let child = relative + "/" + name
                var info = stat()
                guard lstat(workspaceRoot + "/" + child, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFREG: found.append(child)
                case S_IFDIR: walk(child, depth: depth + 1)
                default: continue  // links, sockets, devices: never offered
                }
            }
        }
        // Each top folder with every folder on the way to it, all of which must be real folders, not links.
        var tops = [["shared"]]
        if !userId.isEmpty, !userId.contains("/"), userId != ".", userId != ".." { tops.append(["home", "home/\(userId)"]) }
        for steps in tops {
            let real = steps.allSatisfy { step in
                var info = stat()
                return lstat(workspaceRoot + "/" + step, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            }
            if real, let top = steps.last { walk(top, depth: 1) }
        }
        return found
    }
}
