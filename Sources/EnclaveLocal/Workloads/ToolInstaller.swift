// Installs a tool once into DATA/tools/<name>-<version>/, shared read-only by every workspace.
import EnclaveEngine
import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Installs `tool:` steps' software: Debian packages with apt-get (root only), PyPI packages into a
/// venv made with the system Python (`/usr/bin/python3`, readable by workspace uids, unlike a
/// per-user Python). A `.enclave-installed` marker makes later installs of the same version a no-op;
/// an exclusive lock on `DATA/tools/.<name>-<version>.lock` makes concurrent installs wait for the
/// first instead of colliding. Progress lines go to the operation's message.
struct ToolInstaller: Sendable {
    let toolsDirectory: String

    static let marker = ".enclave-installed"
    static let python = "/usr/bin/python3"

    func install(_ tool: BundleTool, progress: @escaping @Sendable (String) async -> Void) async -> Result<String, SandboxError> {
        let fm = FileManager.default
        let folder = "\(toolsDirectory)/\(tool.folderName)"
        do {
            try fm.createDirectory(atPath: toolsDirectory, withIntermediateDirectories: true)
        } catch {
            return .failure(SandboxError(message: "Cannot create \(toolsDirectory): \(error.localizedDescription)"))
        }
        _ = chmod(toolsDirectory, 0o755)
        if fm.fileExists(atPath: "\(folder)/\(Self.marker)") { return .success(folder) }
        let lockPath = "\(toolsDirectory)/.\(tool.folderName).lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(SandboxError(message: "Cannot open \(lockPath): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        // Polled, not blocking: a blocked flock would hold one of the few cooperative threads.
        var announced = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if !announced {
                await progress("waiting for another install of \(tool.folderName)")
                announced = true
            }
            try? await Task.sleep(for: .milliseconds(200))
            if Task.isCancelled { return .failure(SandboxError(message: "Install of \(tool.folderName) cancelled")) }
        }
        defer { flock(fd, LOCK_UN) }
        if fm.fileExists(atPath: "\(folder)/\(Self.marker)") { return .success(folder) }
        try? fm.removeItem(atPath: folder)  // a half-finished earlier attempt
        let started = Date()
        if let debian = tool.debian, !debian.isEmpty {
            guard getuid() == 0 else {
                return .failure(SandboxError(message: "\(tool.name) needs Debian packages \(debian.joined(separator: " ")); Enclave is not root, install them first"))
            }
            await progress("installing Debian packages for \(tool.name): \(debian.joined(separator: " "))")
            // The lock above is per tool; dpkg's is per host. Two tools installing at once (JupyterLab's R kernel
            // and the git server's packages) made the second fail at once with "Could not get lock"; apt waits.
            if case .failure(let error) = await run(
                // Another tool's install (or the operator's apt) may hold dpkg's lock: wait for it rather than fail.
                ["/usr/bin/apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"] + debian,
                environment: ["DEBIAN_FRONTEND": "noninteractive"],
                progress: { _ in })
            {
                return .failure(error)
            }
        }
        try? fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let pip = tool.pip, !pip.isEmpty {
            await progress("installing \(tool.folderName) (first install): creating venv")
            if case .failure(let error) = await run([Self.python, "-m", "venv", folder], progress: { _ in }) { return .failure(error) }
            await progress("installing \(tool.folderName) (first install): pip")
            let name = tool.folderName
            let result = await run(["\(folder)/bin/pip", "install", "--no-input", "--progress-bar", "off"] + pip, progress: { line in
                if line.hasPrefix("Collecting ") || line.hasPrefix("Installing collected") {
                    await progress("installing \(name) (first install): \(line.prefix(120))")
                }
            })
            if case .failure(let error) = result { return .failure(error) }
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        guard fm.createFile(atPath: "\(folder)/\(Self.marker)", contents: Data("installed in \(seconds) s\n".utf8)) else {
            return .failure(SandboxError(message: "Cannot write \(folder)/\(Self.marker)"))
        }
        await progress("installed \(tool.folderName) in \(seconds) s")
        return .success(folder)
    }

    /// Runs a command, handing each output line to `progress`; fails with the output's tail.
    private func run(
        _ argv: [String], environment: [String: String] = [:], progress: @escaping @Sendable (String) async -> Void
    ) async -> Result<Void, SandboxError> {
        var env: [Environment.Key: String] = ["LANG": "C.UTF-8"]
        for (key, value) in environment { if let key = Environment.Key(rawValue: key) { env[key] = value } }
        let configuration = Configuration(
            executable: .path(FilePath(argv[0])), arguments: Arguments(Array(argv.dropFirst())), environment: .inherit.updating(env))
        do {
            let result = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .combinedWithOutput) { execution in
                var tail = ""
                var pending = ""
                for try await buffer in execution.standardOutput {
                    pending += buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                    while let newline = pending.firstIndex(of: "\n") {
                        let line = pending[..<newline].trimmingCharacters(in: .whitespacesAndNewlines)
                        pending = String(pending[pending.index(after: newline)...])
                        tail = String((tail + line + "\n").suffix(2000))
                        await progress(line)
                    }
                }
                return tail + pending
            }
            guard case .exited(0) = result.terminationStatus else {
                return .failure(SandboxError(message: "`\(argv.joined(separator: " "))` failed (\(result.terminationStatus)): \(result.closureResult)"))
            }
            return .success(())
        } catch {
            return .failure(SandboxError(message: "`\(argv[0])` could not run: \(error)"))
        }
    }
}
