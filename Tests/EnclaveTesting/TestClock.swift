public import EnclaveEngine
import Foundation
import Synchronization

/// A clock tests move by hand: hand `environment` to `TestEnclave.make` and expiry becomes a line of test.
public final class TestClock: Sendable {
    private let time: Mutex<Double>

    public init(_ start: Double = Date().timeIntervalSince1970) {
        time = Mutex(start)
    }

    public var now: Double { time.withLock { $0 } }

    public func advance(by seconds: Double) {
        time.withLock { $0 += seconds }
    }

    /// The live environment with this clock's time.
    public var environment: EngineEnvironment {
        EngineEnvironment(now: { self.now }, newId: EngineEnvironment.live.newId)
    }
}
