import Crypto
public import EnclaveCore
import Foundation
public import NIOCore
import NIOFileSystem

#if canImport(Glibc)
    import Glibc
#endif

/// The airlock's bytes on disk: `DATA/airlock/<stage>/<request>/<file>` for each `AirlockStage`, and
/// `DATA/airlock/uploads/<request>/<file>` for parts still arriving. Every directory is 0700 and owned by
/// Enclave, so no workspace sandbox and no other local user can read a stage.
///
/// Uploads stream to disk chunk by chunk (never held whole in memory) and are hashed on the way; a file
/// becomes part of a draft only when it is complete, by an atomic rename (`publish`), so a crash or a
/// dropped connection leaves at most a part in `uploads/`, which the next `PUT` with `Content-Range` resumes.
public struct AirlockStorage: Sendable {
    public let root: String
    public let limits: AirlockLimits
    let uploads = UploadRegistry()

    public init(root: String, limits: AirlockLimits = .init()) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.limits = limits
    }

    /// `DATA/airlock` for a data directory.
    public static func root(dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("airlock").path
    }

    public func directory(_ stage: AirlockStage, _ requestId: String) -> String { "\(root)/\(stage.rawValue)/\(requestId)" }
    public func path(_ stage: AirlockStage, _ requestId: String, _ name: String) -> String { "\(directory(stage, requestId))/\(name)" }
    func uploadDirectory(_ requestId: String) -> String { "\(root)/uploads/\(requestId)" }
    func partPath(_ requestId: String, _ name: String) -> String { "\(uploadDirectory(requestId))/\(name)" }

    /// Creates the stage directories (0700). Idempotent.
    public func prepare() throws {
        let folders = [root] + AirlockStage.allCases.map { "\(root)/\($0.rawValue)" } + ["\(root)/uploads"]
        for folder in folders {
            try makePrivateDirectory(folder)
        }
    }

    func makePrivateDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Bytes of a part already received for this file (0 when none).
    public func receivedBytes(_ requestId: String, _ name: String) -> Int {
        fileSize(partPath(requestId, name)) ?? 0
    }

    func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Free bytes on the airlock's file system for an unprivileged writer.
    public func freeBytes() -> Int? {
        var info = statvfs()
        guard statvfs(root, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// The outcome of one `PUT`.
    public enum Received: Sendable, Hashable {
        /// The file is complete in `uploads/` and can be published into the draft.
        case complete(AirlockFile)
        /// More parts are expected; this many bytes are stored.
        case partial(received: Int)
    }

    /// Streams one upload (or one part of it) into `uploads/<request>/<name>`.
    ///
    /// - Parameters:
    ///   - range: the part this body carries; nil: the whole file (any earlier part is discarded).
    ///   - declaredLength: `Content-Length` when the client sent one, checked against limits before any byte is stored.
    ///   - otherFilesBytes: the request's bytes in other files, for the per-request limit.
    /// - Throws: 400/413/416/507 `EnclaveError`s that say what to do; on a full disk the part is deleted.
    public func receive<Body: AsyncSequence & Sendable>(
        requestId: String, name: String, range: UploadRange?, declaredLength: Int?, otherFilesBytes: Int, body: Body
    ) async throws -> Received where Body.Element == ByteBuffer {
        if let problem = AirlockFileName.problem(name) { throw EnclaveError.badRequest(problem) }
        guard await uploads.begin(requestId, name) else {
            throw EnclaveError.conflict("'\(name)' is being uploaded by another request right now; wait for it to finish")
        }
        do {
            let result = try await receiveLocked(
                requestId: requestId, name: name, range: range, declaredLength: declaredLength, otherFilesBytes: otherFilesBytes, body: body)
            await uploads.end(requestId, name)
            return result
        } catch {
            await uploads.end(requestId, name)
            throw error
        }
    }

    func receiveLocked<Body: AsyncSequence & Sendable>(
        requestId: String, name: String, range: UploadRange?, declaredLength: Int?, otherFilesBytes: Int, body: Body
    ) async throws -> Received where Body.Element == ByteBuffer {
        let part = partPath(requestId, name)
        let stored = fileSize(part) ?? 0
        let start: Int
        if let range {
            guard range.start == stored else {
                throw EnclaveError.rangeNotSatisfiable(
                    "'\(name)' has \(stored) bytes stored; send the next part with Content-Range: bytes \(stored)-…/\(range.total)")
            }
            if let declaredLength, declaredLength != range.length {
                throw EnclaveError.badRequest("Content-Length \(declaredLength) does not match Content-Range (\(range.length) bytes)")
            }
            start = range.start
        } else {
            start = 0
        }
        let expectedTotal = range?.total ?? declaredLength
        if let expectedTotal { try checkLimits(name: name, fileBytes: expectedTotal, otherFilesBytes: otherFilesBytes, incoming: expectedTotal - start) }
        try makePrivateDirectory(uploadDirectory(requestId))
        if start == 0 { try? FileManager.default.removeItem(atPath: part) }

        var hasher = SHA256()
        if start > 0 { try await hashPrefix(of: part, length: start, into: &hasher) }
        var written = start
        let limit = range.map { $0.end + 1 } ?? limits.maxFileBytes
        var sinceFreeCheck = 0
        do {
            try await AirlockFiles.fileSystem.withFileHandle(
                forWritingAt: FilePath(part), options: .modifyFile(createIfNecessary: true, permissions: [.ownerReadWrite])
            ) { handle in
                var writer = handle.bufferedWriter(startingAtAbsoluteOffset: Int64(start), capacity: .mebibytes(1))
                for try await chunk in body {
                    written += chunk.readableBytes
                    if written > limit {
                        throw range == nil
                            ? EnclaveError.payloadTooLarge("'\(name)' is larger than the \(Self.describe(limits.maxFileBytes)) per-file limit")
                            : EnclaveError.badRequest("The body is longer than its Content-Range says")
                    }
                    if written + otherFilesBytes > limits.maxRequestBytes {
                        throw EnclaveError.payloadTooLarge(
                            "The request's files would exceed the \(Self.describe(limits.maxRequestBytes)) per-request limit")
                    }
                    chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    try await writer.write(contentsOf: chunk)
                    sinceFreeCheck += chunk.readableBytes
                    if sinceFreeCheck >= 64 << 20 {
                        sinceFreeCheck = 0
                        if let free = freeBytes(), free < limits.minFreeBytes { throw Self.diskFull(name) }
                    }
                }
                try await writer.flush()
                // On disk before the request records the file: a crash after the commit must not lose its bytes.
                try await handle.synchronize()
            }
        } catch let error as EnclaveError {
            if error.kind == .insufficientStorage || error.kind == .payloadTooLarge { try? FileManager.default.removeItem(atPath: part) }
            throw error
        } catch {
            // A dropped connection: keep the part so the client can resume with Content-Range.
            if Self.isNoSpace(error) {
                try? FileManager.default.removeItem(atPath: part)
                throw Self.diskFull(name)
            }
            throw error
        }
        if let range {
            guard written == range.end + 1 else {
                throw EnclaveError.badRequest(
                    "The body ended after \(written - start) of the \(range.length) bytes its Content-Range announced; \(written) bytes of '\(name)' are stored, resume from there")
            }
            if !range.completes { return .partial(received: written) }
        } else if let declaredLength, written != declaredLength {
            throw EnclaveError.badRequest("The body ended after \(written) of \(declaredLength) bytes")
        }
        if written == 0 {
            try? FileManager.default.removeItem(atPath: part)
            throw EnclaveError.badRequest("'\(name)' is empty: the airlock does not take zero-byte files")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return .complete(AirlockFile(name: name, size: written, sha256: digest))
    }

    /// Whether a write failed because the disk is full (NIOFileSystem reports the errno in its error's description).
    /// Copies a file Enclave can read (e.g. from workspace storage) into the request as an upload would.
    public func copyIn(requestId: String, name: String, from source: String, size: Int, otherFilesBytes: Int) async throws -> Received {
        try await AirlockFiles.fileSystem.withFileHandle(forReadingAt: FilePath(source)) { handle in
            try await receive(
                requestId: requestId, name: name, range: nil, declaredLength: size, otherFilesBytes: otherFilesBytes,
                body: handle.readChunks(in: 0..<Int64(size), chunkLength: .mebibytes(1)))
        }
    }

    static func isNoSpace(_ error: any Error) -> Bool {
        let text = String(reflecting: error)
        return text.contains("No space left") || text.contains("ENOSPC") || text.contains("errno: 28")
    }

    static func diskFull(_ name: String) -> EnclaveError {
        .insufficientStorage("The airlock's disk is full: '\(name)' was not stored. Ask an operator to free space, then upload again")
    }

    func checkLimits(name: String, fileBytes: Int, otherFilesBytes: Int, incoming: Int) throws {
        if fileBytes > limits.maxFileBytes {
            throw EnclaveError.payloadTooLarge("'\(name)' (\(Self.describe(fileBytes))) is larger than the \(Self.describe(limits.maxFileBytes)) per-file limit")
        }
        if fileBytes + otherFilesBytes > limits.maxRequestBytes {
            throw EnclaveError.payloadTooLarge(
                "The request's files would total \(Self.describe(fileBytes + otherFilesBytes)), over the \(Self.describe(limits.maxRequestBytes)) per-request limit")
        }
        if let free = freeBytes(), free - incoming < limits.minFreeBytes {
            throw EnclaveError.insufficientStorage(
                "The airlock's disk has \(Self.describe(free)) free; '\(name)' needs \(Self.describe(incoming)) and \(Self.describe(limits.minFreeBytes)) must stay free. Ask an operator to free space")
        }
    }

    func hashPrefix(of path: String, length: Int, into hasher: inout SHA256) async throws {
        try await AirlockFiles.fileSystem.withFileHandle(forReadingAt: FilePath(path)) { handle in
            for try await chunk in handle.readChunks(in: 0..<Int64(length), chunkLength: .mebibytes(1)) {
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
        }
    }

    /// The first `length` bytes of a file (fewer when it is shorter).
    public func readPrefix(_ path: String, length: Int) async throws -> [UInt8] {
        try await AirlockFiles.fileSystem.withFileHandle(forReadingAt: FilePath(path)) { handle in
            var bytes: [UInt8] = []
            for try await chunk in handle.readChunks(in: 0..<Int64(length), chunkLength: .kibibytes(256)) {
                bytes.append(contentsOf: chunk.readableBytesView)
                if bytes.count >= length { break }
            }
            return bytes
        }
    }

    /// Moves a completed upload into the draft stage (atomic rename; replaces a file of the same name).
    /// Call it inside the store transaction that adds the file to the request, so a submit cannot slip in between.
    public func publish(requestId: String, name: String) throws {
        let target = directory(.draft, requestId)
        try makePrivateDirectory(target)
        guard rename(partPath(requestId, name), "\(target)/\(name)") == 0 else {
            throw EnclaveError.internal("Could not move the upload of '\(name)' into the draft: \(String(cString: strerror(errno)))")
        }
    }

    /// Deletes a draft's file (and any part of it still arriving).
    public func removeDraftFile(requestId: String, name: String) {
        try? FileManager.default.removeItem(atPath: path(.draft, requestId, name))
        try? FileManager.default.removeItem(atPath: partPath(requestId, name))
    }

    /// Moves a request's files from one stage to the next (a rename of its directory). Idempotent: when the
    /// files are already in `to` (a crash after the move), nothing happens.
    public func move(requestId: String, from: AirlockStage, to: AirlockStage) throws {
        let source = directory(from, requestId), target = directory(to, requestId)
        let fm = FileManager.default
        if !fm.fileExists(atPath: source) {
            if fm.fileExists(atPath: target) { return }
            try makePrivateDirectory(target)
            return
        }
        try makePrivateDirectory("\(root)/\(to.rawValue)")
        if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
        guard rename(source, target) == 0 else {
            throw EnclaveError.internal("Could not move request \(requestId) from \(from.rawValue) to \(to.rawValue): \(String(cString: strerror(errno)))")
        }
    }

    /// What a deletion removed: recorded in the audit log as proof of deletion.
    public struct Deletion: Sendable, Hashable {
        public var files: [String]
        public var bytes: Int
    }

    /// Deletes every byte of a request in every stage and in `uploads/`.
    public func deleteData(requestId: String) -> Deletion {
        var files: [String] = []
        var bytes = 0
        let fm = FileManager.default
        for folder in AirlockStage.allCases.map({ directory($0, requestId) }) + [uploadDirectory(requestId)] {
            guard let names = try? fm.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() {
                bytes += fileSize("\(folder)/\(name)") ?? 0
                files.append(name)
            }
            try? fm.removeItem(atPath: folder)
        }
        return Deletion(files: files, bytes: bytes)
    }

    /// The names of the complete files a request has in a stage.
    public func files(requestId: String, stage: AirlockStage) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory(stage, requestId))) ?? []).sorted()
    }

    /// Uploads still in progress for a request: name and bytes stored.
    public func partialUploads(requestId: String) -> [(name: String, received: Int)] {
        let folder = uploadDirectory(requestId)
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map {
            (name: $0, received: fileSize("\(folder)/\($0)") ?? 0)
        }
    }

    static func describe(_ bytes: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .binary)
    }
}

/// Uploads in flight, so two `PUT`s of the same file cannot interleave their bytes.
actor UploadRegistry {
    var active: Set<String> = []

    func begin(_ requestId: String, _ name: String) -> Bool {
        active.insert("\(requestId)/\(name)").inserted
    }

    func end(_ requestId: String, _ name: String) {
        active.remove("\(requestId)/\(name)")
    }
}
