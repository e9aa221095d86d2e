import EnclaveAuth
import EnclaveCore
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/api/users…` and `assignable-users` through the real router: what admins see and change, and that
/// every refused change leaves accounts and the audit log as they were.
@Suite("Users API")
struct UsersAPITests {
    /// A control plane without workers (nothing here deploys), optionally on a hand-moved clock.
    func withUsersAPI(clock: TestClock? = nil, _ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let enclave =
            if let clock { try await TestEnclave.make(workers: 0, environment: clock.environment) } else {
                try await TestEnclave.make(workers: 0)
            }
        defer { enclave.remove() }
        let app = try buildApplication(enclave.deps)
        try await app.test(.router) { client in try await body(APIClient(client: client, enclave: enclave)) }
    }

    let admin = TestUsers.admin

    /// Accounts and the number of audit records: what "nothing changed" compares.
    func snapshot(_ api: APIClient) async throws -> ([UserAccount], Int) {
        let store = api.enclave.deps.store
        return (try await store.users(), try await store.auditRecords(AuditFilter(), after: nil, limit: 100_000).count)
    }

    func invite(_ api: APIClient, _ username: String, roles: [String] = ["TREUser"]) async throws -> (id: String, url: String) {
        let reply = try await api.call(
            .post, "/api/users", as: admin,
            json: ["username": .string(username), "email": .string("\(username)@example.org"), "roles": .array(roles.map(JSONValue.string))])
        #expect(reply.status == .created, "\(reply.text)")
        return (try #require(reply.json["user"]?["id"]?.stringValue), try #require(reply.json["invitationUrl"]?.stringValue))
    }

    /// The path and query of an absolute link, for the in-process client.
    func local(_ url: String) throws -> String {
        let components = try #require(URLComponents(string: url))
        return components.percentEncodedPath + "?" + (components.percentEncodedQuery ?? "")
    }

    // MARK: Reading

    @Test("admins list built-in accounts and users seen from other tokens, filter them, and read one")
    func listAndRead() async throws {
        try await withUsersAPI { api in
            let (rosa, _) = try await TestAccounts.create(api.enclave)
            // Ezra is known only from his token (another issuer's user).
            let ezra = User(id: "ext-ezra", name: "Ezra External", email: "ezra@corp.example", roles: ["TREUser"])
            #expect(try await api.call(.get, "/api/operations", as: ezra).status == .ok)

            let all = try await api.call(.get, "/api/users", as: admin)
            #expect(all.status == .ok)
            let users = try #require(all.json["users"]?.arrayValue)
            #expect(users.first?["id"]?.stringValue == rosa.id)
            let row = try #require(users.first)
            #expect(row["username"] == "rosa" && row["source"] == "builtin" && row["enabled"] == true)
            #expect(row["mfaEnrolled"] == true && row["roles"] == ["TREUser"] && row["lastSeen"] == .null)
            let external = try #require(users.first { $0["id"] == "ext-ezra" })
            #expect(external["source"] == "external" && external["username"] == "ezra@corp.example" && external["roles"] == ["TREUser"])
            #expect(external["lastSeen"]?.numberValue != nil && external["mfaEnrolled"] == false)
            // The admin calling is itself a user seen from a token.
            #expect(users.contains { $0["id"] == .string(admin.id) })

            let filtered = try await api.call(.get, "/api/users?filter=CORP.example", as: admin)
            #expect(filtered.json["users"]?.arrayValue?.map { $0["id"] } == ["ext-ezra"])

            let one = try await api.call(.get, "/api/users/\(rosa.id)", as: admin)
            #expect(one.status == .ok && one.json["user"]?["username"] == "rosa")
            let unknown = try await api.call(.get, "/api/users/nobody-here", as: admin)
            #expect(unknown.status == .notFound && unknown.text.contains("No user has the id 'nobody-here'"))
        }
    }

    @Test("every users route refuses a non-admin with 403, records the denial and changes nothing")
    func nonAdminsAreRefused() async throws {
        try await withUsersAPI { api in
            let (rosa, _) = try await TestAccounts.create(api.enclave, username: "rosa", roles: ["TREAdmin"])
            let before = try await snapshot(api)
            let routes: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/api/users", nil), (.get, "/api/users/\(rosa.id)", nil),
                (.post, "/api/users", #"{"username":"eve","email":"eve@example.org"}"#),
                (.patch, "/api/users/\(rosa.id)", #"{"enabled":false}"#),
                (.post, "/api/users/\(rosa.id)/invitation", nil),
                (.post, "/api/users/\(rosa.id)/roles", #"{"role":"TREAdmin"}"#),
                (.delete, "/api/users/\(rosa.id)/roles/TREAdmin", nil),
            ]
            for (method, path, body) in routes {
                for user in [TestUsers.treUser, TestUsers.noRole] {
                    let reply = try await api.call(method, path, as: user, raw: body)
                    #expect(reply.status == .forbidden, "\(method) \(path) as \(user.id): \(reply.status)")
                    #expect(reply.text.contains("missing a required role: ['TREAdmin']"))
                }
            }
            let after = try await snapshot(api)
            #expect(after.0 == before.0)
            let denials = try await api.enclave.deps.store.auditRecords(AuditFilter(action: "auth.denied"), after: nil, limit: 100)
            #expect(denials.count == routes.count * 2 && after.1 == before.1 + routes.count * 2)
        }
    }

    // MARK: Inviting

    @Test("an invitation creates an account without password and answers a link valid for 7 days; both audited")
    func inviteCreatesAccountAndLink() async throws {
        let clock = TestClock(1_700_000_000)
        try await withUsersAPI(clock: clock) { api in
            let reply = try await api.call(
                .post, "/api/users", as: admin,
                json: ["username": "Rosa", "name": "Rosa Franklin", "email": "rosa@example.org", "roles": ["TREUser", "TREAdmin"]])
            #expect(reply.status == .created, "\(reply.text)")
            let user = try #require(reply.json["user"])
            #expect(user["username"] == "rosa" && user["name"] == "Rosa Franklin" && user["roles"] == ["TREUser", "TREAdmin"])
            #expect(user["source"] == "builtin" && user["enabled"] == true && user["mfaEnrolled"] == false)
            let issuer = api.enclave.deps.configuration.providerIssuer
            let url = try #require(reply.json["invitationUrl"]?.stringValue)
            #expect(url.hasPrefix("\(issuer)/invitation?token="))
            #expect(reply.json["expiresAt"]?.numberValue == clock.now + 7 * 24 * 3600)

            let id = try #require(user["id"]?.stringValue)
            let account = try #require(try await api.enclave.deps.store.user(id: id))
            #expect(account.passwordHash == nil)
            let records = try await api.enclave.deps.store.auditRecords(AuditFilter(target: "/api/users/\(id)"), after: nil, limit: 10)
            #expect(records.map(\.action) == [.userCreate, .userInvite])
            #expect(records.allSatisfy { $0.actor.id == admin.id && $0.requestId != nil })
            // Without roles the invited user is a TREUser.
            let plain = try await api.call(.post, "/api/users", as: admin, json: ["username": "tom", "email": "tom@example.org"])
            #expect(plain.json["user"]?["roles"] == ["TREUser"] && plain.json["user"]?["name"] == "tom")
        }
    }

    @Test("bad invitations get 400, 409 or 422 with a message, and create and record nothing")
    func badInvitations() async throws {
        try await withUsersAPI { api in
            _ = try await invite(api, "taken")
            let before = try await snapshot(api)
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"username":"has space","email":"a@example.org"}"#, .badRequest, "A username may contain only"),
                (#"{"username":"","email":"a@example.org"}"#, .badRequest, "1 to 64 characters"),
                (#"{"username":"ok","email":"not-an-email"}"#, .badRequest, "is not an email address"),
                (#"{"username":"ok","email":"a@example.org","roles":["Root"]}"#, .badRequest, "Unknown role 'Root'"),
                (#"{"username":"ok","email":"a@example.org","roles":["AirlockManager"]}"#, .badRequest, "is a workspace role"),
                (#"{"username":"ok","email":"a@example.org","name":"two\nlines"}"#, .badRequest, "control characters"),
                (#"{"username":"TAKEN","email":"a@example.org"}"#, .conflict, "A user named 'taken' already exists"),
                (#"{"username":"ok"}"#, .unprocessableContent, "field 'email' is required"),
                (#"{"username":"ok","email":"a@example.org","roles":"TREUser"}"#, .unprocessableContent, "'roles' must be"),
                ("not json", .unprocessableContent, "not valid JSON"),
            ]
            for (body, status, message) in cases {
                let reply = try await api.call(.post, "/api/users", as: admin, raw: body)
                #expect(reply.status == status, "\(body): \(reply.status) \(reply.text)")
                #expect(reply.text.contains(message), "\(body): \(reply.text)")
                #expect(reply.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
            let after = try await snapshot(api)
            #expect(after.0 == before.0 && after.1 == before.1)
        }
    }

    @Test("the invited user chooses a password, enrolls TOTP and signs in; the link then works no more (replay audited)")
    func invitationIsUsedOnce() async throws {
        try await withUsersAPI { api in
            let (id, url) = try await invite(api, "rosa")
            var browser = SignInBrowser(api)
            let page = try await browser.get(try local(url))
            #expect(page.status == .ok && page.text.contains("Choose your password") && page.text.contains("<strong>rosa</strong>"))
            #expect(page.headers[.setCookie]?.contains("HttpOnly") == true)
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")

            let short = try await browser.post(["password": "short", "confirm": "short"])
            #expect(short.text.contains("at least 12 characters"))
            let differ = try await browser.post(["password": TestAccounts.password, "confirm": TestAccounts.password + "!"])
            #expect(differ.text.contains("not the same"))
            #expect(try await api.enclave.deps.store.user(id: id)?.passwordHash == nil)

            let enroll = try await browser.post(["password": TestAccounts.password, "confirm": TestAccounts.password])
            #expect(enroll.text.contains("Set up your authenticator"), "\(enroll.text)")
            let secret = Base32.decode(try #require(SignInBrowser.capture(#"id="totp-secret">([^<]+)<"#, in: enroll.text)))
            let recovery = try await browser.post(["code": TOTPCode(secret: secret).code(at: Date())])
            #expect(recovery.text.contains("Recovery codes"), "\(recovery.text)")
            let done = try await browser.post([:])
            #expect(done.text.contains("The account &#39;rosa&#39; is ready"), "\(done.text)")

            // Her password now signs her in like anyone else's: the next page asks for her authenticator's code.
            var signIn = SignInBrowser(api)
            _ = try await signIn.authorize(verifier: makeVerifier())
            let password = try await signIn.post(["username": "rosa", "password": TestAccounts.password])
            #expect(password.text.contains("Authenticator code"), "\(password.text)")

            var replay = SignInBrowser(api)
            let again = try await replay.get(try local(url))
            #expect(again.status == .forbidden && again.text.contains("already been used"))
            let refused = try await TestAccounts.audit(api.enclave, "auth.invitation_refused")
            #expect(refused.count == 1 && refused.first?.details["reason"] == "already used")
            #expect(refused.first?.actor.id == id && refused.first?.outcome == .denied)
            #expect(try await TestAccounts.audit(api.enclave, "user.invitation_accept").map(\.target) == ["/api/users/\(id)"])
        }
    }

    @Test("a link opened twice sets one password: the second page's post is refused as a replay")
    func twoPagesOfOneLinkSetOnePassword() async throws {
        try await withUsersAPI { api in
            let (id, url) = try await invite(api, "rosa")
            var first = SignInBrowser(api)
            var second = SignInBrowser(api)
            #expect(try await first.get(try local(url)).status == .ok)
            #expect(try await second.get(try local(url)).status == .ok)
            let winner = try await first.post(["password": TestAccounts.password, "confirm": TestAccounts.password])
            #expect(winner.text.contains("Set up your authenticator"))
            let hash = try #require(try await api.enclave.deps.store.user(id: id)?.passwordHash)
            let loser = try await second.post(["password": "another long password", "confirm": "another long password"])
            #expect(loser.status == .forbidden && loser.text.contains("already been used"))
            #expect(try await api.enclave.deps.store.user(id: id)?.passwordHash == hash)
        }
    }

    @Test("an expired link is refused and audited; a re-issued link replaces the old one")
    func expiryAndReissue() async throws {
        let clock = TestClock()
        try await withUsersAPI(clock: clock) { api in
            let (id, url) = try await invite(api, "rosa")
            clock.advance(by: 7 * 24 * 3600 + 1)
            var browser = SignInBrowser(api)
            let expired = try await browser.get(try local(url))
            #expect(expired.status == .forbidden && expired.text.contains("has expired"))
            #expect(try await TestAccounts.audit(api.enclave, "auth.invitation_refused").first?.details["reason"] == "expired")

            let reissued = try await api.call(.post, "/api/users/\(id)/invitation", as: admin)
            #expect(reissued.status == .created, "\(reissued.text)")
            let newURL = try #require(reissued.json["invitationUrl"]?.stringValue)
            #expect(newURL != url && reissued.json["user"]?["id"] == .string(id))
            #expect(try await browser.get(try local(newURL)).status == .ok)
            var other = SignInBrowser(api)
            let old = try await other.get(try local(url))
            #expect(old.status == .forbidden && old.text.contains("not valid"))
            let reasons = try await TestAccounts.audit(api.enclave, "auth.invitation_refused").map { $0.details["reason"] }
            #expect(reasons == ["expired", "unknown or superseded link"])
            let invites = try await TestAccounts.audit(api.enclave, "user.invite")
            #expect(invites.count == 2 && invites.last?.details["reissue"] == true)
        }
    }

    @Test("re-inviting: 409 once a password is set or for an external user, 404 for nobody; a disabled account's link is refused")
    func reissueRefusals() async throws {
        try await withUsersAPI { api in
            let (withPassword, _) = try await TestAccounts.create(api.enclave)
            let ezra = User(id: "ext-ezra", name: "Ezra", email: "ezra@corp.example", roles: ["TREUser"])
            _ = try await api.call(.get, "/api/operations", as: ezra)
            let (pending, url) = try await invite(api, "tom")
            let before = try await snapshot(api)
            let password = try await api.call(.post, "/api/users/\(withPassword.id)/invitation", as: admin)
            #expect(password.status == .conflict && password.text.contains("already set a password"))
            let external = try await api.call(.post, "/api/users/ext-ezra/invitation", as: admin)
            #expect(external.status == .conflict && external.text.contains("identity provider"))
            #expect(try await api.call(.post, "/api/users/nobody/invitation", as: admin).status == .notFound)
            let after = try await snapshot(api)
            #expect(after.0 == before.0 && after.1 == before.1)

            #expect(try await api.call(.patch, "/api/users/\(pending)", as: admin, json: ["enabled": false]).status == .ok)
            var browser = SignInBrowser(api)
            let page = try await browser.get(try local(url))
            #expect(page.status == .forbidden && page.text.contains("can no longer be used"))
            let disabled = try await api.call(.post, "/api/users/\(pending)/invitation", as: admin)
            #expect(disabled.status == .conflict && disabled.text.contains("is disabled"))
        }
    }

    // MARK: Enabling and roles

    @Test("disabling and enabling a built-in account: 200, audited once per real change; external users are 409")
    func enableDisable() async throws {
        try await withUsersAPI { api in
            let (rosa, _) = try await TestAccounts.create(api.enclave)
            let disabled = try await api.call(.patch, "/api/users/\(rosa.id)", as: admin, json: ["enabled": false])
            #expect(disabled.status == .ok && disabled.json["user"]?["enabled"] == false)
            #expect(try await api.call(.patch, "/api/users/\(rosa.id)", as: admin, json: ["enabled": false]).status == .ok)
            #expect(try await api.enclave.deps.store.user(id: rosa.id)?.enabled == false)
            let enabled = try await api.call(.patch, "/api/users/\(rosa.id)", as: admin, json: ["enabled": true])
            #expect(enabled.json["user"]?["enabled"] == true)
            let records = try await TestAccounts.audit(api.enclave, "user.update")
            #expect(records.map { $0.details["change"] } == ["disable", "enable"])
            #expect(records.allSatisfy { $0.target == "/api/users/\(rosa.id)" && $0.actor.id == admin.id })

            let ezra = User(id: "ext-ezra", name: "Ezra", email: "ezra@corp.example", roles: ["TREUser"])
            _ = try await api.call(.get, "/api/operations", as: ezra)
            let before = try await snapshot(api)
            let external = try await api.call(.patch, "/api/users/ext-ezra", as: admin, json: ["enabled": false])
            #expect(external.status == .conflict)
            #expect(external.text == "'ezra@corp.example' is managed by the identity provider that signs their tokens, not by Enclave: disable or enable them there")
            for body in ["{}", #"{"enabled":"no"}"#, #"{"enabled":false,"roles":[]}"#, #"{"enabled":null}"#] {
                let reply = try await api.call(.patch, "/api/users/\(rosa.id)", as: admin, raw: body)
                #expect(reply.status == .unprocessableContent, "\(body): \(reply.status)")
                #expect(reply.text.contains(#"{"enabled": true}"#), "\(body): \(reply.text)")
            }
            #expect(try await api.call(.patch, "/api/users/nobody", as: admin, json: ["enabled": false]).status == .notFound)
            let after = try await snapshot(api)
            #expect(after.0 == before.0 && after.1 == before.1)
        }
    }

    @Test("core roles are added and removed (idempotent, audited per change); unknown roles 400, external 409, unknown users 404")
    func roles() async throws {
        try await withUsersAPI { api in
            let (rosa, _) = try await TestAccounts.create(api.enclave)
            let added = try await api.call(.post, "/api/users/\(rosa.id)/roles", as: admin, json: ["role": "TREAdmin"])
            #expect(added.status == .ok && added.json["user"]?["roles"] == ["TREUser", "TREAdmin"])
            let again = try await api.call(.post, "/api/users/\(rosa.id)/roles", as: admin, json: ["role": "TREAdmin"])
            #expect(again.status == .ok && again.json["user"]?["roles"] == ["TREUser", "TREAdmin"])
            let removed = try await api.call(.delete, "/api/users/\(rosa.id)/roles/TREUser", as: admin)
            #expect(removed.status == .ok && removed.json["user"]?["roles"] == ["TREAdmin"])
            #expect(try await api.call(.delete, "/api/users/\(rosa.id)/roles/TREUser", as: admin).status == .ok)
            let records = try await TestAccounts.audit(api.enclave, "user").filter { $0.action.rawValue.hasPrefix("user.role_") }
            #expect(records.map(\.action) == [.userRoleAdd, .userRoleRemove])
            #expect(records.map { $0.details["role"] } == ["TREAdmin", "TREUser"] && records.allSatisfy { $0.requestId != nil })

            let ezra = User(id: "ext-ezra", name: "Ezra", email: "ezra@corp.example", roles: ["TREUser"])
            _ = try await api.call(.get, "/api/operations", as: ezra)
            let before = try await snapshot(api)
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                (.post, "/api/users/\(rosa.id)/roles", #"{"role":"Root"}"#, .badRequest, "Unknown role 'Root'"),
                (.post, "/api/users/\(rosa.id)/roles", #"{"role":"WorkspaceOwner"}"#, .badRequest, "is a workspace role"),
                (.post, "/api/users/\(rosa.id)/roles", #"{"rol":"TREAdmin"}"#, .unprocessableContent, "field 'role' is required"),
                (.delete, "/api/users/\(rosa.id)/roles/treadmin", nil, .badRequest, "Unknown role 'treadmin'"),
                (.post, "/api/users/ext-ezra/roles", #"{"role":"TREAdmin"}"#, .conflict, "managed by the identity provider"),
                (.delete, "/api/users/ext-ezra/roles/TREUser", nil, .conflict, "their roles come from its tokens"),
                (.post, "/api/users/nobody/roles", #"{"role":"TREAdmin"}"#, .notFound, "No user has the id 'nobody'"),
                (.delete, "/api/users/nobody/roles/TREAdmin", nil, .notFound, "No user has the id 'nobody'"),
            ]
            for (method, path, body, status, message) in cases {
                let reply = try await api.call(method, path, as: admin, raw: body)
                #expect(reply.status == status && reply.text.contains(message), "\(method) \(path): \(reply.status) \(reply.text)")
            }
            let after = try await snapshot(api)
            #expect(after.0 == before.0 && after.1 == before.1)
        }
    }

    @Test("the last enabled built-in TREAdmin can be neither disabled nor demoted (409, nothing changes)")
    func lastAdmin() async throws {
        try await withUsersAPI { api in
            let (ada, _) = try await TestAccounts.create(api.enclave, username: "ada", roles: ["TREAdmin"])
            let (tom, _) = try await TestAccounts.create(api.enclave, username: "tom", roles: ["TREUser"])
            let before = try await snapshot(api)
            let disable = try await api.call(.patch, "/api/users/\(ada.id)", as: admin, json: ["enabled": false])
            #expect(disable.status == .conflict && disable.text.contains("'ada' is the last TREAdmin: disabling it"))
            let demote = try await api.call(.delete, "/api/users/\(ada.id)/roles/TREAdmin", as: admin)
            #expect(demote.status == .conflict && demote.text.contains("'ada' is the last TREAdmin: removing its TREAdmin role"))
            let after = try await snapshot(api)
            #expect(after.0 == before.0 && after.1 == before.1)

            // With a second admin, the first can go.
            #expect(try await api.call(.post, "/api/users/\(tom.id)/roles", as: admin, json: ["role": "TREAdmin"]).status == .ok)
            #expect(try await api.call(.delete, "/api/users/\(ada.id)/roles/TREAdmin", as: admin).status == .ok)
            #expect(try await api.call(.patch, "/api/users/\(tom.id)", as: admin, json: ["enabled": false]).status == .conflict)
        }
    }

    @Test("two admins taken away at the same moment: exactly one request succeeds and one admin remains, round after round")
    func concurrentLastAdminRace() async throws {
        try await withUsersAPI { api in
            var survivor = try await TestAccounts.create(api.enclave, username: "admin0", roles: ["TREAdmin"]).account.id
            for round in 1...6 {
                let newcomer = try await TestAccounts.create(api.enclave, username: "admin\(round)", roles: ["TREAdmin"]).account.id
                let (a, b) = (survivor, newcomer)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    group.addTask { try await api.call(.delete, "/api/users/\(a)/roles/TREAdmin", as: TestUsers.admin).status }
                    group.addTask { try await api.call(.patch, "/api/users/\(b)", as: TestUsers.admin, json: ["enabled": false]).status }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.sorted { $0.code < $1.code } == [.ok, .conflict], "round \(round): \(statuses)")
                let admins = try await api.enclave.deps.store.users().filter(\.isEnabledAdmin)
                #expect(admins.count == 1, "round \(round): \(admins.map(\.username))")
                survivor = try #require(admins.first?.id)
            }
        }
    }

    // MARK: Assignable users

    @Test("assignable-users lists enabled users matching the filter, at most maxResultCount, in Azure TRE's shape")
    func assignableUsers() async throws {
        try await withUsersAPI { api in
            let created = try await api.call(
                .post, "/api/workspaces", as: admin,
                json: ["templateName": "tre-workspace-base", "properties": ["display_name": "W", "description": "d"]])
            let ws = try #require(created.json["operation"]?["resourceId"]?.stringValue)
            try await TestAccounts.create(api.enclave, username: "rosa")
            try await TestAccounts.create(api.enclave, username: "rob")
            let (off, _) = try await TestAccounts.create(api.enclave, username: "roland")
            _ = try await api.call(.patch, "/api/users/\(off.id)", as: admin, json: ["enabled": false])

            let reply = try await api.call(.get, "/api/workspaces/\(ws)/assignable-users?filter=ro", as: admin)
            #expect(reply.status == .ok)
            let users = try #require(reply.json["assignable_users"]?.arrayValue)
            #expect(users.map { $0["userPrincipalName"] } == ["rob", "rosa"])
            #expect(users.first?.objectValue?.keys.sorted() == ["displayName", "email", "id", "name", "userPrincipalName"])
            #expect(users.first?["email"] == "rob@example.org" && users.first?["displayName"] == "Rosa Franklin")
            let one = try await api.call(.get, "/api/workspaces/\(ws)/assignable-users?filter=ro&maxResultCount=1", as: admin)
            #expect(one.json["assignable_users"]?.arrayValue?.count == 1)
            let everyone = try await api.call(.get, "/api/workspaces/\(ws)/assignable-users", as: admin)
            #expect(everyone.json["assignable_users"]?.arrayValue?.count == 3)

            #expect(try await api.call(.get, "/api/workspaces/\(ws)/assignable-users?maxResultCount=0", as: admin).status == .unprocessableContent)
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/assignable-users?maxResultCount=x", as: admin).status == .unprocessableContent)
            #expect(try await api.call(.get, "/api/workspaces/\(UUID().uuidString)/assignable-users", as: admin).status == .notFound)
            #expect(try await api.call(.get, "/api/workspaces/nope/assignable-users", as: admin).status == .unprocessableContent)
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/assignable-users", as: TestUsers.treUser).status == .forbidden)
        }
    }
}
