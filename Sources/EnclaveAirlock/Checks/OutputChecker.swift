public import EnclaveCore

/// Runs the automated output checks on one file of an export after it passed the malware scan.
///
/// Checks advise reviewers; they never change a request's status on their own (see
/// `OutputCheckParameters.autoReject`). `allFiles` and `directory` let a check that spans files
/// (ACRO's `results.json` lists other outputs with their SHA-256) see the rest of the request.
public protocol OutputChecker: Sendable {
    func check(
        file: AirlockFile, path: String, allFiles: [AirlockFile], directory: String, parameters: OutputCheckParameters
    ) async -> [OutputCheckResult]
}
