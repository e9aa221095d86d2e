import Crypto

/// Verification of the audit chain: pure, so the CLI, the API and tests share one definition of "intact".
public enum AuditChain {
    /// The previous hash of the first record.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// SHA-256 of the text's UTF-8 bytes, lower-case hex: the digest every record hash uses.
    public static func sha256Hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        let digest = SHA256.hash(data: Array(text.utf8))
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Checks records in the order given, which must be the whole chain from sequence 1.
    public static func verify(_ records: some Sequence<AuditRecord>) -> AuditVerification {
        var verifier = Verifier()
        for record in records {
            if let broken = verifier.check(record) { return .broken(broken) }
        }
        return .intact(count: verifier.count, lastHash: verifier.lastHash)
    }

    /// Incremental verification, for reading a long chain page by page without holding all of it.
    public struct Verifier: Sendable {
        public private(set) var count = 0
        public private(set) var lastHash = AuditChain.genesisHash
        var expectedSequence = 1

        public init() {}

        /// The first problem with `record` as the next link, or nil (and the link is accepted).
        public mutating func check(_ record: AuditRecord) -> AuditBreak? {
            if record.sequence != expectedSequence {
                return AuditBreak(sequence: record.sequence, reason: .sequenceGap(expected: expectedSequence))
            }
            if record.previousHash != lastHash {
                return AuditBreak(sequence: record.sequence, reason: .previousHashMismatch(expected: lastHash, found: record.previousHash))
            }
            let computed = record.computedHash
            if computed != record.hash {
                return AuditBreak(sequence: record.sequence, reason: .hashMismatch(computed: computed, stored: record.hash))
            }
            count += 1
            expectedSequence += 1
            lastHash = record.hash
            return nil
        }
    }
}

/// The result of verifying a chain.
public enum AuditVerification: Sendable, Hashable {
    /// Every link holds; `lastHash` is what an operator ships off-host to detect a later rewrite.
    case intact(count: Int, lastHash: String)
    case broken(AuditBreak)
}

/// The first broken link: where, and why.
public struct AuditBreak: Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The record's fields do not hash to its stored hash: the record (or its hash) was edited.
        case hashMismatch(computed: String, stored: String)
        /// The record does not point at the record before it: a record was removed, inserted or rewritten before it.
        case previousHashMismatch(expected: String, found: String)
        /// Sequence numbers do not run 1, 2, 3, …: a record is missing or out of order.
        case sequenceGap(expected: Int)
    }

    public var sequence: Int
    public var reason: Reason

    public init(sequence: Int, reason: Reason) {
        self.sequence = sequence
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .hashMismatch(let computed, let stored):
            "its fields hash to \(computed) but it stores \(stored) (the record was altered)"
        case .previousHashMismatch(let expected, let found):
            "it names \(found) as the previous hash but the record before it hashes to \(expected) (a record before it was removed, inserted or rewritten)"
        case .sequenceGap(let expected):
            "expected record #\(expected) here (a record is missing or out of order)"
        }
    }
}
