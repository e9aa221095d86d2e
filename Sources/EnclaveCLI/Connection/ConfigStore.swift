import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The server URL and token saved by `enclave login`.
public struct StoredLogin: Codable, Sendable, Equatable {
    public var url: String
    public var token: String

    public init(url: String, token: String) {
        self.url = url
        self.token = token
    }
}

/// Reads and writes `config.json` in the user's config dir (`$XDG_CONFIG_HOME/enclave`, else
/// `~/.config/enclave`).
///
/// The file holds a bearer token, so it is created with mode 0600 inside a 0700 directory, written to
/// a temporary file that is never readable by others and renamed into place, so no reader sees a
/// partial file and no other user can read the token at any moment.
public struct ConfigStore: Sendable {
    /// `…/enclave`, the directory holding `config.json`.
    public var directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The store for the given environment variables (XDG Base Directory rules).
    public init(variables: [String: String]) {
        if let xdg = variables["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            directory = URL(fileURLWithPath: xdg).appendingPathComponent("enclave")
        } else {
            let home =
                variables["HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser
            directory = home.appendingPathComponent(".config").appendingPathComponent("enclave")
        }
    }

    public var file: URL { directory.appendingPathComponent("config.json") }

    /// The saved login, or nil if there is none; throws if the file exists but cannot be read.
    public func load() throws(CLIError) -> StoredLogin? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(StoredLogin.self, from: Data(contentsOf: file))
        } catch {
            throw CLIError("Cannot read \(file.path): \(error.localizedDescription) (run `enclave login` again)")
        }
    }

    /// Saves the login: directory 0700, file 0600, replaced atomically.
    public func save(_ login: StoredLogin) throws(CLIError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(login) } catch { throw CLIError("Cannot encode the login: \(error)") }
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("Cannot create \(directory.path): \(error.localizedDescription)")
        }
        // The directory may predate us with looser permissions; it only ever holds our secrets.
        _ = chmod(directory.path, 0o700)
        let temporary = directory.appendingPathComponent(".config.json.\(getpid()).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o600)
        guard fd >= 0 else { throw CLIError("Cannot write \(temporary.path): \(Self.errnoText())") }
        let written = data.withUnsafeBytes { buffer in write(fd, buffer.baseAddress, buffer.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary.path, file.path) == 0 else {
            let reason = Self.errnoText()
            _ = unlink(temporary.path)
            throw CLIError("Cannot write \(file.path): \(reason)")
        }
    }

    /// Removes the saved login; returns whether there was one.
    @discardableResult
    public func remove() throws(CLIError) -> Bool {
        guard FileManager.default.fileExists(atPath: file.path) else { return false }
        guard unlink(file.path) == 0 else { throw CLIError("Cannot remove \(file.path): \(Self.errnoText())") }
        return true
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
