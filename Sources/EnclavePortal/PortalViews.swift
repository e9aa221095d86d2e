import Crypto
import Foundation
public import Mustache

/// A view model that hands templates its fields by name (`func child(named:) -> Any?`, nil for names it
/// does not have) instead of being read through `Mirror`: reflection costs microseconds per lookup, which
/// adds up on pages with hundreds of rows. Rows of long lists adopt it; small page models need not.
public typealias TemplateFields = MustacheParent

/// The portal's templates and static files, loaded once at start-up from the module's resources.
///
/// Pages are rendered by mustache from small view-model structs (one per page), so every value is
/// HTML-escaped by default (`{{value}}`); only fragments this module produced itself (the layout's
/// body, sanitised markdown) are inserted raw with `{{{…}}}`.
public struct PortalViews: Sendable {
    public let library: MustacheLibrary
    /// Static files by name (`portal.css`, `operations.js`, …), served under `/static/`.
    public let assets: [String: Asset]

    /// A static file and the version its URL carries, so browsers may cache it for good.
    public struct Asset: Sendable {
        public let name: String
        public let bytes: [UInt8]
        public let contentType: String
        /// The first 12 hex digits of the content's SHA-256: `/static/NAME?v=VERSION`, and the ETag.
        public let version: String

        public var url: String { "/static/\(name)?v=\(version)" }
    }

    public enum LoadError: Error, CustomStringConvertible {
        case missingResources(String)
        case template(String, any Error)

        public var description: String {
            switch self {
            case .missingResources(let path): "The portal's resources are missing at \(path): rebuild Enclave"
            case .template(let name, let error): "The portal template \(name) does not parse: \(error)"
            }
        }
    }

    /// Loads `Templates/*.mustache` and `Static/*` from the module's resource bundle, once per process: the
    /// bundle never changes while Enclave runs, and parsing every template for each router built (tests
    /// build hundreds) kept the cooperative threads busy for minutes.
    public static func load() throws -> PortalViews { try bundled.get() }

    private static let bundled = Result<PortalViews, any Error> {
        guard let root = Bundle.module.resourceURL else { throw LoadError.missingResources("the EnclavePortal bundle") }
        return try load(templates: root.appendingPathComponent("Templates"), static: root.appendingPathComponent("Static"))
    }

    static func load(templates: URL, static staticDirectory: URL) throws -> PortalViews {
        let fm = FileManager.default
        guard let templateNames = try? fm.contentsOfDirectory(atPath: templates.path) else {
            throw LoadError.missingResources(templates.path)
        }
        var library = MustacheLibrary()
        for file in templateNames.sorted() where file.hasSuffix(".mustache") {
            let name = String(file.dropLast(".mustache".count))
            let text = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            do { try library.register(text, named: name) } catch { throw LoadError.template(name, error) }
        }
        // Each area's rules live in their own `portal-AREA.css`; pages get them all as one `portal.css`
        // (one request, cached for good), the base first.
        var files: [String: Data] = [:]
        var areaStyles = Data()
        for file in ((try? fm.contentsOfDirectory(atPath: staticDirectory.path)) ?? []).sorted() {
            guard let data = fm.contents(atPath: staticDirectory.appendingPathComponent(file).path) else { continue }
            if file.hasPrefix("portal-"), file.hasSuffix(".css") { areaStyles.append(data) } else { files[file] = data }
        }
        files["portal.css", default: Data()].append(areaStyles)
        var assets: [String: Asset] = [:]
        for (file, data) in files {
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            assets[file] = Asset(
                name: file, bytes: Array(data), contentType: contentType(of: file), version: String(digest.prefix(12)))
        }
        return PortalViews(library: library, assets: assets)
    }

    static func contentType(of file: String) -> String {
        switch file.split(separator: ".").last {
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        default: "application/octet-stream"
        }
    }

    /// The versioned URL of a static file (its bare path when it does not exist, which a test catches).
    public func assetURL(_ name: String) -> String { assets[name]?.url ?? "/static/\(name)" }

    /// Renders one page's template with its view model, then the layout around it.
    ///
    /// A template that does not exist is a programming error caught by the portal's tests; it renders
    /// as an empty body rather than trapping a server thread.
    public func render(_ template: String, _ view: Any, layout: PageLayout) -> String {
        let body = library.render(view, withTemplate: template) ?? ""
        var layout = layout
        layout.body = body
        layout.stylesheet = assetURL("portal.css")
        layout.scripts = layout.scriptNames.map(assetURL)
        return library.render(layout, withTemplate: "layout") ?? body
    }
}
