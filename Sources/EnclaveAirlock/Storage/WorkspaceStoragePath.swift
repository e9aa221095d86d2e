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
}
