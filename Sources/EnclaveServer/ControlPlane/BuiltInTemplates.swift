import EnclaveCore
import EnclaveEngine
import EnclaveStore
import Logging

/// Registers the templates found under `templates/` at start: new versions are added (and become
/// current when newer than the current one); versions already registered are left alone.
enum BuiltInTemplates {
    /// Custom actions from template_schema.json, or else every non-standard action in bundle.yaml (as `porter explain`).
    static func customActions(of bundle: TemplateBundle) -> [CustomAction] {
        if let declared = bundle.schema["customActions"]?.arrayValue, !declared.isEmpty {
            return declared.compactMap { item in
                item["name"]?.stringValue.map { CustomAction(name: $0, description: item["description"]?.stringValue ?? "") }
            }
        }
        return bundle.manifest.customActionNames.map { CustomAction(name: $0) }
    }

    static func register(catalog: BundleCatalog, controlPlane: ControlPlane, logger: Logger) async throws {
        for bundle in catalog.bundles {
            let type = bundle.type
            let parent = type == .userResource ? bundle.manifest.parent : nil
            let existing = try await controlPlane.store.templates(type: type, name: bundle.name, parent: parent)
            if existing.contains(where: { $0.version == bundle.version }) { continue }
            let newest = existing.compactMap { SemanticVersion($0.version) }.max()
            let isNewer = SemanticVersion(bundle.version).map { v in newest.map { v > $0 } ?? true } ?? false
            let registration = TemplateRegistration(
                name: bundle.name, version: bundle.version, current: isNewer, json_schema: bundle.schema,
                customActions: customActions(of: bundle))
            do {
                _ = try await controlPlane.registerTemplate(
                    registration, type: type, parent: parent, by: .system, requestId: nil)
                logger.info("registered built-in template", metadata: ["template": "\(bundle.name)", "version": "\(bundle.version)"])
            } catch {
                logger.error("built-in template rejected", metadata: ["template": "\(bundle.name)", "error": "\(error)"])
            }
        }
    }
}
