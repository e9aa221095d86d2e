import EnclaveCore
import Foundation
public import NIOCore
import NIOFileSystem
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Scans airlock files with clamd over its Unix socket: the production `MalwareScanner`.
///
/// Every failure is a verdict, and none of them is `clean`: an unreachable clamd, a timeout, a
/// connection closed before the verdict (clamd killed mid-scan) or an unexpected answer is
/// `.unscannable`, which the processor retries and then fails; an exceeded limit
/// (`Heuristics.Limits.Exceeded.*`, a stream cut at `StreamMaxLength`, a file larger than clamd scans)
/// is `.infected`, which blocks the request. No thread waits on the socket: the descriptor is
/// non-blocking and replies are read on NIO's event loops.
public struct ClamdScanner: MalwareScanner {
    /// How the file's bytes reach clamd.
    public enum Transport: String, Sendable, Hashable {
        /// `zFILDES`: the open file's descriptor is passed over the socket and clamd reads the file
        /// itself. Fastest (dataplane.md §3: ~95 MiB/s vs ~75 for streaming) and needs no read access
        /// for clamd's user; only possible when clamd runs on this host.
        case fileDescriptor
        /// `zINSTREAM`: the bytes are sent in length-prefixed chunks; works with a clamd elsewhere
        /// (its `StreamMaxLength` must cover the file, else the reply is a limit finding).
        case stream
    }

    public struct Configuration: Sendable, Hashable {
        /// clamd's `LocalSocket`.
        public var socketPath: String
        public var transport: Transport
        /// The longest Enclave waits for one verdict; then the file is unscannable (and retried).
        /// Keep it above clamd's `MaxScanTime`, so that clamd's own (fail-closed) limit fires first.
        public var timeout: Duration
        /// Chunk size for `zINSTREAM`.
        public var streamChunkSize: Int
        /// The largest file clamd scans (its `MaxFileSize`) when known: a larger file is reported as a
        /// limit finding at once, without streaming gigabytes first. nil leaves it to clamd.
        public var maxFileSize: Int?
        /// Signatures with a dated (official daily) database older than this are a health problem.
        public var maxSignatureAgeDays: Int?
        /// Whether running on custom databases only (no dated daily) is a health problem.
        public var requireDatedSignatures: Bool
        /// clamd's `DatabaseDirectory`, when Enclave can see it: health reports which databases are loaded.
        public var databaseDirectory: String?

        public init(
            socketPath: String, transport: Transport = .fileDescriptor, timeout: Duration = .seconds(900),
            streamChunkSize: Int = 1 << 20, maxFileSize: Int? = nil, maxSignatureAgeDays: Int? = 7,
            requireDatedSignatures: Bool = false, databaseDirectory: String? = nil
        ) {
            self.socketPath = socketPath
            self.transport = transport
            self.timeout = timeout
            self.streamChunkSize = streamChunkSize
            self.maxFileSize = maxFileSize
            self.maxSignatureAgeDays = maxSignatureAgeDays
            self.requireDatedSignatures = requireDatedSignatures
            self.databaseDirectory = databaseDirectory
        }
    }

    public let configuration: Configuration
    let group: any EventLoopGroup
    let now: @Sendable () -> Double

    public init(
        configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.group = group
        self.now = now
    }

    public func scan(path: String) async -> ScanVerdict {
        let started = ContinuousClock.now
        let result: Result<ClamdReply, ClamdFailure>
        switch configuration.transport {
        case .fileDescriptor: result = await scanByDescriptor(path: path)
        case .stream: result = await scanByStream(path: path)
        }
        switch result {
        case .success(.clean): return .clean
        case .success(.found(let signature)): return .infected(signature: signature)
        case .success(.streamLimitExceeded): return .infected(signature: ClamdReply.streamLimitSignature)
        case .success(.error(let message)): return .unscannable(reason: "clamd could not scan '\(Self.fileName(path))': \(message)")
        case .failure(let failure):
            if ContinuousClock.now - started >= configuration.timeout {
                return .unscannable(reason: "clamd gave no verdict on '\(Self.fileName(path))' within \(configuration.timeout) (timed out)")
            }
            return .unscannable(reason: failure.message)
        }
    }

    public func healthProblem() async -> String? {
        switch await command("zPING") {
        case .failure(let failure): return failure.message
        case .success(let reply) where reply != "PONG":
            return "clamd at \(configuration.socketPath) answered PING with '\(reply.prefix(100))' instead of PONG"
        case .success: break
        }
        switch await command("zVERSION") {
        case .failure(let failure): return failure.message
        case .success(let reply):
            let version = ClamdVersion(parsing: reply)
            return version.signatureAgeProblem(
                now: now(), maxAgeDays: configuration.maxSignatureAgeDays, requireDated: configuration.requireDatedSignatures)
        }
    }

