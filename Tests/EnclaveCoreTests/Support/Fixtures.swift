import Foundation
import Testing

@testable import EnclaveCore

/// Locates Azure TRE's fixtures (`<repo>/../shared/fixtures/azure-tre`) and reads JSON from them.
///
/// Order: `$ENCLAVE_FIXTURES`, then relative to this file's path as compiled, then relative to the
/// same path with symlinks resolved (the file may be compiled through a symlinked package).
enum Fixtures {
    static let root: URL? = {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["ENCLAVE_FIXTURES"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        let file = URL(fileURLWithPath: #filePath)
        for source in [file, file.resolvingSymlinksInPath()] {
            // Support/ → EnclaveCoreTests/ → Tests/ → <repo>
            let repo = source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            candidates.append(repo.appendingPathComponent("../shared/fixtures/azure-tre").standardizedFileURL)
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("templates").path) }
    }()

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Fixture tests run when the fixtures exist, and in CI always (so missing fixtures fail there).
    static var shouldRun: Bool { root != nil || isCI }

    static let skipReason: Comment = "Azure TRE fixtures not found (set ENCLAVE_FIXTURES); skipped outside CI"

    /// Every `template_schema.json` under `templates/`, as paths relative to the fixtures root, sorted.
    static let templateSchemaPaths: [String] = {
        guard let root, let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var paths: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasPrefix("templates/"), path.hasSuffix("/template_schema.json") { paths.append(path) }
        }
        return paths.sorted()
    }()

    static func json(_ relativePath: String) throws -> JSONValue {
        let root = try #require(root, "Azure TRE fixtures not found")
        let data = try Data(contentsOf: root.appendingPathComponent(relativePath))
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }
}
