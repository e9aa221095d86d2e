/// An asynchronous change to a resource, polled by clients through its `Location`.
public struct ResourceOperation: Codable, Sendable, Hashable {
    public var id: String
    public var resourceId: String
    public var resourcePath: String
    public var resourceVersion: Int
    public var status: OperationStatus
    public var action: String
    public var message: String
    public var createdWhen: Double
    public var updatedWhen: Double
    public var user: User
    public var steps: [OperationStep]

    public init(
        id: String, resourceId: String, resourcePath: String, resourceVersion: Int, status: OperationStatus,
        action: String, message: String, createdWhen: Double, updatedWhen: Double, user: User,
        steps: [OperationStep]
    ) {
        self.id = id
        self.resourceId = resourceId
        self.resourcePath = resourcePath
        self.resourceVersion = resourceVersion
        self.status = status
        self.action = action
        self.message = message
        self.createdWhen = createdWhen
        self.updatedWhen = updatedWhen
        self.user = user
        self.steps = steps
    }

    /// The `Location` header value Azure TRE returns for this operation.
    public var location: String { "/api\(resourcePath)/operations/\(id)" }
}

/// One step of an operation: the `main` step on the resource itself, or a pipeline step on another.
public struct OperationStep: Codable, Sendable, Hashable {
    public var id: String
    public var templateStepId: String
    public var stepTitle: String
    public var resourceId: String
    public var resourceTemplateName: String
    public var resourceType: ResourceType
    public var resourceAction: String
    public var status: OperationStatus
    public var message: String
    public var updatedWhen: Double
    public var sourceTemplateResourceId: String
    /// Pipeline property updates applied to the target before it runs (not part of Azure TRE's wire shape).
    public var properties: [PipelineStepProperty]?

    public init(
        id: String, templateStepId: String, stepTitle: String, resourceId: String, resourceTemplateName: String,
        resourceType: ResourceType, resourceAction: String, status: OperationStatus, message: String,
        updatedWhen: Double, sourceTemplateResourceId: String, properties: [PipelineStepProperty]? = nil
    ) {
        self.id = id
        self.templateStepId = templateStepId
        self.stepTitle = stepTitle
        self.resourceId = resourceId
        self.resourceTemplateName = resourceTemplateName
        self.resourceType = resourceType
        self.resourceAction = resourceAction
        self.status = status
        self.message = message
        self.updatedWhen = updatedWhen
        self.sourceTemplateResourceId = sourceTemplateResourceId
        self.properties = properties
    }

    enum CodingKeys: String, CodingKey {
        case id, templateStepId, stepTitle, resourceId, resourceTemplateName, resourceType, resourceAction
        case status, message, updatedWhen, sourceTemplateResourceId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        templateStepId = try c.decode(String.self, forKey: .templateStepId)
        stepTitle = try c.decode(String.self, forKey: .stepTitle)
        resourceId = try c.decode(String.self, forKey: .resourceId)
        resourceTemplateName = try c.decode(String.self, forKey: .resourceTemplateName)
        resourceType = try c.decode(ResourceType.self, forKey: .resourceType)
        resourceAction = try c.decode(String.self, forKey: .resourceAction)
        status = try c.decode(OperationStatus.self, forKey: .status)
        message = try c.decode(String.self, forKey: .message)
        updatedWhen = try c.decode(Double.self, forKey: .updatedWhen)
        sourceTemplateResourceId = try c.decode(String.self, forKey: .sourceTemplateResourceId)
        properties = nil
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(templateStepId, forKey: .templateStepId)
        try c.encode(stepTitle, forKey: .stepTitle)
        try c.encode(resourceId, forKey: .resourceId)
        try c.encode(resourceTemplateName, forKey: .resourceTemplateName)
        try c.encode(resourceType, forKey: .resourceType)
        try c.encode(resourceAction, forKey: .resourceAction)
        try c.encode(status, forKey: .status)
        try c.encode(message, forKey: .message)
        try c.encode(updatedWhen, forKey: .updatedWhen)
        try c.encode(sourceTemplateResourceId, forKey: .sourceTemplateResourceId)
    }
}

