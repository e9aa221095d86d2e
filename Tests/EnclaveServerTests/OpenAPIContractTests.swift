// Keeps `openapi.yaml` honest: it must be a valid OpenAPI 3.1 document and describe exactly the
// routes the router serves (the portal's HTML pages aside).
import EnclaveAPI
import EnclaveServer
import EnclaveTesting
import Foundation
import Hummingbird
import Logging
import Testing

@Suite("OpenAPI contract")
struct OpenAPIContractTests {
    /// A route as "METHOD /path/{}", with parameter names dropped so `{workspaceId}` and `:id` compare equal. The
    /// gateway's recursive wildcard (`**`) is documented as one path parameter spanning segments.
    static func route(_ method: String, _ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { segment in
            segment.hasPrefix(":") || segment == "**" || (segment.hasPrefix("{") && segment.hasSuffix("}")) ? "{}" : String(segment)
        }
        return "\(method.uppercased()) /\(segments.joined(separator: "/"))"
    }

    static func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: try OpenAPIDocument.json())
        return try #require(object as? [String: Any], "the OpenAPI document is not a JSON object")
    }

    static func documentedRoutes() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: Any], "the document has no paths object")
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var routes: Set<String> = []
        for (path, item) in paths {
            let operations = try #require(item as? [String: Any], "path item \(path) is not an object")
            for method in operations.keys where methods.contains(method) {
                routes.insert(route(method, path))
            }
        }
        return routes
    }

    static func servedRoutes() async throws -> Set<String> {
        let dir = try TestPaths.temporaryDirectory("enclave-openapi")
        defer { try? FileManager.default.removeItem(at: dir) }
        var logger = Logger(label: "enclave.test")
        logger.logLevel = .critical
        let deps = try await buildDependencies(
            ServerConfiguration(dataDir: dir.path, port: 0, workers: 0, templatesDir: TestPaths.templates), logger: logger)
        let router = try buildRouter(deps, includePortal: false)
        return Set(router.routes.map { route($0.method.rawValue, $0.path.description) })
    }

    @Test func documentIsAnOpenAPI31DocumentWithInfoAndPaths() throws {
        let document = try Self.document()
        let version = try #require(document["openapi"] as? String)
        #expect(version.hasPrefix("3.1."))
        let info = try #require(document["info"] as? [String: Any])
        #expect(info["title"] is String)
        #expect(info["version"] is String)
        #expect((document["paths"] as? [String: Any])?.isEmpty == false)
    }

    @Test func documentDescribesExactlyTheRoutesTheRouterServes() async throws {
        let documented = try Self.documentedRoutes()
        let served = try await Self.servedRoutes()
        #expect(served.count > 10, "the router enumerated suspiciously few routes: \(served.sorted())")
        let undocumented = served.subtracting(documented).sorted()
        let unserved = documented.subtracting(served).sorted()
        #expect(
            undocumented.isEmpty,
            "served but missing from openapi.yaml:\n\(undocumented.joined(separator: "\n"))")
        #expect(
            unserved.isEmpty,
            "in openapi.yaml but not served by the router:\n\(unserved.joined(separator: "\n"))")
    }

    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let validatorInstalled = (try? run(["python3", "-c", "import openapi_spec_validator"]).status) == 0

    /// Runs a command found on PATH, returning its exit status and combined output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Blocking.runProcessSync("/usr/bin/env", arguments)
    }

    // In CI the validator is required: the test runs, and fails if it is missing.
    @Test(.enabled(if: validatorInstalled || isCI, "openapi-spec-validator is not installed (pip install openapi-spec-validator)"))
    func documentPassesOpenAPISpecValidator() async throws {
        let dir = try TestPaths.temporaryDirectory("enclave-openapi")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("openapi.json")
        try OpenAPIDocument.json().write(to: file)
        let result = try await Blocking.run { try Self.run(["python3", "-m", "openapi_spec_validator", file.path]) }
        #expect(result.status == 0, "openapi-spec-validator rejected the document:\n\(result.output)")
    }
}
