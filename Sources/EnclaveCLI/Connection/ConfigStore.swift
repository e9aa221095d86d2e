import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The server URL and token saved by `enclave login`, and, after a sign-in at an identity provider,
/// what is needed to refresh the token.
///
/// Every field added after the first release is optional, so files written by older versions (only
/// `url` and `token`) still load; a login saved with `--token` has no refresh token and is never
/// refreshed.
public struct StoredLogin: Codable, Sendable, Equatable {
    public var url: String
    /// The access token sent as the bearer token; empty after a refresh was refused (signed out).
    public var token: String
    public var refreshToken: String?
    /// When `token` expires, in seconds since 1970.
    public var expiresAt: Double?
    /// The provider's issuer, client and endpoints, as discovered at sign-in.
    public var issuer: String?
    public var clientId: String?
    public var tokenEndpoint: String?
    public var revocationEndpoint: String?

    public init(
        url: String, token: String, refreshToken: String? = nil, expiresAt: Double? = nil, issuer: String? = nil,
        clientId: String? = nil, tokenEndpoint: String? = nil, revocationEndpoint: String? = nil
    ) {
        self.url = url
        self.token = token
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.issuer = issuer
        self.clientId = clientId
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
    }

    /// Whether a refresh token and the endpoint to redeem it are known.
    public var canRefresh: Bool { refreshToken != nil && tokenEndpoint != nil && clientId != nil }

    /// Whether the access token expires within `margin` seconds of `now` (false when the expiry is unknown).
    public func expires(within margin: Double, of now: Double) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt - now <= margin
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
        // pid and a random part: two tasks of one process may save (under `withLock`, one at a time).
        let temporary = directory.appendingPathComponent(".config.json.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
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

    /// `config.lock`, beside the file: held (exclusive `flock`) while a refresh or logout reads, spends and
    /// rewrites the saved tokens.
    public var lockFile: URL { directory.appendingPathComponent("config.lock") }

    /// Runs `body` holding the exclusive lock on `lockFile`, so that of several `enclave` processes only
    /// one at a time spends the saved refresh token (the provider revokes the whole token family when a
    /// spent one is presented again). `body` should re-read the file: another process may have changed it
    /// while this one waited.
    ///
    /// The lock is polled (`LOCK_NB`) rather than waited for in `flock`, so no thread of Swift's small
    /// cooperative pool blocks and the wait can be cancelled; it gives up after `timeout`.
    public func withLock<T>(
        timeout: Duration = .seconds(30), isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("Cannot create \(directory.path): \(error.localizedDescription)")
        }
        let fd = open(lockFile.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("Cannot open \(lockFile.path): \(Self.errnoText())") }
        defer { close(fd) }  // closing the descriptor releases the lock
        let deadline = ContinuousClock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw CLIError("Cannot lock \(lockFile.path): \(Self.errnoText())")
            }
            guard ContinuousClock.now < deadline else {
                throw CLIError("Another enclave process has held \(lockFile.path) for \(timeout); try again")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await body()
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
