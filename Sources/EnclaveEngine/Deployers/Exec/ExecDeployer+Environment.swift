// What an exec step receives: the parameters document on stdin and the environment variables.
public import EnclaveCore

extension ExecDeployer {
    /// The JSON object a step reads on stdin: the resource's parameters plus the request's identity
    /// fields (`id`, `action`, `resource_type`, `template_name`, `template_version`, `workspace_id`,
    /// `parent_service_id`, `owner_id`, `operation_id`, `step_id`), which win over parameters of
    /// the same name because they describe the request, not user input.
    ///
    /// For a workspace, `workspace_id` is the workspace's own id, so scripts of every resource type
    /// can find `DATA/workspaces/<workspace_id>` the same way.
    public static func standardInputDocument(for request: DeploymentRequest) -> JSONValue {
        var document = request.parameters
        for (key, value) in requestFields(of: request) {
            document[key] = .string(value)
        }
        return .object(document)
    }

    /// The `ENCLAVE_*` environment of a step, without the base variables (PATH, HOME, LANG).
    ///
    /// Each top-level parameter becomes `ENCLAVE_PARAM_<NAME>` (upper-cased, every character other
    /// than an ASCII letter or digit replaced by `_`): strings as they are, other values as compact
    /// JSON. Values holding a NUL byte or longer than `maxEnvironmentValueLength` are left out
    /// (the OS cannot pass them); scripts read such values from stdin.
    public static func stepEnvironment(
        for request: DeploymentRequest, dataDirectory: String, templateDirectory: String, outputsPath: String,
        stepName: String
    ) -> [String: String] {
        var environment: [String: String] = [:]
        for (name, value) in request.parameters {
            let text = value.stringValue ?? value.description
            guard !text.utf8.contains(0), text.utf8.count <= maxEnvironmentValueLength else { continue }
            environment["ENCLAVE_PARAM_" + environmentName(name)] = text
        }
        let fields = requestFields(of: request)
        let names: [(field: String, variable: String)] = [
            ("id", "ENCLAVE_RESOURCE_ID"), ("action", "ENCLAVE_ACTION"), ("resource_type", "ENCLAVE_RESOURCE_TYPE"),
            ("template_name", "ENCLAVE_TEMPLATE_NAME"), ("template_version", "ENCLAVE_TEMPLATE_VERSION"),
            ("workspace_id", "ENCLAVE_WORKSPACE_ID"), ("parent_service_id", "ENCLAVE_PARENT_SERVICE_ID"),
            ("owner_id", "ENCLAVE_OWNER_ID"), ("operation_id", "ENCLAVE_OPERATION_ID"), ("step_id", "ENCLAVE_STEP_ID"),
        ]
        for (field, variable) in names {
            if let value = fields[field], !value.utf8.contains(0) { environment[variable] = value }
        }
        environment["ENCLAVE_DATA_DIR"] = dataDirectory
        environment["ENCLAVE_TEMPLATE_DIR"] = templateDirectory
        environment["ENCLAVE_OUTPUTS"] = outputsPath
        environment["ENCLAVE_STEP_NAME"] = stepName
        return environment
    }

    /// Values longer than this are not put in the environment (Linux caps one string at 128 KiB).
    public static let maxEnvironmentValueLength = 64 * 1024

    /// `display_name` → `DISPLAY_NAME`, `a.b-c` → `A_B_C`.
    public static func environmentName(_ parameterName: String) -> String {
        String(
            parameterName.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z": Character(String(scalar).uppercased())
                case "A"..."Z", "0"..."9": Character(scalar)
                default: "_"
                }
            })
    }

    private static func requestFields(of request: DeploymentRequest) -> [String: String] {
        var fields: [String: String] = [
            "id": request.resourceId,
            "action": request.action,
            "resource_type": request.resourceType.rawValue,
            "template_name": request.templateName,
            "template_version": request.templateVersion,
            "operation_id": request.operationId,
            "step_id": request.stepId,
        ]
        if let workspaceId = request.workspaceId ?? (request.resourceType == .workspace ? request.resourceId : nil) {
            fields["workspace_id"] = workspaceId
        }
        if let parent = request.parentWorkspaceServiceId { fields["parent_service_id"] = parent }
        if let owner = request.ownerId { fields["owner_id"] = owner }
        return fields
    }
}
