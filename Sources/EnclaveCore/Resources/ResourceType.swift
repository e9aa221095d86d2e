/// The four kinds of resource Azure TRE manages; the raw values are its wire strings.
public enum ResourceType: String, Codable, Sendable, Hashable, CaseIterable {
    case workspace
    case workspaceService = "workspace-service"
    case userResource = "user-resource"
    case sharedService = "shared-service"
}