    /// What clamd runs with, for operators: its engine, the daily database's version and date when one
    /// is loaded, and the database files in `databaseDirectory` (custom `.ndb`/`.hdb` rules included).
    public func signatureReport() async -> Result<String, ClamdFailure> {
        await command("zVERSION").map { reply in
            let version = ClamdVersion(parsing: reply)
            var parts = [version.engine]
            if let daily = version.databaseVersion { parts.append("daily \(daily)") }
            if let date = version.databaseDate {
                parts.append("built \(Date(timeIntervalSince1970: date).formatted(.iso8601))")
            } else {
                parts.append("no dated (official) database")
            }
            let files = Self.databaseFiles(in: configuration.databaseDirectory)
            if !files.isEmpty { parts.append("databases: \(files.joined(separator: ", "))") }
            return parts.joined(separator: "; ")
        }
    }

    /// The signature files clamd loads from `directory` (official CVD/CLD and custom rule files).
    static func databaseFiles(in directory: String?) -> [String] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let extensions: Set<String> = ["cvd", "cld", "cud", "ndb", "hdb", "hsb", "ldb", "mdb", "msb", "yar", "yara", "cbc", "ign2", "fp", "sfp"]
        return names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
    }

    static func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }

    // MARK: zFILDES

    private func scanByDescriptor(path: String) async -> Result<ClamdReply, ClamdFailure> {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return .failure(ClamdFailure("cannot open '\(Self.fileName(path))' to scan it: \(Self.errnoText())")) }
        defer { close(file) }
        var status = stat()
        guard fstat(file, &status) == 0 else { return .failure(ClamdFailure("cannot stat '\(Self.fileName(path))': \(Self.errnoText())")) }
        if let limit = oversizeSignature(Int(status.st_size)) { return .success(.found(signature: limit)) }
        let socket: Int32
        switch connectNonBlocking() {
        case .failure(let failure): return .failure(failure)
        case .success(let descriptor): socket = descriptor
        }
        // Both writes go to a fresh, empty socket buffer: they complete at once even though non-blocking.
        guard Self.sendAll(socket, Array("zFILDES\0".utf8)), Self.sendDescriptor(file, over: socket) else {
            let reason = Self.errnoText()
            close(socket)
            return .failure(ClamdFailure("could not pass '\(Self.fileName(path))' to clamd at \(configuration.socketPath): \(reason)"))
        }
        // clamd holds its own copy of the descriptor now; the reply is read on an event loop.
        do {
            let channel = try await ClientBootstrap(group: group).withConnectedSocket(socket) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
            return await exchange(on: channel) { _ in }
        } catch {
            // Not closed here: whether NIO already owns the descriptor is unclear, and a double close
            // could close someone else's file. This path needs NIO itself to fail.
            return .failure(ClamdFailure("could not read clamd's reply at \(configuration.socketPath): \(error)"))
        }
    }

    /// A limit finding when the file is larger than clamd scans, so it is blocked without a round trip.
    private func oversizeSignature(_ size: Int) -> String? {
        guard let limit = configuration.maxFileSize, size > limit else { return nil }
        return "Heuristics.Limits.Exceeded.MaxFileSize (\(size) bytes; clamd scans at most \(limit))"
    }

    private func connectNonBlocking() -> Result<Int32, ClamdFailure> {
        #if canImport(Glibc)
            let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let socket = Darwin.socket(AF_UNIX, SOCK_STREAM, 0)
            if socket >= 0 { _ = fcntl(socket, F_SETFL, O_NONBLOCK) }
        #endif
        guard socket >= 0 else { return .failure(ClamdFailure("cannot create a socket for clamd: \(Self.errnoText())")) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(configuration.socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(socket)
            return .failure(ClamdFailure("clamd's socket path is too long: \(configuration.socketPath)"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { systemConnect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = errno == EAGAIN ? "its listen queue is full (busy)" : Self.errnoText()
            close(socket)
            return .failure(ClamdFailure("clamd is unreachable at \(configuration.socketPath): \(reason)"))
        }
        return .success(socket)
    }

    private static func sendAll(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return false }
            return send(socket, base, raw.count, Int32(MSG_NOSIGNAL)) == raw.count
        }
    }

    /// Sends one byte with `descriptor` attached (SCM_RIGHTS), as clamd's FILDES command expects.
    private static func sendDescriptor(_ descriptor: Int32, over socket: Int32) -> Bool {
        let headerSize = MemoryLayout<cmsghdr>.stride
        let alignment = MemoryLayout<Int>.size
        let dataLength = MemoryLayout<Int32>.size
        let space = headerSize + (dataLength + alignment - 1) / alignment * alignment
        var control = [UInt8](repeating: 0, count: space)
        var payload: UInt8 = 0
        return control.withUnsafeMutableBytes { controlBytes -> Bool in
            guard let controlBase = controlBytes.baseAddress else { return false }
            let header = controlBase.assumingMemoryBound(to: cmsghdr.self)
            header.pointee.cmsg_level = SOL_SOCKET
            header.pointee.cmsg_type = Int32(SCM_RIGHTS)
            header.pointee.cmsg_len = .init(headerSize + dataLength)
            controlBase.advanced(by: headerSize).storeBytes(of: descriptor, as: Int32.self)
            return withUnsafeMutablePointer(to: &payload) { payloadPointer -> Bool in
                var vector = iovec(iov_base: UnsafeMutableRawPointer(payloadPointer), iov_len: 1)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer -> Bool in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBase
                    message.msg_controllen = .init(space)
                    return sendmsg(socket, &message, Int32(MSG_NOSIGNAL)) == 1
                }
            }
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    // MARK: zINSTREAM

    private func scanByStream(path: String) async -> Result<ClamdReply, ClamdFailure> {
        let size: Int
        do {
            size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        } catch {
            return .failure(ClamdFailure("cannot stat '\(Self.fileName(path))': \(error.localizedDescription)"))
        }
        if let limit = oversizeSignature(size) { return .success(.found(signature: limit)) }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        switch await connect() {
        case .failure(let failure): return .failure(failure)
        case .success(let connected): channel = connected
        }
        let chunkSize = configuration.streamChunkSize
        return await exchange(on: channel) { outbound in
            try await outbound.write(ByteBuffer(string: "zINSTREAM\0"))
            try await AirlockFiles.fileSystem.withFileHandle(forReadingAt: FilePath(path)) { handle in
                for try await chunk in handle.readChunks(chunkLength: .bytes(Int64(chunkSize))) {
                    var frame = ByteBuffer()
                    frame.writeInteger(UInt32(chunk.readableBytes), endianness: .big)
                    try await outbound.write(contentsOf: [frame, chunk])
                }
            }
            var end = ByteBuffer()
            end.writeInteger(UInt32(0), endianness: .big)
            try await outbound.write(end)
        }
    }

    // MARK: Connection

    private func connect() async -> Result<NIOAsyncChannel<ByteBuffer, ByteBuffer>, ClamdFailure> {
        do {
            let channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: configuration.socketPath) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
            return .success(channel)
        } catch {
            return .failure(ClamdFailure("clamd is unreachable at \(configuration.socketPath): \(error)"))
        }
    }

    /// Sends a short command (`zPING`, `zVERSION`) and returns the reply without its terminator.
    func command(_ name: String) async -> Result<String, ClamdFailure> {
        switch await connect() {
        case .failure(let failure): return .failure(failure)
        case .success(let channel):
            let reply = await exchangeRaw(on: channel, timeout: .seconds(10)) { outbound in
                try await outbound.write(ByteBuffer(string: name + "\0"))
            }
            return reply.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\0\n")) }
        }
    }

    /// Runs `send`, then reads one `\0`-terminated reply, all within the configured timeout.
    private func exchange(
        on channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        send: @Sendable @escaping (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void
    ) async -> Result<ClamdReply, ClamdFailure> {
        await exchangeRaw(on: channel, timeout: configuration.timeout, send: send).map { ClamdReply(parsing: $0) }
    }

    private func exchangeRaw(
        on channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, timeout: Duration,
        send: @Sendable @escaping (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void
    ) async -> Result<String, ClamdFailure> {
        let socketPath = configuration.socketPath
        // Closing the channel at the deadline ends both the writes and the read, wherever they wait.
        let underlying = channel.channel
        let deadline = underlying.eventLoop.scheduleTask(in: Self.timeAmount(timeout)) { underlying.close(promise: nil) }
        defer { deadline.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound -> Result<String, ClamdFailure> in
                // clamd may answer before reading everything (a stream over StreamMaxLength): a failed
                // write is not the verdict; the reply, when one arrives, is.
                let sendResult: Result<Void, any Error>
                do {
                    try await send(outbound)
                    sendResult = .success(())
                } catch {
                    sendResult = .failure(error)
                }
                var reply = ByteBuffer()
                for try await buffer in inbound {
                    var buffer = buffer
                    reply.writeBuffer(&buffer)
                    if reply.readableBytesView.contains(0) || reply.readableBytes > 64 * 1024 { break }
                }
                let text = String(buffer: reply)
                if text.isEmpty, case .failure(let error) = sendResult {
                    return .failure(ClamdFailure("clamd at \(socketPath) stopped reading before a verdict (did it die mid-scan?): \(error)"))
                }
                if text.isEmpty {
                    return .failure(ClamdFailure("clamd at \(socketPath) closed the connection without a verdict (did it die mid-scan?)"))
                }
                return .success(String(text.prefix { $0 != "\0" }))
            }
        } catch {
            return .failure(ClamdFailure("the connection to clamd at \(socketPath) failed before a verdict (did it die mid-scan?): \(error)"))
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// POSIX `connect`, named apart from `ClamdScanner.connect()`.
private func systemConnect(_ socket: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    #if canImport(Glibc)
        Glibc.connect(socket, address, length)
    #else
        Darwin.connect(socket, address, length)
    #endif
}

/// Why clamd gave no verdict, in words for the request's status message and `/api/health`.
public struct ClamdFailure: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
