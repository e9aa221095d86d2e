public import EnclaveCore

/// The live progress line a waiting mutation shows on standard error: status, current step, elapsed.
///
/// On a terminal the line is redrawn in place (`\r`, clear to end of line) at every poll so the
/// seconds tick; otherwise (logs, CI) a line is written only when the status or step changes, so the
/// output stays readable when captured.
public struct ProgressLine: Sendable {
    public var isTerminal: Bool
    public var write: @Sendable (String) -> Void
    private var lastKey: String?
    private var drawn = false

    public init(isTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// The text of the line: `deploying · step 1/2: Main step for … · 12s`.
    public static func text(for operation: ResourceOperation, elapsedSeconds: Int) -> String {
        var parts = [operation.status.rawValue]
        if let step = operation.currentStep, let number = operation.currentStepNumber {
            parts.append(operation.steps.count > 1 ? "step \(number)/\(operation.steps.count): \(step.stepTitle)" : step.stepTitle)
        }
        parts.append("\(elapsedSeconds)s")
        return parts.joined(separator: " · ")
    }

    /// Shows the operation's state after `elapsedSeconds`.
    public mutating func update(_ operation: ResourceOperation, elapsedSeconds: Int) {
        let line = Self.text(for: operation, elapsedSeconds: elapsedSeconds)
        if isTerminal {
            write("\r\u{1B}[2K" + line)
            drawn = true
        } else {
            let key = "\(operation.status.rawValue)|\(operation.currentStep?.id ?? "")|\(operation.currentStep?.status.rawValue ?? "")"
            guard key != lastKey else { return }
            lastKey = key
            write(line + "\n")
        }
    }

    /// Ends a line redrawn in place so what follows starts on a new line.
    public mutating func finish() {
        if isTerminal && drawn { write("\n") }
        drawn = false
    }
}
