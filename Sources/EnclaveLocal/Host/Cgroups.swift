// Per-workspace cgroups: memory, CPU and pids limits, under an `enclave` folder of each controller.
import EnclaveCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Creates, limits and removes workspace cgroups on cgroup v1 (one hierarchy per controller,
/// what these hosts have) or v2 (a unified hierarchy with `cgroup.controllers` at its root).
public struct Cgroups: Sendable, Hashable {
    /// Usually `/sys/fs/cgroup`.
    public var root: String
    /// The folder holding every workspace cgroup, under each controller (v1) or the root (v2).
    public var parent: String

    public static let controllers = ["memory", "cpu", "pids"]

    public init(root: String = "/sys/fs/cgroup", parent: String = "enclave") {
        self.root = root
        self.parent = parent
    }

    /// Whether the host has a unified (v2) hierarchy with controllers at `root`.
    public var unified: Bool { FileManager.default.fileExists(atPath: "\(root)/cgroup.controllers") }

    /// The cgroup folders of `name` (one per controller on v1, one on v2).
    public func paths(of name: String) -> [String] {
        unified ? ["\(root)/\(parent)/\(name)"] : Self.controllers.map { "\(root)/\($0)/\(parent)/\(name)" }
    }

    /// Why limits cannot be applied here, or nil.
    public func missingCapability() -> String? {
        if unified { return nil }
        let missing = Self.controllers.filter { !FileManager.default.fileExists(atPath: "\(root)/\($0)") }
        return missing.isEmpty ? nil : "cgroup controllers \(missing.joined(separator: ", ")) are not mounted under \(root)"
    }

    /// Creates the cgroup if needed and writes the limits (idempotent).
    public func ensure(_ name: String, limits: ResourceLimits) throws {
        let fm = FileManager.default
        if unified {
            try fm.createDirectory(atPath: "\(root)/\(parent)", withIntermediateDirectories: true)
            // Best effort: controllers may already be enabled, or delegated elsewhere.
            _ = try? write("+memory +cpu +pids", to: "\(root)/cgroup.subtree_control")
            _ = try? write("+memory +cpu +pids", to: "\(root)/\(parent)/cgroup.subtree_control")
        }
        for path in paths(of: name) {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        if unified {
            // A nested name (a workload's cgroup under its workspace's): each ancestor hands the
            // controllers down too.
            var ancestor = "\(root)/\(parent)"
            for component in name.split(separator: "/").dropLast() {
                ancestor += "/\(component)"
                _ = try? write("+memory +cpu +pids", to: "\(ancestor)/cgroup.subtree_control")
            }
        }
        for file in limits.files(unified: unified) {
            let folder = unified ? "\(root)/\(parent)/\(name)" : "\(root)/\(file.controller)/\(parent)/\(name)"
            let path = "\(folder)/\(file.file)"
            // cpu.cfs_period_us must be set before a quota; a missing file (controller absent) is skipped.
            guard fm.fileExists(atPath: path) else { continue }
            try write(file.value, to: path)
        }
    }

    /// Process ids in the workspace's cgroups and the cgroups below them (its workloads').
    public func processes(of name: String) -> [Int32] {
        var pids = Set<Int32>()
        for path in paths(of: name).flatMap({ Self.descendants(of: $0) + [$0] }) {
            guard let text = try? String(contentsOfFile: "\(path)/cgroup.procs", encoding: .utf8) else { continue }
            for line in text.split(whereSeparator: \.isNewline) { if let pid = Int32(line) { pids.insert(pid) } }
        }
        return pids.sorted()
    }

    /// Removes the cgroup folders and the cgroups below them, deepest first (their processes must be
    /// gone); absent folders are skipped.
    public func remove(_ name: String) throws {
        for path in paths(of: name).flatMap({ Self.descendants(of: $0) + [$0] }) where FileManager.default.fileExists(atPath: path) {
            guard rmdir(path) == 0 || errno == ENOENT else {
                throw EnclaveError.internal("Cannot remove cgroup \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Every cgroup folder below `path`, children after their own children (the order rmdir needs).
    static func descendants(of path: String) -> [String] {
        var found: [String] = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for entry in entries.sorted() {
            var isDirectory: ObjCBool = false
            let child = "\(path)/\(entry)"
            guard FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            found += descendants(of: child) + [child]
        }
        return found
    }

    private func write(_ value: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw EnclaveError.internal("Cannot open \(path) to set '\(value)'")
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data(value.utf8))
        } catch {
            throw EnclaveError.internal("Cannot write '\(value)' to \(path): \(error.localizedDescription)")
        }
    }
}
