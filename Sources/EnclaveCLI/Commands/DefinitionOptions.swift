public import ArgumentParser
import EnclaveCore
public import Foundation

/// `--definition JSON | --definition-file FILE`: a request body, as Azure TRE's `tre` takes it.
public struct DefinitionOptions: ParsableArguments {
    @Option(help: "The request body as JSON, e.g. '{\"templateName\": \"tre-workspace-base\", \"properties\": {…}}'.")
    public var definition: String?

    @Option(help: "A file holding the request body as JSON ('-' for standard input).")
    public var definitionFile: String?

    public init() {}

    public func validate() throws {
        if definition != nil && definitionFile != nil {
            throw ValidationError("Pass either --definition or --definition-file, not both")
        }
        if definition == nil && definitionFile == nil {
            throw ValidationError("A definition is required: pass --definition JSON or --definition-file FILE")
        }
    }

    /// The body bytes, checked to be a JSON object so typos fail here rather than as a 422.
    public func body(_ environment: CLIEnvironment) throws(CLIError) -> Data {
        let data: Data
        if let definition {
            data = Data(definition.utf8)
        } else if let definitionFile {
            if definitionFile == "-" {
                var lines: [String] = []
                while let line = environment.readLine() { lines.append(line) }
                data = Data(lines.joined(separator: "\n").utf8)
            } else {
                do { data = try Data(contentsOf: URL(fileURLWithPath: definitionFile)) } catch {
                    throw CLIError("Cannot read \(definitionFile): \(error.localizedDescription)")
                }
            }
        } else {
            throw CLIError("A definition is required: pass --definition JSON or --definition-file FILE")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw CLIError("The definition is not valid JSON: \(error)")
        }
        guard case .object = value else { throw CLIError("The definition must be a JSON object") }
        return data
    }
}
