// Finds the template folders under a templates root and loads their bundle.yaml and template_schema.json.
public import EnclaveCore
import Foundation

/// One loaded template folder: its manifest, where it lives, and its schema for registration.
public struct TemplateBundle: Sendable, Hashable {
    public var manifest: BundleManifest
    /// Absolute path of the template folder; steps run with it as working directory.
    public var directory: String
    /// The bytes of `template_schema.json` exactly as on disk, for a server that registers them verbatim.
    public var schemaData: Data
    /// The same schema parsed; always a JSON object.
    public var schema: JSONValue

    public init(manifest: BundleManifest, directory: String, schemaData: Data, schema: JSONValue) {
        self.manifest = manifest
        self.directory = directory
        self.schemaData = schemaData
        self.schema = schema
    }

    public var name: String { manifest.name }
    public var version: String { manifest.version }
    public var type: ResourceType { manifest.type }
}

/// Why one template folder could not be loaded. Reported (health, logs), never fatal.
public struct BundleLoadProblem: Sendable, Hashable, CustomStringConvertible {
    /// The template folder (or file) concerned.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// The template bundles found under a templates directory, keyed by name and version.
///
/// Loading never throws: a broken bundle is left out and described in `problems`, so one bad
/// template cannot stop the server from starting. It is a value, built once at start-up (or on
/// reload) and shared freely between workers.
public struct BundleCatalog: Sendable {
    /// The file names that make a folder a template folder.
    public static let manifestFileName = "bundle.yaml"
    public static let schemaFileName = "template_schema.json"

    /// The absolute templates root the catalog was loaded from (empty for a catalog built in memory).
    public let root: String
    /// Every loaded bundle, sorted by name then version.
    public let bundles: [TemplateBundle]
    /// Every folder that looked like a template but could not be loaded, sorted by path.
    public let problems: [BundleLoadProblem]

    private let index: [Key: Int]

    private struct Key: Hashable {
        var name: String
        var version: String
    }

    /// Builds a catalog from already-loaded bundles (tests, or templates not on disk). A later
    /// bundle with the same name and version as an earlier one is reported as a problem.
    public init(root: String = "", bundles: [TemplateBundle], problems: [BundleLoadProblem] = []) {
        var kept: [TemplateBundle] = []
        var problems = problems
        var seen: [Key: String] = [:]
        for bundle in bundles {
            let key = Key(name: bundle.name, version: bundle.version)
            if let first = seen[key] {
                problems.append(
                    BundleLoadProblem(
                        path: bundle.directory,
                        message:
                            "Template '\(bundle.name)' version '\(bundle.version)' is already defined in \(first); this copy is ignored"
                    ))
                continue
            }
            seen[key] = bundle.directory
            kept.append(bundle)
        }
        kept.sort { ($0.name, $0.version) < ($1.name, $1.version) }
        self.root = root
        self.bundles = kept
        self.problems = problems.sorted { ($0.path, $0.message) < ($1.path, $1.message) }
        self.index = Dictionary(
            uniqueKeysWithValues: kept.enumerated().map { (Key(name: $1.name, version: $1.version), $0) })
    }

    /// Scans `root` recursively for folders holding both `bundle.yaml` and `template_schema.json`.
    ///
    /// A folder with only one of the two files is reported as a problem. Scanning continues below a
    /// template folder, because user resources live inside their workspace service's folder
    /// (`workspace_services/<x>/user_resources/<y>`). Hidden folders are skipped. A missing root
    /// yields an empty catalog with one problem.
    public static func load(from root: String) -> BundleCatalog {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        var bundles: [TemplateBundle] = []
        var problems: [BundleLoadProblem] = []
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootURL.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            return BundleCatalog(
                root: rootURL.path, bundles: [],
                problems: [BundleLoadProblem(path: rootURL.path, message: "The templates directory does not exist")])
        }
        for folder in templateFolders(under: rootURL) {
            let manifestURL = folder.appendingPathComponent(manifestFileName)
            let schemaURL = folder.appendingPathComponent(schemaFileName)
            let hasManifest = FileManager.default.fileExists(atPath: manifestURL.path)
            let hasSchema = FileManager.default.fileExists(atPath: schemaURL.path)
            switch (hasManifest, hasSchema) {
            case (false, false):
                continue
            case (true, false):
                problems.append(
                    .init(path: folder.path, message: "\(manifestFileName) has no \(schemaFileName) beside it"))
            case (false, true):
                problems.append(
                    .init(path: folder.path, message: "\(schemaFileName) has no \(manifestFileName) beside it"))
            case (true, true):
                do {
                    bundles.append(try loadBundle(in: folder, root: rootURL))
                } catch let error as EnclaveError {
                    problems.append(.init(path: folder.path, message: error.message))
                } catch {
                    problems.append(.init(path: folder.path, message: "\(error)"))
                }
            }
        }
        return BundleCatalog(root: rootURL.path, bundles: bundles, problems: problems)
            .checkingParents()
    }

    /// The bundle registered as `name` at `version`, if it was loaded.
    public func bundle(name: String, version: String) -> TemplateBundle? {
        index[Key(name: name, version: version)].map { bundles[$0] }
    }

    /// Every loaded version of `name`, in the catalog's order (sorted by version text).
    public func bundles(named name: String) -> [TemplateBundle] {
        bundles.filter { $0.name == name }
    }

