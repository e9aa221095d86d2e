public import Foundation
import Yams

/// The API contract, `openapi.yaml`, shipped in this module and served as JSON at `/api/openapi.json`.
public enum OpenAPIDocument {
    /// The YAML text as written.
    public static func yaml() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The document converted to JSON, once per process: parsing the YAML is the dearest part of building
    /// a router (seconds of CPU in a debug build), and the document never changes while Enclave runs.
    public static func json() throws -> Data { try converted.get() }

    private static let converted = Result<Data, any Error> {
        let object = try Yams.load(yaml: yaml()) ?? [:]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
