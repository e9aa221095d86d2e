import EnclaveCore
import Foundation
import Testing

@Suite("Audit chain")
struct AuditChainTests {
    static func entry(_ n: Int) -> AuditEntry {
        AuditEntry(
            id: "entry-\(n)", time: 1_700_000_000.25 + Double(n), actor: AuditActor(id: "user-\(n % 2)", name: "User \(n % 2)"),
            action: n % 3 == 0 ? .roleAssign : .resourceCreate, target: "/workspaces/ws-\(n)",
            details: ["templateName": "tre-workspace-base", "n": .int(n)], requestId: n == 2 ? nil : "req-\(n)")
    }

    /// Five records chained as the store chains them.
    static func chain(_ count: Int = 5) -> [AuditRecord] {
        var records: [AuditRecord] = []
        for n in 1...count {
            records.append(AuditRecord(entry(n), sequence: n, previousHash: records.last?.hash ?? AuditChain.genesisHash))
        }
        return records
    }

    enum Tampering: String, CaseIterable, CustomTestStringConvertible {
        case none, editedTarget, editedDetails, editedActor, editedHash, removedRecord, removedAndRenumbered, reordered
        case removedFirst, rehashedWithoutRelinking
        var testDescription: String { rawValue }

        func apply(to records: inout [AuditRecord]) {
            switch self {
            case .none: break
            case .editedTarget: records[2].target = "/workspaces/elsewhere"
            case .editedDetails: records[2].details = ["templateName": "tre-workspace-unrestricted", "n": 3]
            case .editedActor: records[2].actor = AuditActor(id: "mallory", name: "Mallory")
            case .editedHash: records[2].hash = String(repeating: "a", count: 64)
            case .removedRecord: records.remove(at: 2)
            case .removedAndRenumbered:
                records.remove(at: 2)
                for i in 2..<records.count { records[i].sequence -= 1 }
            case .reordered: records.swapAt(2, 3)
            case .removedFirst: records.removeFirst()
            case .rehashedWithoutRelinking:
                // An attacker edits a record and recomputes its hash, but leaves the next record pointing at the old one.
                records[2].target = "/workspaces/elsewhere"
                records[2].hash = records[2].computedHash
            }
        }

        /// The verdict: nil for intact, else the first broken sequence number and the kind of break.
        var expected: (sequence: Int, kind: String)? {
            switch self {
            case .none: nil
            case .editedTarget, .editedDetails, .editedActor, .editedHash: (3, "hash")
            case .removedRecord: (4, "gap")
            case .removedAndRenumbered: (3, "previous")
            case .reordered: (4, "gap")
            case .removedFirst: (2, "gap")
            case .rehashedWithoutRelinking: (4, "previous")
            }
        }
    }

    @Test("verification finds the first broken link, or reports the chain intact", arguments: Tampering.allCases)
    func verification(tampering: Tampering) {
        var records = Self.chain()
        tampering.apply(to: &records)
        let result = AuditChain.verify(records)
        switch (result, tampering.expected) {
        case (.intact(let count, let lastHash), nil):
            #expect(count == 5)
            #expect(lastHash == records.last?.hash)
        case (.broken(let broken), let expected?):
            #expect(broken.sequence == expected.sequence, "\(broken)")
            switch broken.reason {
            case .hashMismatch: #expect(expected.kind == "hash", "\(broken)")
            case .previousHashMismatch: #expect(expected.kind == "previous", "\(broken)")
            case .sequenceGap: #expect(expected.kind == "gap", "\(broken)")
            }
        default:
            Issue.record("\(tampering): got \(result)")
        }
    }

    @Test("an empty chain is intact and ends at the genesis hash")
    func emptyChain() {
        #expect(AuditChain.verify([]) == .intact(count: 0, lastHash: AuditChain.genesisHash))
        #expect(AuditChain.genesisHash == String(repeating: "0", count: 64))
    }

    @Test("the hash is SHA-256 hex of the canonical text, which covers every field but the hash")
    func canonicalText() {
        let record = AuditRecord(
            AuditEntry(
                id: "e1", time: 1.5, actor: .system, action: .templateRegister, target: "/workspace-templates/t",
                details: ["version": "1.0.0"]),
            sequence: 1, previousHash: AuditChain.genesisHash)
        #expect(
            record.canonicalText
                == #"{"action":"template.register","actor":{"id":"system:enclave","name":"Enclave"},"details":{"version":"1.0.0"},"id":"e1","outcome":"success","previousHash":"0000000000000000000000000000000000000000000000000000000000000000","requestId":null,"sequence":1,"target":"/workspace-templates/t","time":1.5}"#)
        #expect(record.hash.count == 64)
        #expect(record.hash.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(record.hash == record.computedHash)
        var other = record
        other.outcome = .failed
        #expect(other.computedHash != record.hash)
    }

    @Test("the digest is standard SHA-256 in lower-case hex, so an external verifier can recompute it")
    func knownDigest() {
        // FIPS 180-2's example.
        #expect(AuditChain.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("records survive a JSON round trip with their chain intact")
    func codableRoundTrip() throws {
        let records = Self.chain(3)
        let data = try JSONEncoder().encode(records)
        let decoded = try JSONDecoder().decode([AuditRecord].self, from: data)
        #expect(decoded == records)
        #expect(AuditChain.verify(decoded) == .intact(count: 3, lastHash: records[2].hash))
    }
}
