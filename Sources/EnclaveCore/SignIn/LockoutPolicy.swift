/// When failed sign-ins lock an account, and for how long.
///
/// Each failure (wrong password, wrong TOTP, wrong recovery code) counts; `maxFailures` in a row lock
/// the account for `lockout` seconds, during which even the right password is refused (with the same
/// message as a wrong one, so the lock does not confirm a guess). A success resets the count. The lock
/// expires by itself, so an attacker can lock a user out only for as long as they keep trying.
public struct LockoutPolicy: Sendable, Hashable {
    public var maxFailures: Int
    /// Seconds.
    public var lockout: Double

    public init(maxFailures: Int = 5, lockout: Double = 15 * 60) {
        self.maxFailures = maxFailures
        self.lockout = lockout
    }

    /// An account's failure count and lock.
    public struct State: Sendable, Hashable, Codable {
        public var failedAttempts: Int
        /// Seconds since 1970; nil when not locked.
        public var lockedUntil: Double?

        public init(failedAttempts: Int = 0, lockedUntil: Double? = nil) {
            self.failedAttempts = failedAttempts
            self.lockedUntil = lockedUntil
        }
    }

    public func isLocked(_ state: State, now: Double) -> Bool {
        if let until = state.lockedUntil { return now < until }
        return false
    }

    /// The state after a failed attempt, and whether this failure is the one that locked the account
    /// (so it is audited once).
    public func afterFailure(_ state: State, now: Double) -> (state: State, lockedNow: Bool) {
        if isLocked(state, now: now) { return (state, false) }
        let failures = (state.lockedUntil == nil ? state.failedAttempts : 0) + 1
        if failures >= maxFailures {
            return (State(failedAttempts: 0, lockedUntil: now + lockout), true)
        }
        return (State(failedAttempts: failures, lockedUntil: nil), false)
    }

    /// The state after a successful sign-in.
    public func afterSuccess(_ state: State) -> State { State() }
}

/// A fixed-window counter: at most `limit` events per `window` seconds for one key (a client address).
///
/// Pure: the caller keeps the states (an actor in the provider), so the rule is tested without clocks.
public struct RateLimit: Sendable, Hashable {
    public var limit: Int
    public var window: Double

    public init(limit: Int, window: Double) {
        self.limit = limit
        self.window = window
    }

    public struct State: Sendable, Hashable {
        public var windowStart: Double
        public var count: Int
        public init(windowStart: Double, count: Int) {
            self.windowStart = windowStart
            self.count = count
        }
    }

    /// Counts one event: the new state and whether the event is allowed.
    public func record(_ state: State?, now: Double) -> (state: State, allowed: Bool) {
        guard let state, now - state.windowStart < window else { return (State(windowStart: now, count: 1), true) }
        let next = State(windowStart: state.windowStart, count: state.count + 1)
        return (next, next.count <= limit)
    }
}
