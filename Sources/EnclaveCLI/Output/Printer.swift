public import EnclaveAPI
public import EnclaveCore
public import Foundation

/// Prints API results in the chosen format on the environment's standard output.
public struct Printer: Sendable {
    public var environment: CLIEnvironment
    public var format: OutputFormat

    public init(environment: CLIEnvironment, format: OutputFormat) {
        self.environment = environment
        self.format = format
    }

    /// JSON as the API sent it, pretty-printed with sorted keys (numbers keep their int/float form).
    public static func prettyJSON(_ data: Data) throws(EnclaveClientError) -> String {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw EnclaveClientError.invalidResponse(url: "", reason: "the body is not JSON: \(error)")
        }
        return prettyJSON(value)
    }

    /// A value as pretty, key-sorted JSON.
    public static func prettyJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Prints the response body as JSON, or the table built from it.
    public func print(_ response: EnclaveClient.Response, table: () throws(EnclaveClientError) -> Table)
        throws(EnclaveClientError)
    {
        switch format {
        case .json:
            do { environment.print(try Self.prettyJSON(response.body)) } catch {
                throw EnclaveClientError.invalidResponse(url: response.url, reason: "the body is not JSON")
            }
        case .table: environment.print(try table().render())
        }
    }

    /// Prints an operation as `{"operation": …}` JSON, or as a one-row table.
    public func print(_ operation: ResourceOperation) {
        switch format {
        case .json: environment.print(Self.prettyJSON(["operation": operation]))
        case .table: environment.print(Tables.operations([operation]).render())
        }
    }
}
