/// Carries out `workload:` and `tool:` steps of a bundle (the local data plane implements it).
///
/// Declared here, where the exec deployer dispatches steps by kind. Without a runner, such steps fail
/// with the reason.
public protocol WorkloadStepRunner: Sendable {
    /// Starts (install, upgrade, custom actions) or stops (`uninstall`, `stop`) the resource's workload.
    /// Returns a failed result with a message for expected failures; throws only when it could not work.
    func workload(
        _ workload: BundleWorkload, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult

    /// Installs the tool once (nothing on uninstall: other workspaces share it).
    func tool(
        _ tool: BundleTool, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult
}
