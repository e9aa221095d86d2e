// The airlock through the API with the scanner switched off (`NoMalwareScanner`): the state machine,
// files streamed through the API, reviews, downloads and the processor's stage moves. Scanning with
// real ClamAV is tested in EnclaveAirlockTests and the end-to-end airlock test.
import Crypto
import EnclaveAirlock
import EnclaveCore
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A second airlock manager, for two-person review.
let manager2 = User(id: "mgr-0008", name: "Max Manager", email: "max@example.org", roles: ["TREUser"])

extension APIClient {
    /// A deployed restricted workspace with an owner, two researchers and two airlock managers.
    func airlockWorkspace(properties: JSONValue = [:]) async throws -> String {
        var props = properties.objectValue ?? [:]
        props["workspace_owner_object_id"] = .string(TestUsers.owner.id)
        let ws = try await createAndWait("/api/workspaces", template: "tre-workspace-base", properties: .object(props))
        for (role, users) in [
            ("WorkspaceResearcher", [TestUsers.researcher, TestUsers.researcher2]), ("AirlockManager", [TestUsers.manager, manager2]),
        ] {
            let reply = try await call(
                .post, "/api/workspaces/\(ws)/users/assign", as: TestUsers.admin,
                json: ["role_id": .string(role), "user_ids": .array(users.map { .string($0.id) })])
            #expect(reply.status == .accepted, "\(reply.text)")
        }
        return ws
    }

