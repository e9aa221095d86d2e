/// Carries out `isolate:` steps of a bundle (the local data plane implements it).
///
/// Declared here, where the exec deployer dispatches steps by kind: `run:` steps are child
/// processes, `isolate:` steps go to this runner. Without one, an `isolate:` step fails with the
/// reason, and serve keeps running.
public protocol IsolationStepRunner: Sendable {
    /// Sets up (install, upgrade, custom actions) or removes (uninstall) the isolation of
    /// `request`'s workspace. Returns a failed result with a message for expected failures
    /// (missing capability, exhausted pool); throws only when it could not work at all.
    func isolate(
        _ isolation: BundleIsolation, request: DeploymentRequest, progress: @escaping @Sendable (String) async -> Void
    ) async throws -> DeploymentResult

    /// Why isolation cannot work on this host (not root, a tool missing), or nil when ready.
    func healthProblem() async -> String?
}
