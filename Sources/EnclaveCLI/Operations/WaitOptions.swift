public import ArgumentParser

/// Options of every mutation: whether and how to wait for the operation it starts.
public struct WaitOptions: ParsableArguments {
    @Flag(help: "Print the accepted operation and return without waiting for it to finish.")
    public var noWait = false

    @Option(help: "Seconds between polls of the operation.")
    public var pollInterval: Double = 1

    @Option(help: "Give up waiting after this many seconds (the operation carries on; 0: wait for ever).")
    public var timeout: Double = 0

    public init() {}

    /// The options as the values `Mutation` acts on.
    public var policy: WaitPolicy {
        WaitPolicy(noWait: noWait, pollInterval: .seconds(pollInterval), timeout: timeout > 0 ? .seconds(timeout) : nil)
    }

    public func validate() throws {
        guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
        guard timeout >= 0 else { throw ValidationError("--timeout must not be negative") }
    }
}

/// Whether and how a mutation waits for its operation.
public struct WaitPolicy: Sendable, Equatable {
    public var noWait: Bool
    public var pollInterval: Duration
    /// nil waits for ever.
    public var timeout: Duration?

    public init(noWait: Bool = false, pollInterval: Duration = .seconds(1), timeout: Duration? = nil) {
        self.noWait = noWait
        self.pollInterval = pollInterval
        self.timeout = timeout
    }
}