    func newRequest(_ ws: String, type: String, as user: User = TestUsers.researcher) async throws -> String {
        let reply = try await call(
            .post, "/api/workspaces/\(ws)/requests", as: user, json: ["type": .string(type), "title": "Cohort", "businessJustification": "Study 42"])
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply.json["airlockRequest"]?["id"]?.stringValue)
    }

    /// PUT of raw bytes (optionally one part, with Content-Range).
    func put(_ path: String, _ bytes: [UInt8], as user: User, range: String? = nil) async throws -> Reply {
        var headers = HTTPFields()
        headers[.authorization] = try await enclave.bearer(user)
        headers[.contentType] = "application/octet-stream"
        if let range { headers[.contentRange] = range }
        return try await client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
    }

    func status(_ ws: String, _ rid: String, as user: User = TestUsers.researcher) async throws -> String? {
        try await call(.get, "/api/workspaces/\(ws)/requests/\(rid)", as: user).json["airlockRequest"]?["status"]?.stringValue
    }

    /// Polls until the request reaches `status` (the processor works in the background).
    func waitFor(_ status: String, _ ws: String, _ rid: String, timeout: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last: String?
        while Date() < deadline {
            last = try await self.status(ws, rid)
            if last == status { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("request \(rid) is \(last ?? "?"), not \(status), after \(timeout) s")
    }
}

func sha256Hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

@Suite("Airlock API")
struct AirlockAPITests {
    @Test("import: create, upload two files, submit, review, approve; the files appear read-only in the workspace; every step audited")
    func importFlow() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let base = "/api/workspaces/\(ws)/requests"
            let created = try await api.call(.post, base, as: TestUsers.researcher, json: ["type": "import"])
            #expect(created.status == .created)
            #expect(created.json["airlockRequest"]?["status"] == "draft")
            #expect(created.json["airlockRequest"]?["title"] == "Airlock Request")
            #expect(created.json["allowedUserActions"] == ["cancel", "submit"])
            let rid = try #require(created.json["airlockRequest"]?["id"]?.stringValue)

            let cohort = Array("id,age\n1,40\n2,51\n".utf8)
            // Larger than the 1 MiB body limit of JSON routes: file bodies stream.
            let notes = [UInt8](repeating: 0x61, count: 3_000_000)
            let first = try await api.put("\(base)/\(rid)/files/cohort.csv", cohort, as: TestUsers.researcher)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.json["file"]?["sha256"] == .string(sha256Hex(cohort)))
            #expect(try await api.put("\(base)/\(rid)/files/read%20me.txt", notes, as: TestUsers.researcher).status == .created)
            let files = try await api.call(.get, "\(base)/\(rid)/files", as: TestUsers.researcher).json["files"]?.arrayValue ?? []
            #expect(files.map { $0["name"] } == ["cohort.csv", "read me.txt"])
            #expect(files.map { $0["size"] } == [.int(cohort.count), .int(notes.count)])

            let submitted = try await api.call(.post, "\(base)/\(rid)/submit", as: TestUsers.researcher)
            #expect(submitted.status == .ok, "\(submitted.text)")
            #expect(submitted.json["airlockRequest"]?["status"] == "submitted")
            try await api.waitFor("in_review", ws, rid)

            // Under review: the requester no longer reads the files; a manager does, and sees "review".
            #expect(try await api.call(.get, "\(base)/\(rid)/files/cohort.csv", as: TestUsers.researcher).status == .forbidden)
            let asManager = try await api.call(.get, "\(base)/\(rid)", as: TestUsers.manager)
            #expect(asManager.json["allowedUserActions"] == ["review"])
            let preview = try await api.call(.get, "\(base)/\(rid)/files/cohort.csv", as: TestUsers.manager)
            #expect(preview.status == .ok)
            #expect(Array(preview.body.readableBytesView) == cohort)

            let table = try await api.call(.get, "\(base)/\(rid)/files/cohort.csv/preview", as: TestUsers.manager)
            #expect(table.json == ["kind": "table", "columns": ["id", "age"], "rows": [["1", "40"], ["2", "51"]], "truncated": false])
            let text = try await api.call(.get, "\(base)/\(rid)/files/read%20me.txt/preview", as: TestUsers.manager)
            #expect(text.json["kind"] == "text")
            #expect(text.json["truncated"] == true)
            #expect(try await api.call(.get, "\(base)/\(rid)/files/cohort.csv/preview", as: TestUsers.researcher).status == .forbidden)

            let review = try await api.call(
                .post, "\(base)/\(rid)/review", as: TestUsers.manager, json: ["approval": true, "decisionExplanation": "Aggregate data only"])
            #expect(review.status == .ok, "\(review.text)")
            #expect(review.json["airlockRequest"]?["reviews"]?.arrayValue?.first?["decisionExplanation"] == "Aggregate data only")
            try await api.waitFor("approved", ws, rid)

            let imports = api.enclave.dataDir.appendingPathComponent("workspaces/\(ws)/imports/\(rid)")
            #expect(FileManager.default.contents(atPath: imports.appendingPathComponent("cohort.csv").path) == Data(cohort))
            let attributes = try FileManager.default.attributesOfItem(atPath: imports.appendingPathComponent("read me.txt").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o440)

            let records = try await api.call(.get, "/api/audit?target=/workspaces/\(ws)/requests/\(rid)", as: TestUsers.admin).json["auditRecords"]?
                .arrayValue ?? []
            let actions = records.compactMap { $0["action"]?.stringValue }
            for expected in [
                "airlock.create", "airlock.file_upload", "airlock.status_change", "airlock.scan", "airlock.review", "airlock.download", "airlock.preview",
            ] {
                #expect(actions.contains(expected), "missing \(expected) in \(actions)")
            }
            let statuses = records.filter { $0["action"] == "airlock.status_change" }.compactMap { $0["details"]?["status"]?.stringValue }
            #expect(statuses == ["submitted", "in_review", "approval_in_progress", "approved"])
            // The workspace's owner reads the same records; others do not; the scope cannot be widened.
            let ownersView = try await api.call(.get, "/api/workspaces/\(ws)/audit?target=/workspaces/\(ws)/requests/\(rid)", as: TestUsers.owner)
            #expect(ownersView.json["auditRecords"]?.arrayValue?.count == records.count)
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/audit", as: TestUsers.researcher).status == .forbidden)
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/audit?target=/workspaces", as: TestUsers.owner).status == .unprocessableContent)
        }
    }

    @Test("export with two approvals from workspace storage: votes stay hidden, the requester downloads, revoke stops downloads")
    func exportFlowWithTwoReviewers() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace(properties: ["airlock_required_approvals": 2])
            let base = "/api/workspaces/\(ws)/requests"
            let shared = api.enclave.dataDir.appendingPathComponent("workspaces/\(ws)/shared/results")
            try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
            let table = Array("group,count\na,12\nb,3\n".utf8)
            try Data(table).write(to: shared.appendingPathComponent("table.csv"))
            let rid = try await api.newRequest(ws, type: "export")

            let added = try await api.call(.post, "\(base)/\(rid)/workspace-files", as: TestUsers.researcher, json: ["path": "shared/results/table.csv"])
            #expect(added.status == .created, "\(added.text)")
            #expect(added.json["file"]?["source"] == "shared/results/table.csv")
            #expect(added.json["file"]?["sha256"] == .string(sha256Hex(table)))
            // Another user's home, traversal and symbolic links are refused.
            let refused = try await api.call(.post, "\(base)/\(rid)/workspace-files", as: TestUsers.researcher, json: ["path": .string("home/\(TestUsers.owner.id)/x")])
            #expect(refused.status == .forbidden)
            #expect(try await api.call(.post, "\(base)/\(rid)/workspace-files", as: TestUsers.researcher, json: ["path": "shared/../../x"]).status == .badRequest)
            try FileManager.default.createSymbolicLink(atPath: shared.appendingPathComponent("link.csv").path, withDestinationPath: "/etc/passwd")
            #expect(try await api.call(.post, "\(base)/\(rid)/workspace-files", as: TestUsers.researcher, json: ["path": "shared/results/link.csv"]).status == .badRequest)

            #expect(try await api.call(.post, "\(base)/\(rid)/submit", as: TestUsers.researcher).status == .ok)
            try await api.waitFor("in_review", ws, rid)
            // An export under review is not the researcher's to download.
            #expect(try await api.call(.get, "\(base)/\(rid)/files/table.csv", as: TestUsers.researcher).status == .forbidden)

            let firstVote = try await api.call(.post, "\(base)/\(rid)/review", as: TestUsers.manager, json: ["approval": true, "decisionExplanation": "Fine"])
            #expect(firstVote.status == .ok)
            #expect(firstVote.json["airlockRequest"]?["status"] == "in_review")
            // The second reviewer cannot see the first vote; the first cannot vote again.
            let seenBySecond = try await api.call(.get, "\(base)/\(rid)", as: manager2)
            #expect(seenBySecond.json["airlockRequest"]?["reviews"] == [])
            #expect(seenBySecond.json["allowedUserActions"] == ["review"])
            let again = try await api.call(.post, "\(base)/\(rid)/review", as: TestUsers.manager, json: ["approval": true, "decisionExplanation": "Again"])
            #expect(again.status == .conflict)
            let second = try await api.call(.post, "\(base)/\(rid)/review", as: manager2, json: ["approval": true, "decisionExplanation": "Agreed"])
            #expect(second.json["airlockRequest"]?["status"] == "approval_in_progress")
            try await api.waitFor("approved", ws, rid)

            let download = try await api.call(.get, "\(base)/\(rid)/files/table.csv", as: TestUsers.researcher)
            #expect(download.status == .ok)
            #expect(Array(download.body.readableBytesView) == table)
            #expect(download.headers[HTTPField.Name("X-Content-SHA256")!] == sha256Hex(table))
            let ranged = try await api.call(.get, "\(base)/\(rid)/files/table.csv", as: TestUsers.researcher, headers: [.range: "bytes=6-10"])
            #expect(ranged.status == .partialContent)
            #expect(ranged.text == "count")
            #expect(try await api.call(.get, "\(base)/\(rid)/files/table.csv", as: TestUsers.researcher2).status == .forbidden)

            let revoked = try await api.call(.post, "\(base)/\(rid)/revoke", as: TestUsers.manager, json: ["reason": "Disclosure risk found"])
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.json["airlockRequest"]?["status"] == "revoked")
            #expect(try await api.call(.get, "\(base)/\(rid)/files/table.csv", as: TestUsers.researcher).status == .forbidden)
            // The processor deletes a revoked request's data and records what it deleted.
            let deadline = Date().addingTimeInterval(10)
            var deletions: [JSONValue] = []
            while Date() < deadline, deletions.isEmpty {
                deletions = try await api.call(.get, "/api/audit?action=airlock.data_delete&target=/workspaces/\(ws)/requests/\(rid)", as: TestUsers.admin)
                    .json["auditRecords"]?.arrayValue ?? []
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(deletions.first?["details"]?["files"] == ["table.csv"])
            #expect(!FileManager.default.fileExists(atPath: api.enclave.dataDir.appendingPathComponent("airlock/approved/\(rid)").path))
        }
    }

    @Test("a large upload resumes with Content-Range; a part that does not continue the stored bytes is 416")
    func resumableUpload() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let rid = try await api.newRequest(ws, type: "import")
            let path = "/api/workspaces/\(ws)/requests/\(rid)/files/big.bin"
            let bytes = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let part1 = try await api.put(path, Array(bytes[0..<400_000]), as: TestUsers.researcher, range: "bytes 0-399999/1000000")
            #expect(part1.status == .accepted, "\(part1.text)")
            #expect(part1.json["received"] == 400_000)
            let listed = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(rid)/files", as: TestUsers.researcher)
            #expect(listed.json["uploads"] == [["name": "big.bin", "received": 400_000]])
            #expect(listed.json["files"] == [])
            let wrong = try await api.put(path, Array(bytes[500_000...]), as: TestUsers.researcher, range: "bytes 500000-999999/1000000")
            #expect(wrong.status == .rangeNotSatisfiable)
            #expect(wrong.text.contains("400000"))
            let part2 = try await api.put(path, Array(bytes[400_000...]), as: TestUsers.researcher, range: "bytes 400000-999999/1000000")
            #expect(part2.status == .created, "\(part2.text)")
            #expect(part2.json["file"]?["sha256"] == .string(sha256Hex(bytes)))
            #expect(part2.json["file"]?["size"] == 1_000_000)
        }
    }

    @Test("bad input changes nothing: names, empty and oversize files, malformed bodies, wrong roles, writes after submit")
    func badInput() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let base = "/api/workspaces/\(ws)/requests"
            #expect(try await api.call(.post, base, as: TestUsers.researcher, raw: "{not json").status == .unprocessableContent)
            #expect(try await api.call(.post, base, as: TestUsers.researcher, json: ["type": "sideways"]).status == .unprocessableContent)
            #expect(try await api.call(.post, base, as: TestUsers.manager, json: ["type": "import"]).status == .forbidden)
            #expect(try await api.call(.post, base, as: TestUsers.noRole, json: ["type": "import"]).status == .forbidden)
            let rid = try await api.newRequest(ws, type: "import")
            let files = "\(base)/\(rid)/files"
            for name in ["..%2F..%2Fetc%2Fpasswd", "a%2Fb", "..", "bad%01name", "nul%00", String(repeating: "x", count: 256)] {
                let reply = try await api.put("\(files)/\(name)", [1, 2, 3], as: TestUsers.researcher)
                #expect(reply.status == .badRequest, "\(name): \(reply.status) \(reply.text)")
            }
            #expect(try await api.put("\(files)/empty.txt", [], as: TestUsers.researcher).status == .badRequest)
            // Another researcher cannot add to someone else's draft.
            #expect(try await api.put("\(files)/theirs.txt", [1], as: TestUsers.researcher2).status == .forbidden)
            #expect(try await api.call(.post, "\(base)/\(rid)/submit", as: TestUsers.researcher).status == .badRequest)  // no files yet
            let listed = try await api.call(.get, files, as: TestUsers.researcher)
            #expect(listed.json["files"] == [])
            #expect(listed.json["uploads"] == [])

            #expect(try await api.put("\(files)/ok.txt", [1, 2, 3], as: TestUsers.researcher).status == .created)
            #expect(try await api.call(.post, "\(base)/\(rid)/review", as: TestUsers.manager, json: ["approval": true, "decisionExplanation": "x"]).status == .badRequest)
            #expect(try await api.call(.post, "\(base)/\(rid)/submit", as: TestUsers.researcher).status == .ok)
            #expect(try await api.put("\(files)/late.txt", [1], as: TestUsers.researcher).status == .conflict)
            #expect(try await api.call(.delete, "\(files)/ok.txt", as: TestUsers.researcher).status == .conflict)
            #expect(try await api.call(.post, "\(base)/\(rid)/submit", as: TestUsers.researcher).status == .badRequest)
            try await api.waitFor("in_review", ws, rid)
            let request = try await api.call(.get, "\(base)/\(rid)", as: TestUsers.researcher)
            #expect(request.json["airlockRequest"]?["files"]?.arrayValue?.count == 1)
            #expect(try await api.call(.post, "\(base)/\(rid)/review", as: TestUsers.manager, json: ["approval": true]).status == .unprocessableContent)
            #expect(try await api.call(.post, "\(base)/\(rid)/review", as: TestUsers.researcher, json: ["approval": true, "decisionExplanation": "me"]).status == .forbidden)
            #expect(try await api.call(.get, "\(base)/\(rid)?x=1", as: TestUsers.noRole).status == .forbidden)
            #expect(try await api.call(.get, "\(base)?order_by=1;DROP", as: TestUsers.researcher).status == .badRequest)
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/requests/nope", as: TestUsers.researcher).status == .notFound)
        }
    }

    @Test("an airlock manager cannot review their own request; a rejection by any reviewer rejects")
    func selfReviewAndRejection() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace(properties: ["airlock_required_approvals": 2])
            // The manager also researches here, and makes a request of their own.
            #expect(try await api.call(.post, "/api/workspaces/\(ws)/users/assign", as: TestUsers.admin,
                json: ["role_id": "WorkspaceResearcher", "user_ids": [.string(TestUsers.manager.id)]]).status == .accepted)
            let rid = try await api.newRequest(ws, type: "import", as: TestUsers.manager)
            let base = "/api/workspaces/\(ws)/requests/\(rid)"
            #expect(try await api.put("\(base)/files/a.txt", [1, 2], as: TestUsers.manager).status == .created)
            #expect(try await api.call(.post, "\(base)/submit", as: TestUsers.manager).status == .ok)
            try await api.waitFor("in_review", ws, rid)
            let own = try await api.call(.post, "\(base)/review", as: TestUsers.manager, json: ["approval": true, "decisionExplanation": "mine"])
            #expect(own.status == .forbidden)
            #expect(own.text.contains("own request"))
            let reject = try await api.call(.post, "\(base)/review", as: manager2, json: ["approval": false, "decisionExplanation": "Row-level data"])
            #expect(reject.json["airlockRequest"]?["status"] == "rejection_in_progress")
            try await api.waitFor("rejected", ws, rid)
            #expect(FileManager.default.fileExists(atPath: api.enclave.dataDir.appendingPathComponent("airlock/rejected/\(rid)/a.txt").path))
        }
    }

    @Test("concurrent submit and cancel: exactly one wins, the other is refused, the history is consistent")
    func concurrentSubmitAndCancel() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            for _ in 0..<3 {
                let rid = try await api.newRequest(ws, type: "import")
                let base = "/api/workspaces/\(ws)/requests/\(rid)"
                #expect(try await api.put("\(base)/files/a.txt", [1], as: TestUsers.researcher).status == .created)
                async let submit = api.call(.post, "\(base)/submit", as: TestUsers.researcher)
                async let cancel = api.call(.post, "\(base)/cancel", as: TestUsers.researcher)
                let (s, c) = try await (submit, cancel)
                let statuses = [s.status, c.status]
                // Either order is legal from draft, and cancel is also legal from in_review; never both failing.
                #expect(statuses.contains(.ok), "\(statuses)")
                let final = try await api.call(.get, base, as: TestUsers.researcher).json["airlockRequest"]
                let history = final?["history"]?.arrayValue ?? []
                // One history item per status change, chained: each starts where the one before ended.
                #expect(history.first?["previousStatus"] == "draft")
                #expect(history.last?["status"] == final?["status"])
                for (earlier, later) in zip(history, history.dropFirst()) { #expect(later["previousStatus"] == earlier["status"]) }
            }
        }
    }

    @Test("a workspace with the airlock disabled refuses requests with 405; GET /api/requests lists mine and, for managers, theirs to review")
    func disabledAndCrossWorkspace() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let closed = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base",
                properties: ["enable_airlock": false, "workspace_owner_object_id": .string(TestUsers.owner.id)])
            #expect(try await api.call(.post, "/api/workspaces/\(closed)/requests", as: TestUsers.owner, json: ["type": "import"]).status == .methodNotAllowed)
            let mine = try await api.newRequest(ws, type: "import")
            _ = try await api.newRequest(ws, type: "export", as: TestUsers.researcher2)
            let own = try await api.call(.get, "/api/requests", as: TestUsers.researcher).json.arrayValue ?? []
            #expect(own.map { $0["id"] } == [.string(mine)])
            let toReview = try await api.call(.get, "/api/requests?airlock_manager=true", as: TestUsers.manager).json.arrayValue ?? []
            #expect(toReview.count == 2)
            let filtered = try await api.call(.get, "/api/workspaces/\(ws)/requests?type=export", as: TestUsers.owner)
            #expect(filtered.json["airlockRequests"]?.arrayValue?.count == 1)
        }
    }

    @Test("GET …/link: a signed, expiring URL for the requester's tools; read-write in draft, read-only after, refused in processing; a tampered or foreign link is refused")
    func signedLinks() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let rid = try await api.newRequest(ws, type: "import")
            let reply = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(rid)/link", as: TestUsers.researcher)
            #expect(reply.status == .ok, "\(reply.text)")
            let url = try #require(reply.json["containerUrl"]?.stringValue)
            let components = try #require(URLComponents(string: url))
            let path = components.path
            let query = try #require(components.percentEncodedQuery)
            #expect(path == "/airlock-links/\(ws)/\(rid)")
            func link(_ method: HTTPRequest.Method, _ suffix: String, query: String, body: [UInt8]? = nil) async throws -> APIClient.Reply {
                try await api.client.execute(uri: "\(path)\(suffix)?\(query)", method: method, headers: [:], body: body.map { ByteBuffer(bytes: $0) }) {
                    APIClient.Reply(status: $0.status, headers: $0.headers, body: $0.body)
                }
            }
            // Without any token: the link alone uploads, lists and reads back in draft.
            #expect(try await link(.put, "/files/data.csv", query: query, body: Array("a,b\n1,2\n".utf8)).status == .created)
            #expect(try await link(.get, "/files", query: query).json["files"]?.arrayValue?.count == 1)
            #expect(try await link(.get, "/files/data.csv", query: query).text == "a,b\n1,2\n")
            // Tampering with any part breaks the signature; another user's id cannot be swapped in.
            var swapped = components
            swapped.queryItems = components.queryItems?.map { $0.name == "user" ? URLQueryItem(name: "user", value: TestUsers.owner.id) : $0 }
            let forged = try #require(swapped.percentEncodedQuery)
            #expect(forged != query)
            #expect(try await link(.get, "/files", query: forged).status == .unauthorized)
            #expect(try await link(.get, "/files", query: query.replacingOccurrences(of: "perm=rwdl", with: "perm=rwdlx")).status == .unauthorized)
            #expect(try await link(.get, "/files", query: "").status == .unauthorized)
            // Someone without a role in the workspace gets nothing from the API either.
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/requests/\(rid)/link", as: TestUsers.noRole).status == .forbidden)
            // After submit: the draft link no longer writes (the request is not a draft), and no link while processing.
            #expect(try await api.call(.post, "/api/workspaces/\(ws)/requests/\(rid)/submit", as: TestUsers.researcher).status == .ok)
            #expect(try await link(.put, "/files/late.csv", query: query, body: [1]).status == .conflict)
            try await api.waitFor("in_review", ws, rid)
            // In review the requester's link reads nothing: files under review are for managers and owners.
            #expect(try await link(.get, "/files/data.csv", query: query).status == .forbidden)
            let managerLink = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(rid)/link", as: TestUsers.manager)
            let managerURL = try #require(managerLink.json["containerUrl"]?.stringValue.flatMap(URLComponents.init(string:)))
            #expect(managerURL.percentEncodedQuery?.contains("perm=rl&") == true)
            let managerQuery = try #require(managerURL.percentEncodedQuery)
            #expect(try await link(.get, "/files/data.csv", query: managerQuery).status == .ok)
            #expect(try await link(.put, "/files/x.csv", query: managerQuery, body: [1]).status == .forbidden)
        }
    }

    @Test("auto_reject: an ACRO results.json naming a file the export lacks fails its check hard, and the workspace's auto_reject rejects at once")
    func autoRejectOnHardFailure() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace(properties: ["airlock_output_checks": ["auto_reject": true]])
            let rid = try await api.newRequest(ws, type: "export")
            let base = "/api/workspaces/\(ws)/requests/\(rid)"
            let results = #"{"version": "0.4.5", "results": {"output_0": {"uid": "output_0", "status": "pass", "type": "table", "files": [{"name": "table.csv"}], "summary": "pass"}}}"#
            #expect(try await api.put("\(base)/files/results.json", Array(results.utf8), as: TestUsers.researcher).status == .created)
            #expect(try await api.put("\(base)/files/notes.txt", Array("no table here".utf8), as: TestUsers.researcher).status == .created)
            #expect(try await api.call(.post, "\(base)/submit", as: TestUsers.researcher).status == .ok)
            try await api.waitFor("rejected", ws, rid)
            let request = try await api.call(.get, base, as: TestUsers.researcher).json["airlockRequest"]
            #expect(request?["statusMessage"]?.stringValue?.contains("auto_reject") == true, "\(request ?? .null)")
            #expect(request?["reviews"]?.arrayValue?.first?["reviewDecision"] == "rejected")
            let statuses = (request?["history"]?.arrayValue ?? []).compactMap { $0["status"]?.stringValue }
            #expect(statuses == ["submitted", "in_review", "rejection_in_progress", "rejected"])
        }
    }
}
