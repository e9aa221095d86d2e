/// Numbered host resources handed out to owners (workspace links, uids), kept in the store.
///
/// The data plane allocates a slot per workspace (its /30 in the address pool, its uid) here
/// instead of probing the host, so allocations survive restarts and two workers — in this process
/// or in `enclave worker` processes sharing the database — never hand out the same slot: each
/// allocation is one write transaction, and `(kind, slot)` and `(kind, owner)` are unique.
public protocol HostAllocationRepository: Sendable {
    /// The owner's slot of `kind`, allocating the lowest free slot below `capacity` when it has none.
    ///
    /// - Throws: `EnclaveError.serviceUnavailable` when every slot is taken.
    func allocateSlot(kind: String, owner: String, capacity: Int, now: Double) async throws -> Int
    /// The owner's slot of `kind`, or nil.
    func slot(kind: String, owner: String) async throws -> Int?
    /// Frees the owner's slot of `kind` (no error when it has none).
    func releaseSlot(kind: String, owner: String) async throws
    /// Every (owner, slot) of `kind`, by slot.
    func slots(kind: String) async throws -> [(owner: String, slot: Int)]
}
