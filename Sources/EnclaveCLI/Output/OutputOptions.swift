public import ArgumentParser

/// How results are printed.
public enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// An aligned table of the key fields, for people.
    case table
    /// The API's JSON, pretty-printed with sorted keys, for scripts (`jq`).
    case json
}

/// `--output/-o table|json`, taken by every client command that prints results.
public struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output format: table or json.")
    public var output: OutputFormat = .table

    public init() {}
}
