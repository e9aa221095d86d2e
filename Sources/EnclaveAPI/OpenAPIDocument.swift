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

    /// The document converted to JSON.
    public static func json() throws -> Data {
        let object = try Yams.load(yaml: yaml()) ?? [:]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
