import Synchronization

/// A doorbell that wakes idle workers as soon as work is enqueued in this process.
///
/// Workers in other processes cannot hear it and fall back to polling, so it is an optimisation only:
/// nothing depends on a ring arriving.
public final class WorkSignal: Sendable {
    private struct State {
        var nextId: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Rings that found nobody waiting; the next waiter returns at once so no enqueue is missed.
        var pending = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes one waiting worker for each ring (or the next one to wait, if none is waiting).
    ///
    /// One ring announces one enqueued step, so waking every idle worker would send all but one of
    /// them into an empty claim transaction (measured: 3.6 claims per operation with 8 workers).
    public func ring() {
        let woken = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let id = state.waiters.keys.min() else {
                state.pending = true
                return nil
            }
            return state.waiters.removeValue(forKey: id)
        }
        woken?.resume()
    }

    /// Wakes every waiting worker: for shutdown, when all of them must notice at once.
    public func ringAll() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let list = Array(state.waiters.values)
            state.waiters.removeAll()
            state.pending = true
            return list
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits for a ring or the timeout, whichever comes first.
    public func wait(timeout: Duration) async {
        let id = state.withLock { state -> UInt64? in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextId += 1
            return state.nextId
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
            let mine = state.withLock { $0.waiters.removeValue(forKey: id) }
            mine?.resume()
            await group.waitForAll()
        }
    }
}
