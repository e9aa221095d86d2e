/// The contract between a workspace service's (or user resource's) deployer and the gateway.
///
/// A deployer that runs something with a web UI writes, among its outputs:
/// - `gateway_upstream`: the address the Enclave host reaches it at (`http://10.200.0.2:8888`, with an
///   optional base path: `http://10.200.0.2:6080/vnc`);
/// - optionally `gateway_credential`: what the gateway adds to every request so the user never sees the
///   tool's own secret — `{"header": "Authorization", "value": "token abc"}` or `{"query": "token", "value": "abc"}`.
///
/// Both are sealed with the resource's other secrets and never enter `properties`, so no API response shows
/// them and no caller can set them (they are refused as input). In their place the resource gains
/// `connection_uri`, the gateway URL users open.
public enum GatewayOutputs {
    public static let upstream = "gateway_upstream"
    public static let credential = "gateway_credential"
    public static let connectionURI = "connection_uri"

    /// Output names sealed instead of merged into `properties`, and refused as user input.
    public static let sealed: Set<String> = [upstream, credential]

    /// The gateway path of a workspace service or user resource (`/workspaces/{ws}/services/{svc}/…/`), or
    /// nil for the types the gateway does not serve.
    public static func path(of resource: Resource) -> String? {
        switch resource.resourceType {
        case .workspaceService:
            guard let ws = resource.workspaceId else { return nil }
            return "/workspaces/\(ws)/services/\(resource.id)/"
        case .userResource:
            guard let ws = resource.workspaceId, let svc = resource.parentWorkspaceServiceId else { return nil }
            return "/workspaces/\(ws)/services/\(svc)/user-resources/\(resource.id)/"
        case .workspace, .sharedService:
            return nil
        }
    }
}
