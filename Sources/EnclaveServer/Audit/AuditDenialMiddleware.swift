import EnclaveCore
import EnclaveEngine
import EnclaveStore
import Hummingbird
import Logging

/// Records every 403 an authenticated caller receives as an `auth.denied` audit record, then passes the error on.
///
/// One place catches them all — `Access.require`, a template's `authorizedRoles`, and whatever denies in future —
/// so no handler can deny without a record. A denial changes nothing else, so the record is appended on its own.
/// If the append fails the caller still gets the 403 (refusing is the safe side); the failure is logged.
struct AuditDenialMiddleware: RouterMiddleware {
    typealias Context = AuthenticatedContext
    let store: any Store
    let environment: EngineEnvironment

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as EnclaveError where error.kind == .forbidden {
            let path = request.uri.path
            var details: [String: JSONValue] = [
                "method": .string(request.method.rawValue), "path": .string(path), "reason": .string(error.message),
            ]
            if let route = context.endpointPath { details["route"] = .string(route) }
            let entry = AuditEntry(
                id: environment.newId(), time: environment.now(), actor: AuditActor(context.user), action: .authDenied,
                target: path.hasPrefix("/api/") ? String(path.dropFirst("/api".count)) : path, outcome: .denied,
                details: .object(details), requestId: context.requestId)
            do {
                try await store.appendAudit([entry])
            } catch {
                context.logger.error("could not record a denial in the audit log", metadata: ["error": "\(error)"])
            }
            throw error
        }
    }
}