    // MARK: - Loading one folder

    /// Loads and cross-checks one template folder.
    ///
    /// - Throws: `EnclaveError.unprocessable` describing what is wrong with the folder.
    public static func loadBundle(in folder: URL, root: URL? = nil) throws -> TemplateBundle {
        let manifestText: String
        do {
            manifestText = try String(contentsOf: folder.appendingPathComponent(manifestFileName), encoding: .utf8)
        } catch {
            throw EnclaveError.unprocessable(
                "Cannot read \(manifestFileName) as UTF-8 text: \(error.localizedDescription)")
        }
        let manifest = try BundleManifest.parse(yaml: manifestText)

        let schemaData: Data
        do {
            schemaData = try Data(contentsOf: folder.appendingPathComponent(schemaFileName))
        } catch {
            throw EnclaveError.unprocessable("Cannot read \(schemaFileName): \(error.localizedDescription)")
        }
        let schema: JSONValue
        do {
            schema = try JSONDecoder().decode(JSONValue.self, from: schemaData)
        } catch {
            throw EnclaveError.unprocessable("\(schemaFileName) is not valid JSON: \(describeJSONError(error))")
        }
        guard let object = schema.objectValue else {
            throw EnclaveError.unprocessable("\(schemaFileName) must hold a JSON object, not \(schema.typeName)")
        }
        if let declared = object["customActions"]?.arrayValue {
            for entry in declared {
                guard let actionName = entry["name"]?.stringValue else {
                    throw EnclaveError.unprocessable("\(schemaFileName) has a customActions entry without a 'name'")
                }
                guard manifest.actions[actionName] != nil, !BundleManifest.standardActions.contains(actionName) else {
                    throw EnclaveError.unprocessable(
                        "\(schemaFileName) declares custom action '\(actionName)' but \(manifestFileName) has no such action"
                    )
                }
            }
        }
        if let root, let expected = expectedType(of: folder, under: root), expected != manifest.type {
            throw EnclaveError.unprocessable(
                "\(manifestFileName) says type '\(manifest.type.rawValue)' but the folder sits where \(expected.rawValue) templates go"
            )
        }
        return TemplateBundle(
            manifest: manifest, directory: folder.standardizedFileURL.path, schemaData: schemaData, schema: schema)
    }

    /// The type implied by Azure TRE's layout: the nearest of `workspaces/`, `workspace_services/`,
    /// `user_resources/`, `shared_services/` above the folder; nil when the folder is outside that layout.
    static func expectedType(of folder: URL, under root: URL) -> ResourceType? {
        let rootParts = root.standardizedFileURL.pathComponents
        let parts = folder.standardizedFileURL.pathComponents
        guard parts.count > rootParts.count, Array(parts.prefix(rootParts.count)) == rootParts else { return nil }
        // The folder's own name does not count: only its ancestors inside the root.
        for part in parts[rootParts.count..<(parts.count - 1)].reversed() {
            switch part {
            case "workspaces": return .workspace
            case "workspace_services": return .workspaceService
            case "user_resources": return .userResource
            case "shared_services": return .sharedService
            default: continue
            }
        }
        return nil
    }

    /// Folders below `root` (root included), depth first, sorted, hidden ones skipped.
    private static func templateFolders(under root: URL) -> [URL] {
        var result: [URL] = []
        var pending: [URL] = [root]
        let keys: [URLResourceKey] = [.isDirectoryKey, .isSymbolicLinkKey]
        var visited = Set<String>()
        while let folder = pending.popLast() {
            let resolved = folder.resolvingSymlinksInPath().path
            guard visited.insert(resolved).inserted else { continue }
            result.append(folder)
            let children =
                (try? FileManager.default.contentsOfDirectory(
                    at: folder, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])) ?? []
            let subfolders = children.filter { child in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory)
                    && isDirectory.boolValue
            }
            pending.append(contentsOf: subfolders.sorted { $0.lastPathComponent > $1.lastPathComponent })
        }
        return result
    }

    /// Reports user-resource bundles placed under a workspace-service folder whose bundle has a
    /// different name than the one they declare as `parent`.
    private func checkingParents() -> BundleCatalog {
        var problems = self.problems
        var kept: [TemplateBundle] = []
        let byDirectory = Dictionary(bundles.map { ($0.directory, $0) }, uniquingKeysWith: { first, _ in first })
        for bundle in bundles {
            guard bundle.type == .userResource, let parent = bundle.manifest.parent else {
                kept.append(bundle)
                continue
            }
            let folder = URL(fileURLWithPath: bundle.directory)
            let container = folder.deletingLastPathComponent()
            guard container.lastPathComponent == "user_resources" else {
                kept.append(bundle)
                continue
            }
            let serviceDirectory = container.deletingLastPathComponent().standardizedFileURL.path
            if let service = byDirectory[serviceDirectory], service.name != parent {
                problems.append(
                    .init(
                        path: bundle.directory,
                        message: "parent is '\(parent)' but the folder sits under workspace service '\(service.name)'"))
                continue
            }
            kept.append(bundle)
        }
        return BundleCatalog(root: root, bundles: kept, problems: problems)
    }

    private static func describeJSONError(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .dataCorrupted(let context):
                if let underlying = context.underlyingError { return underlying.localizedDescription }
                return context.debugDescription
            default:
                return "\(error)"
            }
        }
        return error.localizedDescription
    }
}
