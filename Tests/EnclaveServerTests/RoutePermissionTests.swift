import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Azure TRE's permission matrix (reference §4.3) through the real routes: every route × every role.
///
/// Mutating routes are called with input that fails *after* authorisation (stale etag, empty body, a
/// resource still enabled), so an allowed caller gets a 4xx other than 401/403 and nothing changes,
/// while a denied caller gets 403.
@Suite("Route permissions")
struct RoutePermissionTests {
    enum Who: String, CaseIterable, Sendable {
        case admin, treUser, owner, researcher, manager, noRole, otherOwner

        var user: User {
            switch self {
            case .admin: TestUsers.admin
            case .treUser: TestUsers.treUser
            case .owner: TestUsers.owner
            case .researcher: TestUsers.researcher
            case .manager: TestUsers.manager
            case .noRole: TestUsers.noRole
            case .otherOwner: User(id: "other-owner-0008", name: "Otto", email: "otto@example.org", roles: ["TREUser"])
            }
        }
    }

    struct Route: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var allowed: Set<Who>
        var body: String? = nil
        var etag: String? = nil
    }

    static let core: Set<Who> = [.admin, .treUser, .owner, .researcher, .manager, .otherOwner]

    /// The fixture: workspace W (owner Olga; researcher Ravi and manager Mia assigned), its service S, a
    /// user resource U owned by Ravi, another workspace owned by Otto, and the firewall shared service F.
    struct Fixture {
        var ws, svc, ur, fw: String
        var wsOp, svcOp, urOp, fwOp: String
    }

    static func routes(_ f: Fixture) -> [Route] {
        let w = "/api/workspaces/\(f.ws)"
        let s = "\(w)/workspace-services/\(f.svc)"
        let u = "\(s)/user-resources/\(f.ur)"
        let fw = "/api/shared-services/\(f.fw)"
        let a: Set<Who> = [.admin]
        let wsMembers: Set<Who> = [.owner, .researcher, .manager]
        let wsRead: Set<Who> = [.admin, .owner, .researcher, .manager]
        let stale = "stale-etag"
        let nobody = "00000000-0000-4000-8000-000000000000"
        var routes: [Route] = []
        for kind in ["workspace", "workspace-service", "shared-service"] {
            let name = ["workspace": "tre-workspace-base", "workspace-service": "tre-service-jupyterlab",
                        "shared-service": "tre-shared-service-firewall"][kind] ?? ""
            let readers: Set<Who> = kind == "workspace" ? a : core
            routes += [
                Route(method: .get, path: "/api/\(kind)-templates", allowed: readers),
                Route(method: .get, path: "/api/\(kind)-templates/\(name)", allowed: readers),
                Route(method: .post, path: "/api/\(kind)-templates", allowed: a, body: "{}"),
            ]
        }
        let urt = "/api/workspace-service-templates/tre-service-jupyterlab/user-resource-templates"
        routes += [
            Route(method: .get, path: urt, allowed: core),
            Route(method: .get, path: "\(urt)/tre-user-resource-notebook", allowed: core),
            Route(method: .post, path: urt, allowed: a, body: "{}"),
            // Workspaces
            Route(method: .get, path: "/api/workspaces", allowed: core),
            Route(method: .post, path: "/api/workspaces", allowed: a, body: "{}"),
            Route(method: .get, path: w, allowed: wsRead),
            Route(method: .patch, path: w, allowed: a, body: "{\"isEnabled\": false}", etag: stale),
            Route(method: .delete, path: w, allowed: a),
            Route(method: .post, path: "\(w)/invoke-action", allowed: a),
            Route(method: .get, path: "\(w)/scopeid", allowed: core),
            Route(method: .get, path: "\(w)/operations", allowed: [.admin, .owner]),
            Route(method: .get, path: "\(w)/operations/\(f.wsOp)", allowed: [.admin, .owner]),
            Route(method: .get, path: "\(w)/history", allowed: [.admin, .owner]),
            Route(method: .get, path: "\(w)/audit", allowed: [.admin, .owner]),
            Route(method: .get, path: "\(w)/workspace-service-templates", allowed: wsRead),
            Route(
                method: .get, path: "\(w)/workspace-service-templates/tre-service-jupyterlab/user-resource-templates",
                allowed: wsRead),
            Route(method: .get, path: "\(w)/users", allowed: wsRead),
            Route(method: .get, path: "\(w)/roles", allowed: a),
            Route(method: .post, path: "\(w)/users/assign", allowed: a, body: "{}"),
            Route(method: .delete, path: "\(w)/users/assign", allowed: a),
            // Workspace services
            Route(method: .get, path: "\(w)/workspace-services", allowed: wsMembers),
            Route(method: .post, path: "\(w)/workspace-services", allowed: [.owner], body: "{}"),
            Route(method: .get, path: s, allowed: wsMembers),
            Route(method: .patch, path: s, allowed: [.owner], body: "{\"isEnabled\": false}", etag: stale),
            Route(method: .delete, path: s, allowed: [.owner]),
            Route(method: .post, path: "\(s)/invoke-action", allowed: [.owner]),
            Route(method: .get, path: "\(s)/operations", allowed: [.owner, .manager]),
            Route(method: .get, path: "\(s)/operations/\(f.svcOp)", allowed: [.owner, .manager]),
            Route(method: .get, path: "\(s)/history", allowed: [.owner, .manager]),
            // User resources: Ravi owns U; Mia is a member but not its owner.
            Route(method: .get, path: "\(s)/user-resources", allowed: wsMembers),
            Route(method: .post, path: "\(s)/user-resources", allowed: wsMembers, body: "{}"),
            Route(method: .get, path: u, allowed: [.owner, .researcher]),
            Route(method: .patch, path: u, allowed: [.owner, .researcher], body: "{\"isEnabled\": false}", etag: stale),
            Route(method: .delete, path: u, allowed: [.owner, .researcher]),
            Route(method: .post, path: "\(u)/invoke-action", allowed: [.owner, .researcher]),
            Route(method: .get, path: "\(u)/operations", allowed: [.owner, .researcher]),
            Route(method: .get, path: "\(u)/operations/\(f.urOp)", allowed: [.owner, .researcher]),
            Route(method: .get, path: "\(u)/history", allowed: [.owner, .researcher]),
            // Shared services and operations
            Route(method: .get, path: "/api/shared-services", allowed: core),
            Route(method: .post, path: "/api/shared-services", allowed: a, body: "{}"),
            Route(method: .get, path: fw, allowed: core),
            Route(method: .patch, path: fw, allowed: a, body: "{\"isEnabled\": false}", etag: stale),
            Route(method: .delete, path: fw, allowed: a),
            Route(method: .post, path: "\(fw)/invoke-action", allowed: a),
            Route(method: .get, path: "\(fw)/operations", allowed: a),
            Route(method: .get, path: "\(fw)/operations/\(f.fwOp)", allowed: a),
            Route(method: .get, path: "\(fw)/history", allowed: a),
            Route(method: .get, path: "/api/operations", allowed: core),
            // Airlock (reference §4.3): requesters are owners and researchers, reviewers airlock managers, admins
            // without a workspace role see nothing. Request-scoped routes name a request that does not exist (404).
            Route(method: .post, path: "\(w)/requests", allowed: [.owner, .researcher], body: "{}"),
            Route(method: .get, path: "\(w)/requests", allowed: wsMembers),
            Route(method: .get, path: "\(w)/requests/\(nobody)", allowed: wsMembers),
            Route(method: .post, path: "\(w)/requests/\(nobody)/submit", allowed: [.owner, .researcher]),
            Route(method: .post, path: "\(w)/requests/\(nobody)/cancel", allowed: [.owner, .researcher]),
            Route(method: .post, path: "\(w)/requests/\(nobody)/review", allowed: [.manager], body: "{}"),
            Route(method: .post, path: "\(w)/requests/\(nobody)/revoke", allowed: [.manager], body: "{}"),
            Route(method: .get, path: "\(w)/requests/\(nobody)/files", allowed: wsMembers),
            Route(method: .put, path: "\(w)/requests/\(nobody)/files/\(nobody)", allowed: [.owner, .researcher], body: "{}"),
            Route(method: .get, path: "\(w)/requests/\(nobody)/files/\(nobody)", allowed: wsMembers),
            Route(method: .delete, path: "\(w)/requests/\(nobody)/files/\(nobody)", allowed: [.owner, .researcher]),
            Route(method: .post, path: "\(w)/requests/\(nobody)/workspace-files", allowed: [.owner, .researcher], body: "{}"),
            Route(method: .get, path: "\(w)/requests/\(nobody)/files/\(nobody)/preview", allowed: wsMembers),
            Route(method: .get, path: "\(w)/requests/\(nobody)/link", allowed: wsMembers),
            Route(method: .get, path: "/api/requests", allowed: core),
            Route(method: .get, path: "/api/airlock/notifications", allowed: a),
            // Audit
            Route(method: .get, path: "/api/audit", allowed: a),
            // Users of the TRE: an unknown user id (404) or an empty body (422) once authorised.
            Route(method: .get, path: "/api/users", allowed: a),
            Route(method: .post, path: "/api/users", allowed: a, body: "{}"),
            Route(method: .get, path: "/api/users/\(nobody)", allowed: a),
            Route(method: .patch, path: "/api/users/\(nobody)", allowed: a, body: "{}"),
            Route(method: .post, path: "/api/users/\(nobody)/invitation", allowed: a),
            Route(method: .post, path: "/api/users/\(nobody)/roles", allowed: a, body: "{}"),
            Route(method: .delete, path: "/api/users/\(nobody)/roles/TREAdmin", allowed: a),
            Route(method: .get, path: "\(w)/assignable-users", allowed: a),
        ]
        return routes
    }

    func setUp(_ api: APIClient) async throws -> Fixture {
        let admin = TestUsers.admin
        func lastOp(_ path: String, as user: User) async throws -> String {
            let ops = try await api.call(.get, "\(path)/operations", as: user).json["operations"]?.arrayValue ?? []
            return try #require(ops.last?["id"]?.stringValue)
        }
        let ws = try await api.createAndWait(
            "/api/workspaces", template: "tre-workspace-base",
            properties: ["workspace_owner_object_id": .string(Who.owner.user.id)])
        for (who, role) in [(Who.researcher, "WorkspaceResearcher"), (.manager, "AirlockManager")] {
            let reply = try await api.call(
                .post, "/api/workspaces/\(ws)/users/assign", as: admin,
                json: ["role_id": .string(role), "user_ids": [.string(who.user.id)]])
            #expect(reply.status == .accepted)
        }
        _ = try await api.createAndWait(
            "/api/workspaces", template: "tre-workspace-base",
            properties: ["workspace_owner_object_id": .string(Who.otherOwner.user.id)])
        let svc = try await api.createAndWait("/api/workspaces/\(ws)/workspace-services", template: "tre-service-jupyterlab", as: Who.owner.user)
        let svcPath = "/api/workspaces/\(ws)/workspace-services/\(svc)"
        let ur = try await api.createAndWait("\(svcPath)/user-resources", template: "tre-user-resource-notebook", as: Who.researcher.user)
        let fw = try await api.createAndWait("/api/shared-services", template: "tre-shared-service-firewall")
        return Fixture(
            ws: ws, svc: svc, ur: ur, fw: fw,
            wsOp: try await lastOp("/api/workspaces/\(ws)", as: admin),
            svcOp: try await lastOp(svcPath, as: Who.owner.user),
            urOp: try await lastOp("\(svcPath)/user-resources/\(ur)", as: Who.researcher.user),
            fwOp: try await lastOp("/api/shared-services/\(fw)", as: admin))
    }

    @Test("every route answers every role as the matrix says, and changes nothing on a refusal")
    func everyRouteForEveryRole() async throws {
        try await withAPI { api in
            let fixture = try await setUp(api)
            let routes = Self.routes(fixture)
            let store = api.enclave.deps.store
            let recordedBefore = try await store.auditRecords(AuditFilter(), after: nil, limit: 100_000).count
            var failures: [String] = []
            var refusals = 0
            for route in routes {
                for who in Who.allCases {
                    var headers: HTTPFields = [:]
                    if let etag = route.etag { headers[.etag] = etag }
                    let reply = try await api.call(route.method, route.path, as: who.user, raw: route.body, headers: headers)
                    let denied = reply.status == .forbidden || reply.status == .unauthorized
                    let shouldAllow = route.allowed.contains(who)
                    if !shouldAllow { refusals += 1 }
                    if shouldAllow && denied {
                        failures.append("\(route.method) \(route.path) as \(who): \(reply.status.code) \(reply.text)")
                    } else if !shouldAllow && reply.status != .forbidden {
                        failures.append("\(route.method) \(route.path) as \(who): expected 403, got \(reply.status.code) \(reply.text)")
                    }
                    if shouldAllow && reply.status.code >= 500 {
                        failures.append("\(route.method) \(route.path) as \(who): server error \(reply.text)")
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.joined(separator: "\n"))")
            // Nothing the allowed-but-invalid calls did changed state: W is still enabled and at version 0.
            let w = try await api.call(.get, "/api/workspaces/\(fixture.ws)", as: TestUsers.admin).json["workspace"]
            #expect(w?["isEnabled"] == true && w?["resourceVersion"] == 0)
            // Every refusal left exactly one `auth.denied` record, and nothing else was recorded by the calls.
            let recorded = try await store.auditRecords(AuditFilter(), after: recordedBefore, limit: 100_000)
            let denials = recorded.filter { $0.action == .authDenied }
            #expect(denials.count == refusals && recorded.count == refusals)
            #expect(denials.allSatisfy { $0.outcome == .denied && $0.requestId != nil })
        }
    }

    @Test("the table covers every /api route the router serves")
    func tableCoversEveryRoute() async throws {
        let enclave = try await TestEnclave.make(workers: 0)
        defer { enclave.remove() }
        let router = try buildRouter(enclave.deps)
        func shape(_ method: String, _ path: String) -> String {
            let parts = path.split(separator: "/").map { part -> String in
                part.hasPrefix(":") || part.hasPrefix("{") || UUID(uuidString: String(part)) != nil || part.hasPrefix("tre-")
                    || CoreRole(rawValue: String(part)) != nil
                    ? "*" : String(part)
            }
            return "\(method.uppercased()) /" + parts.joined(separator: "/")
        }
        // Only /api routes: the gateway's (/workspaces/{ws}/services/**) proxy every method to a tool and are
        // tested role by role, WebSocket included, against a real upstream in EnclaveGatewayTests.
        let served = Set(router.routes.map { shape($0.method.rawValue, $0.path.description) }.filter { $0.contains(" /api/") })
            .subtracting(["GET /api", "GET /api/ping", "GET /api/health", "GET /api/.metadata", "GET /api/openapi.json"])
        let id = UUID().uuidString
        let tabled = Set(Self.routes(Fixture(ws: id, svc: id, ur: id, fw: id, wsOp: id, svcOp: id, urOp: id, fwOp: id))
            .map { shape($0.method.rawValue, $0.path) })
        #expect(served.subtracting(tabled).isEmpty, "routes missing from the permission table: \(served.subtracting(tabled).sorted())")
    }
}
