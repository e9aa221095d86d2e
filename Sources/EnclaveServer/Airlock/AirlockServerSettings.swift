public import EnclaveAirlock

/// What `enclave serve` is told about the airlock.
public struct AirlockServerSettings: Sendable {
    public var limits: AirlockLimits
    public var processing: AirlockSettings
    public var scanner: AirlockScannerChoice

    public init(limits: AirlockLimits = .init(), processing: AirlockSettings = .init(), scanner: AirlockScannerChoice = .none) {
        self.limits = limits
        self.processing = processing
        self.scanner = scanner
    }
}

/// Which malware scanner the airlock uses.
public enum AirlockScannerChoice: Sendable, Hashable {
    /// No scanning: the operator's explicit choice; every file is recorded as "not scanned".
    case none

    func build() throws -> any MalwareScanner {
        switch self {
        case .none: NoMalwareScanner()
        }
    }
}
