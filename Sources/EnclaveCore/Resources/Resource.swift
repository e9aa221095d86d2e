/// A workspace, workspace service, user resource or shared service, in Azure TRE's shape.
///
/// One struct serves all four types (as Azure TRE's documents do) because the rules that act on them —
/// etags, versions, history, cascades, operations — are the same; the type-specific fields are optional
/// and only encoded for the type that has them.
public struct Resource: Sendable, Hashable {
    public var id: String
    public var resourceType: ResourceType
    public var templateName: String
    public var templateVersion: String
    /// User input, system properties and merged deployer outputs. Sensitive values are stored as `REDACTED`.
    public var properties: [String: JSONValue]
    public var isEnabled: Bool
    /// Mirrors the latest step status; nil until a worker first reports. `deleted` means soft-deleted.
    public var deploymentStatus: String?
    public var etag: String
    public var resourcePath: String
    public var resourceVersion: Int
    public var user: User
    public var updatedWhen: Double
    public var workspaceId: String?
    public var parentWorkspaceServiceId: String?
    public var ownerId: String?
    /// User resources' power state, e.g. `{"powerState": "running"}`.
    public var azureStatus: [String: JSONValue]

    public init(
        id: String, resourceType: ResourceType, templateName: String, templateVersion: String,
        properties: [String: JSONValue], isEnabled: Bool = true, deploymentStatus: String? = nil, etag: String,
        resourcePath: String, resourceVersion: Int = 0, user: User, updatedWhen: Double,
        workspaceId: String? = nil, parentWorkspaceServiceId: String? = nil, ownerId: String? = nil,
        azureStatus: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.resourceType = resourceType
        self.templateName = templateName
        self.templateVersion = templateVersion
        self.properties = properties
        self.isEnabled = isEnabled
        self.deploymentStatus = deploymentStatus
        self.etag = etag
        self.resourcePath = resourcePath
        self.resourceVersion = resourceVersion
        self.user = user
        self.updatedWhen = updatedWhen
        self.workspaceId = workspaceId
        self.parentWorkspaceServiceId = parentWorkspaceServiceId
        self.ownerId = ownerId
        self.azureStatus = azureStatus
    }

    public var isDeleted: Bool { deploymentStatus == OperationStatus.deleted.rawValue }

    /// The path of the resource Azure TRE builds `Location` headers and cascades from.
    public static func path(
        type: ResourceType, id: String, workspaceId: String? = nil, serviceId: String? = nil
    ) -> String {
        switch type {
        case .workspace: "/workspaces/\(id)"
        case .workspaceService: "/workspaces/\(workspaceId ?? "")/workspace-services/\(id)"
        case .userResource:
            "/workspaces/\(workspaceId ?? "")/workspace-services/\(serviceId ?? "")/user-resources/\(id)"
        case .sharedService: "/shared-services/\(id)"
        }
    }

    /// How deep the resource sits in the tree; cascades run deepest first.
    public var depth: Int {
        switch resourceType {
        case .workspace, .sharedService: 0
        case .workspaceService: 1
        case .userResource: 2
        }
    }
}

extension Resource: Codable {
    enum CodingKeys: String, CodingKey {
        case id, templateName, templateVersion, properties, isEnabled, resourceType, deploymentStatus
        case etag = "_etag"
        case resourcePath, resourceVersion, user, updatedWhen, workspaceId, parentWorkspaceServiceId, ownerId
        case azureStatus, workspaceURL
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        resourceType = try c.decode(ResourceType.self, forKey: .resourceType)
        templateName = try c.decode(String.self, forKey: .templateName)
        templateVersion = try c.decode(String.self, forKey: .templateVersion)
        properties = try c.decodeIfPresent([String: JSONValue].self, forKey: .properties) ?? [:]
        isEnabled = try c.decodeIfPresent(Bool.self, forKey: .isEnabled) ?? true
        deploymentStatus = try c.decodeIfPresent(String.self, forKey: .deploymentStatus)
        etag = try c.decodeIfPresent(String.self, forKey: .etag) ?? ""
        resourcePath = try c.decodeIfPresent(String.self, forKey: .resourcePath) ?? ""
        resourceVersion = try c.decodeIfPresent(Int.self, forKey: .resourceVersion) ?? 0
        user = try c.decodeIfPresent(User.self, forKey: .user) ?? User(id: "", name: "", email: "", roles: [])
        updatedWhen = try c.decodeIfPresent(Double.self, forKey: .updatedWhen) ?? 0
        workspaceId = try c.decodeIfPresent(String.self, forKey: .workspaceId)
        parentWorkspaceServiceId = try c.decodeIfPresent(String.self, forKey: .parentWorkspaceServiceId)
        ownerId = try c.decodeIfPresent(String.self, forKey: .ownerId)
        azureStatus = try c.decodeIfPresent([String: JSONValue].self, forKey: .azureStatus) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(templateName, forKey: .templateName)
        try c.encode(templateVersion, forKey: .templateVersion)
        try c.encode(properties, forKey: .properties)
        try c.encode(isEnabled, forKey: .isEnabled)
        try c.encode(resourceType, forKey: .resourceType)
        try c.encode(deploymentStatus, forKey: .deploymentStatus)
        try c.encode(etag, forKey: .etag)
        try c.encode(resourcePath, forKey: .resourcePath)
        try c.encode(resourceVersion, forKey: .resourceVersion)
        try c.encode(user, forKey: .user)
        try c.encode(updatedWhen, forKey: .updatedWhen)
        switch resourceType {
        case .workspace:
            try c.encode("", forKey: .workspaceURL)
        case .workspaceService:
            try c.encodeIfPresent(workspaceId, forKey: .workspaceId)
        case .userResource:
            try c.encodeIfPresent(workspaceId, forKey: .workspaceId)
            try c.encodeIfPresent(parentWorkspaceServiceId, forKey: .parentWorkspaceServiceId)
            try c.encodeIfPresent(ownerId, forKey: .ownerId)
            try c.encode(azureStatus, forKey: .azureStatus)
        case .sharedService:
            break
        }
    }
}

/// A saved earlier state of a resource, written before every change (`GET …/history`).
public struct ResourceHistoryItem: Codable, Sendable, Hashable {
    public var id: String
    public var resourceId: String
    public var properties: [String: JSONValue]
    public var isEnabled: Bool
    public var resourceVersion: Int
    public var updatedWhen: Double
    public var user: User
    public var templateVersion: String

    public init(id: String, snapshotOf resource: Resource) {
        self.id = id
        self.resourceId = resource.id
        self.properties = resource.properties
        self.isEnabled = resource.isEnabled
        self.resourceVersion = resource.resourceVersion
        self.updatedWhen = resource.updatedWhen
        self.user = resource.user
        self.templateVersion = resource.templateVersion
    }
}
