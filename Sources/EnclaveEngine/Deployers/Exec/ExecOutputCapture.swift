// Bounded handling of a step's stdout/stderr: a fixed-size tail for failure messages and a line
// splitter that finds `ENCLAVE_PROGRESS` lines, so a chatty step never grows memory.
import Synchronization

/// The last `limit` bytes written to a stream.
struct ByteTail: Sendable {
    let limit: Int
    private(set) var storage: [UInt8] = []

    init(limit: Int) {
        self.limit = limit
        storage.reserveCapacity(limit * 2)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count >= limit {
            storage = Array(bytes.suffix(limit))
            return
        }
        storage.append(contentsOf: bytes)
        // Trim in batches so appending stays amortised O(1) per byte.
        if storage.count > limit * 2 {
            storage.removeFirst(storage.count - limit)
        }
    }

    /// The tail as text: at most `limit` bytes, not starting in the middle of a UTF-8 sequence.
    var text: String {
        var bytes = storage.suffix(limit)
        while let first = bytes.first, first & 0b1100_0000 == 0b1000_0000 {
            bytes = bytes.dropFirst()
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Splits a byte stream into lines without holding more than `maxLineLength` bytes; longer lines
/// are skipped (they cannot be progress lines worth showing).
struct LineSplitter: Sendable {
    let maxLineLength: Int
    private var current: [UInt8] = []
    private var overlong = false

    init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    /// Feeds bytes and returns the complete lines they finish, without their terminators.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if !overlong { lines.append(Self.decode(current)) }
                current.removeAll(keepingCapacity: true)
                overlong = false
            } else if !overlong {
                if current.count >= maxLineLength {
                    overlong = true
                    current.removeAll(keepingCapacity: true)
                } else {
                    current.append(byte)
                }
            }
        }
        return lines
    }

    /// The unterminated last line, if any, once the stream has ended.
    mutating func finish() -> String? {
        defer {
            current.removeAll()
            overlong = false
        }
        guard !overlong, !current.isEmpty else { return nil }
        return Self.decode(current)
    }

    private static func decode(_ bytes: [UInt8]) -> String {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}

/// What a running step wrote, shared between the tasks draining its pipes and the code that
/// builds the result (which may run after those tasks were cancelled).
final class StepOutputCapture: Sendable {
    private struct State {
        var standardOutput: ByteTail
        var standardError: ByteTail
        var processGroup: Int32?
    }

    private let state: Mutex<State>

    init(tailLimit: Int) {
        state = Mutex(State(standardOutput: ByteTail(limit: tailLimit), standardError: ByteTail(limit: tailLimit)))
    }

    func appendOutput(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { $0.standardOutput.append(bytes) }
    }

    func appendError(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { $0.standardError.append(bytes) }
    }

    /// Remembers the child's pid, which is also its process group id (it leads a new session).
    func recordProcessGroup(_ pid: Int32) {
        state.withLock { $0.processGroup = pid }
    }

    var processGroup: Int32? {
        state.withLock { $0.processGroup }
    }

    /// The stderr tail, or the stdout tail when the step wrote nothing to stderr; whitespace-trimmed.
    var diagnosticTail: String {
        state.withLock { state in
            let error = trimmed(state.standardError.text)
            return error.isEmpty ? trimmed(state.standardOutput.text) : error
        }
    }
}

private func trimmed(_ text: String) -> String {
    var slice = Substring(text)
    while let first = slice.first, first.isWhitespace { slice.removeFirst() }
    while let last = slice.last, last.isWhitespace { slice.removeLast() }
    return String(slice)
}
