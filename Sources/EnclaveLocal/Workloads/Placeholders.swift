import Foundation

/// `{{ name }}` placeholders of `workload:` steps.
enum Placeholders {
    /// Replaces every `{{ name }}` (spaces inside the braces optional) by its value; an unknown name fails.
    static func substitute(_ text: String, _ values: [String: String]) -> Result<String, SandboxError> {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                return .failure(SandboxError(message: "'\(text)' has '{{' without '}}'"))
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let value = values[name] else {
                return .failure(SandboxError(message: "'\(text)' uses '{{ \(name) }}', which is not a known placeholder or string parameter"))
            }
            result += value
            rest = rest[close.upperBound...]
        }
        return .success(result + rest)
    }
}
