/// An RFC 8628 device authorization: a CLI without a browser shows the user a short code, the user
/// signs in on any browser and enters it, and the CLI polls the token endpoint until then.
public struct DeviceGrant: Sendable, Hashable {
    /// How long the user has to enter the code.
    public static let lifetime: Double = 600
    /// Seconds between polls the client must keep to (RFC 8628 §3.5); polling faster answers `slow_down`
    /// and adds 5 s.
    public static let defaultInterval: Double = 5

    public var clientId: String
    public var userCode: String
    public var createdAt: Double
    public var interval: Double = DeviceGrant.defaultInterval
    public var lastPollAt: Double?
    /// Set when the user signed in and approved the code.
    public var approval: Approval?
    public var denied = false
    public var redeemed = false

    public struct Approval: Sendable, Hashable {
        public var userId: String
        public var amr: [String]

        public init(userId: String, amr: [String]) {
            self.userId = userId
            self.amr = amr
        }
    }

    public init(clientId: String, userCode: String, createdAt: Double) {
        self.clientId = clientId
        self.userCode = userCode
        self.createdAt = createdAt
    }

    /// What one poll of the token endpoint gets: the RFC 8628 §3.5 error codes, or the approval.
    public enum PollResult: Sendable, Hashable {
        case pending, slowDown, expired, denied
        case clientMismatch
        case approved(Approval)

        /// The `error` of the token endpoint's 400 answer (nil when approved).
        public var errorCode: String? {
            switch self {
            case .pending: "authorization_pending"
            case .slowDown: "slow_down"
            case .expired: "expired_token"
            case .denied: "access_denied"
            case .clientMismatch: "invalid_grant"
            case .approved: nil
            }
        }
    }

    public func isExpired(now: Double) -> Bool { now >= createdAt + Self.lifetime }

    /// Records a poll and says what it gets. An approval is handed out once; later polls are `expired`.
    public func poll(clientId: String, now: Double) -> (grant: DeviceGrant, result: PollResult) {
        var next = self
        guard ConstantTime.equals(clientId, self.clientId) else { return (next, .clientMismatch) }
        if redeemed || isExpired(now: now) { return (next, .expired) }
        if denied { return (next, .denied) }
        if let last = lastPollAt, now - last < interval {
            next.interval += 5
            next.lastPollAt = now
            return (next, .slowDown)
        }
        next.lastPollAt = now
        if let approval {
            next.redeemed = true
            return (next, .approved(approval))
        }
        return (next, .pending)
    }

    /// Eight letters as `BCDF-GHJK`, from consonants only (no vowels: no words; RFC 8628 §6.1), 20^8 ≈ 2^34.6
    /// combinations, guessed only through the rate-limited sign-in pages and within 10 minutes.
    public static let userCodeAlphabet = Array("BCDFGHJKLMNPQRSTVWXZ")

    public static func makeUserCode(using generator: inout some RandomNumberGenerator) -> String {
        let letters = (0..<8).map { _ in userCodeAlphabet[Int(generator.next(upperBound: UInt32(userCodeAlphabet.count)))] }
        return String(letters[0..<4]) + "-" + String(letters[4..<8])
    }

    /// A user code as typed (any case, with or without the dash or spaces) in canonical form, or nil.
    public static func normalize(userCode: String) -> String? {
        let letters = userCode.uppercased().filter { $0 != "-" && !$0.isWhitespace }
        guard letters.count == 8, letters.allSatisfy(userCodeAlphabet.contains) else { return nil }
        return String(letters.prefix(4)) + "-" + String(letters.suffix(4))
    }
}
