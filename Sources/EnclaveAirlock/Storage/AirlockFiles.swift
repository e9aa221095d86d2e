import NIOFileSystem
import NIOPosix

/// The file system the airlock reads and writes through, on threads of its own.
///
/// `FileSystem.shared` runs its blocking calls (open, write, fsync) on NIO's process-wide blocking pool,
/// one thread per core, which everything else's blocking work also queues on. An upload's writes and its
/// `fsync` then waited behind unrelated work: in a loaded full test run uploads got no answer for over a
/// minute. The airlock's own pool keeps a researcher's upload independent of the rest of the server.
enum AirlockFiles {
    static let fileSystem: FileSystem = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return FileSystem(threadPool: pool)
    }()
}
