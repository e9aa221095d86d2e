// The airlock pages (`/airlock`, `/workspaces/{id}/airlock`, `…/new`, `…/{rid}`) with the test harness's
// airlock: no malware scanner (`NoMalwareScanner`, files read "not scanned"), the real output checks.
// Uploads go through the API exactly as `airlock-upload.js` sends them: session cookie + X-CSRF-Token.
import EnclaveCore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

extension PortalBrowser {
    /// A PUT of raw bytes to the API as the upload script sends it: the session cookie, `X-CSRF-Token`
    /// (nil: none) and, for a part, `Content-Range`.
    func putFile(_ path: String, _ bytes: [UInt8], csrf: String?, range: String? = nil) async throws -> APIClient.Reply {
        var headers = HTTPFields()
        headers[.cookie] = browser.cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        headers[.contentType] = "application/octet-stream"
        if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        if let range { headers[.contentRange] = range }
        return try await browser.api.client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: bytes)) {
            APIClient.Reply(status: $0.status, headers: $0.headers, body: $0.body)
        }
    }

    /// Creates a request through the new-request form and returns its id (from the redirect to its page).
    mutating func createRequest(_ ws: String, type: String, title: String = "Cohort tables") async throws -> String {
        _ = try await get("/workspaces/\(ws)/airlock/new")
        let reply = try await post("/workspaces/\(ws)/airlock/new", ["type": type, "title": title, "businessJustification": "Study 42"])
        #expect(reply.status == .seeOther, "\(reply.text)")
        let location = try #require(reply.location)
        #expect(location.hasPrefix("/workspaces/\(ws)/airlock/"))
        return String(location.split(separator: "/").last ?? "")
    }
}

/// A deployed airlock workspace (`airlockWorkspace`) with two portal accounts: rosa a researcher, mia an airlock manager.
func airlockPortal(_ api: APIClient) async throws -> (String, PortalBrowser, PortalBrowser) {
    let ws = try await api.airlockWorkspace()
    let rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
    try await rosa.grant(.researcher, in: ws, api: api)
    let mia = try await PortalBrowser.signIn(api, username: "mia", roles: ["TREUser"])
    try await mia.grant(.airlockManager, in: ws, api: api)
    return (ws, rosa, mia)
}

/// The page's `data-csrf`, which the upload script sends as X-CSRF-Token.
func uploadToken(_ page: String) -> String? { SignInBrowser.capture("data-csrf=\"([^\"]+)\"", in: page) }

@Suite("Portal: airlock pages")
struct PortalAirlockTests {
    @Test("import: a researcher creates it through the form, uploads two files as the script does, submits; a manager finds it, previews the CSV as a table and approves")
    func importThroughThePortal() async throws {
        try await withAPI { api in
            let (ws, rosaSignedIn, miaSignedIn) = try await airlockPortal(api)
            var rosa = rosaSignedIn, mia = miaSignedIn

            let empty = try await rosa.get("/workspaces/\(ws)/airlock")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("href=\"/workspaces/\(ws)/airlock/new\""))
            #expect(empty.text.contains("This workspace has no airlock requests yet."))
            #expect(try await rosa.get("/airlock").text.contains("You have made no airlock requests."))

            let rid = try await rosa.createRequest(ws, type: "import", title: "<script>alert(1)</script>")
            let base = "/workspaces/\(ws)/airlock/\(rid)"
            let draft = try await rosa.get(base)
            #expect(draft.status == .ok)
            #expect(draft.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "a hostile title renders as text")
            #expect(!draft.text.contains("<script>alert"))
            #expect(draft.text.contains("Draft created"), "the notice after the redirect")
            #expect(draft.text.contains("status-neutral\">draft<"))
            #expect(draft.text.contains("/static/airlock-upload.js?v="))
            #expect(draft.text.contains("id=\"airlock-upload\""), "the drop zone, shown by the script")
            #expect(draft.text.contains("curl -T"), "the command for browsers without JavaScript")
            #expect(draft.text.contains("id=\"submit-request\"") && draft.text.contains("id=\"cancel-request\""))
            let csrf = try #require(uploadToken(draft.text))

            // Two files through the API as airlock-upload.js sends them; the second in two parts (a resumed upload).
            let files = "/api/workspaces/\(ws)/requests/\(rid)/files"
            let cohort = Array("id,age\n1,40\n2,51\n".utf8)
            #expect(try await rosa.putFile("\(files)/cohort.csv", cohort, csrf: nil).status == .forbidden, "no X-CSRF-Token, no upload")
            let first = try await rosa.putFile("\(files)/cohort.csv", cohort, csrf: csrf, range: "bytes 0-\(cohort.count - 1)/\(cohort.count)")
            #expect(first.status == .created, "\(first.text)")
            let notes = [UInt8](repeating: 0x61, count: 3000)
            let part = try await rosa.putFile("\(files)/notes%20v2.txt", Array(notes[..<1000]), csrf: csrf, range: "bytes 0-999/3000")
            #expect(part.status == .accepted)
            let paused = try await rosa.get(base)
            #expect(paused.text.contains("Unfinished uploads") && paused.text.contains("notes v2.txt: 1000 bytes received"))
            let listed = try await rosa.browser.send(.get, files)
            #expect(listed.json["uploads"] == [["name": "notes v2.txt", "received": 1000]], "the offset the script resumes from")
            #expect(try await rosa.putFile("\(files)/notes%20v2.txt", Array(notes[2000...]), csrf: csrf, range: "bytes 2000-2999/3000").status == .rangeNotSatisfiable)
            #expect(try await rosa.putFile("\(files)/notes%20v2.txt", Array(notes[1000...]), csrf: csrf, range: "bytes 1000-2999/3000").status == .created)

            let ready = try await rosa.get(base).text
            #expect(ready.contains(">cohort.csv<") && ready.contains(">notes v2.txt<"))
            #expect(ready.contains(sha256Hex(cohort)))
            #expect(ready.contains("href=\"/api/workspaces/\(ws)/requests/\(rid)/files/cohort.csv\""), "the requester may download a draft's file")

            // Submit without the form's CSRF token: refused, nothing changes.
            #expect(try await rosa.post("\(base)/submit", [:], withCSRF: false).status == .forbidden)
            #expect(try await api.status(ws, rid) == "draft")
            let submitted = try await rosa.post("\(base)/submit", [:])
            #expect(submitted.status == .seeOther)
            #expect(submitted.location == base)
            try await api.waitFor("in_review", ws, rid)
            let waiting = try await rosa.get(base).text
            #expect(!waiting.contains("id=\"submit-request\""))
            #expect(!waiting.contains("href=\"/api/workspaces/\(ws)/requests/\(rid)/files/cohort.csv\""), "files under review are the reviewers'")

            let home = try await mia.get("/airlock").text
            #expect(home.contains("Awaiting my review"))
            #expect(home.contains("<a href=\"/airlock\" aria-current=\"page\">"), "the navigation marks the airlock section")
            #expect(home.contains("href=\"\(base)\""))
            #expect(home.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !home.contains("<script>alert"))
            #expect(home.contains(">Review<"))
            #expect(try await rosa.get("/airlock").text.contains("href=\"\(base)\""), "the researcher's own list")

            let preview = try await mia.get("\(base)/files/cohort.csv/preview")
            #expect(preview.status == .ok)
            #expect(preview.text.contains("<th scope=\"col\">id</th><th scope=\"col\">age</th>"))
            #expect(preview.text.contains("<tr><td>1</td><td>40</td></tr>"))
            let text = try await mia.get("\(base)/files/notes%20v2.txt/preview").text
            #expect(text.contains("<pre class=\"preview-text\">aaaa"))
            #expect(try await rosa.get("\(base)/files/cohort.csv/preview").status == .forbidden, "as the API: previews are the reviewers'")

            let review = try await mia.get(base).text
            #expect(review.contains("id=\"record-review\""))
            #expect(review.contains("not scanned (scanning is disabled)"))
            #expect(try await mia.post("\(base)/review", ["decision": "approve", "explanation": "Aggregate"], withCSRF: false).status == .forbidden)
            #expect(try await api.status(ws, rid) == "in_review")
            let noReason = try await mia.post("\(base)/review", ["decision": "approve", "explanation": " "])
            #expect(noReason.status == .badRequest)
            #expect(noReason.text.contains("A review needs an explanation"))
            #expect(try await api.status(ws, rid) == "in_review")
            let approved = try await mia.post("\(base)/review", ["decision": "approve", "explanation": "Aggregate data only"])
            #expect(approved.status == .seeOther, "\(approved.text)")
            try await api.waitFor("approved", ws, rid)
            let decided = try await rosa.get(base).text
            #expect(decided.contains("status-ok\">approved<"))
            #expect(decided.contains("Aggregate data only"), "the explanation, once decided")
            #expect(decided.contains("<td>in review</td><td>approval in progress</td>"), "the history")
        }
    }

    @Test("an airlock manager cannot review their own request: no form, the rule's message, and a forced post changes nothing")
    func noReviewOfYourOwnRequest() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            var mia = try await PortalBrowser.signIn(api, username: "mia", roles: ["TREUser"])
            try await mia.grant(.researcher, in: ws, api: api)
            try await mia.grant(.airlockManager, in: ws, api: api)
            let rid = try await mia.createRequest(ws, type: "import")
            let base = "/workspaces/\(ws)/airlock/\(rid)"
            let csrf = try #require(uploadToken(try await mia.get(base).text))
            #expect(try await mia.putFile("/api/workspaces/\(ws)/requests/\(rid)/files/a.txt", [1, 2, 3], csrf: csrf).status == .created)
            #expect(try await mia.post("\(base)/submit", [:]).status == .seeOther)
            try await api.waitFor("in_review", ws, rid)

            let page = try await mia.get(base).text
            #expect(!page.contains("id=\"record-review\""))
            #expect(page.contains("You cannot review your own request: another airlock manager must"))
            #expect(try await mia.get("/airlock").text.contains("Your request: another manager reviews it"))
            let forced = try await mia.post("\(base)/review", ["decision": "approve", "explanation": "mine"])
            #expect(forced.status == .forbidden)
            #expect(forced.text.contains("You cannot review your own request: another airlock manager must"))
            #expect(try await api.status(ws, rid) == "in_review")
        }
    }

    @Test("who sees what: another workspace's researcher gets 403; a reviewer-only sees no New request; a disabled airlock says so")
    func accessAndDisabledAirlock() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let other = try await api.airlockWorkspace()
            let closed = try await api.createAndWait(
                "/api/workspaces", template: "tre-workspace-base", properties: ["enable_airlock": false, "display_name": "Closed"])
            var rosa = try await PortalBrowser.signIn(api, username: "rosa", roles: ["TREUser"])
            try await rosa.grant(.researcher, in: ws, api: api)
            try await rosa.grant(.researcher, in: closed, api: api)
            var otto = try await PortalBrowser.signIn(api, username: "otto", roles: ["TREUser"])
            try await otto.grant(.researcher, in: other, api: api)
            var mia = try await PortalBrowser.signIn(api, username: "mia", roles: ["TREUser"])
            try await mia.grant(.airlockManager, in: ws, api: api)

            let rid = try await rosa.createRequest(ws, type: "import")
            #expect(try await otto.get("/workspaces/\(ws)/airlock/\(rid)").status == .forbidden)
            #expect(try await otto.get("/workspaces/\(ws)/airlock").status == .forbidden)
            #expect(try await otto.post("/workspaces/\(ws)/airlock/\(rid)/cancel", [:]).status == .forbidden)
            #expect(try await otto.get("/workspaces/\(other)/airlock/\(rid)").status == .notFound, "a request is found only in its own workspace")
            #expect(try await api.status(ws, rid) == "draft")

            let reviewer = try await mia.get("/workspaces/\(ws)/airlock").text
            #expect(!reviewer.contains("/airlock/new\""))
            #expect(reviewer.contains("as an airlock manager you review them"))
            #expect(try await mia.get("/workspaces/\(ws)/airlock/new").status == .forbidden)
            let draft = try await mia.get("/workspaces/\(ws)/airlock/\(rid)")
            #expect(draft.status == .ok)
            #expect(!draft.text.contains("href=\"/api/workspaces/\(ws)/requests/\(rid)/files"), "a draft's files are the requester's")

            let disabled = try await rosa.get("/workspaces/\(closed)/airlock").text
            #expect(!disabled.contains("/airlock/new\""))
            #expect(disabled.contains("The airlock is disabled in workspace \(closed) (enable_airlock is false)"))
            #expect(try await rosa.get("/workspaces/\(closed)/airlock/new").status == .methodNotAllowed)
            var anonymous = CookieBrowser(api)
            #expect(try await anonymous.send(.get, "/airlock").status == .seeOther)
        }
    }

    @Test("the new-request form: a missing type is shown next to the field with what was typed, nothing created; filters narrow the list")
    func newRequestFormAndFilters() async throws {
        try await withAPI { api in
            let (ws, rosaSignedIn, _) = try await airlockPortal(api)
            var rosa = rosaSignedIn
            _ = try await rosa.get("/workspaces/\(ws)/airlock/new")
            let bad = try await rosa.post("/workspaces/\(ws)/airlock/new", ["title": "Kept <b>", "businessJustification": "Also kept"])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("Choose import or export."))
            #expect(bad.text.contains("value=\"Kept &lt;b&gt;\"") && bad.text.contains(">Also kept</textarea>"))
            #expect(try await rosa.post("/workspaces/\(ws)/airlock/new", ["type": "import"], withCSRF: false).status == .forbidden)
            #expect(try await api.call(.get, "/api/workspaces/\(ws)/requests", as: TestUsers.owner).json["airlockRequests"] == [])

            _ = try await rosa.createRequest(ws, type: "import", title: "First import")
            _ = try await rosa.createRequest(ws, type: "export", title: "First export")
            let exports = try await rosa.get("/workspaces/\(ws)/airlock?type=export&status=").text
            #expect(exports.contains("First export") && !exports.contains("First import"))
            #expect(exports.contains("<option value=\"export\" selected>"))
            let none = try await rosa.get("/workspaces/\(ws)/airlock?status=approved").text
            #expect(none.contains("No requests match these filters."))
            #expect(try await rosa.get("/workspaces/\(ws)/airlock?status=sideways").status == .badRequest)
        }
    }

    @Test("export: pick a file from workspace storage, see the output checks, approve; the requester downloads; revoke needs a reason")
    func exportFromWorkspaceStorage() async throws {
        try await withAPI { api in
            let (ws, rosaSignedIn, miaSignedIn) = try await airlockPortal(api)
            var rosa = rosaSignedIn, mia = miaSignedIn
            let storage = api.enclave.dataDir.appendingPathComponent("workspaces/\(ws)")
            try FileManager.default.createDirectory(at: storage.appendingPathComponent("shared/results"), withIntermediateDirectories: true)
            let table = Array("group,count\na,12\nb,3\n".utf8)
            try Data(table).write(to: storage.appendingPathComponent("shared/results/table.csv"))
            try FileManager.default.createSymbolicLink(
                atPath: storage.appendingPathComponent("shared/results/link.csv").path, withDestinationPath: "/etc/passwd")

            let rid = try await rosa.createRequest(ws, type: "export", title: "Tables")
            let base = "/workspaces/\(ws)/airlock/\(rid)"
            let draft = try await rosa.get(base).text
            #expect(draft.contains("<option value=\"shared/results/table.csv\">"), "the picker offers the file")
            #expect(!draft.contains("link.csv"), "links are never offered")
            #expect(!draft.contains("id=\"airlock-upload\""), "exports are picked from storage, not uploaded")
            #expect(draft.contains("home/\(rosa.userId)/"))

            let refused = try await rosa.post("\(base)/workspace-files", ["path": "home/someone-else/x.csv"])
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("Exports take files from shared/…"))
            #expect(refused.text.contains("value=\"home/someone-else/x.csv\""))
            #expect(try await rosa.post("\(base)/workspace-files", ["path": "shared/results/table.csv"], withCSRF: false).status == .forbidden)
            let added = try await rosa.post("\(base)/workspace-files", ["path": "shared/results/table.csv"])
            #expect(added.status == .seeOther, "\(added.text)")
            let filled = try await rosa.get(base).text
            #expect(filled.contains("Added table.csv"))
            #expect(filled.contains("from <code>shared/results/table.csv</code>"))

            #expect(try await rosa.post("\(base)/submit", [:]).status == .seeOther)
            try await api.waitFor("in_review", ws, rid)
            let review = try await mia.get(base).text
            #expect(review.contains("frequency_table"), "the stored check results")
            #expect(review.contains("<td>2</td><td>count</td><td>3</td>"), "the flagged cell: row, column, value")
            let preview = try await mia.get("\(base)/files/table.csv/preview").text
            #expect(preview.contains("<td>b</td><td>3</td>") && preview.contains("frequency_table"))
            #expect(try await mia.post("\(base)/review", ["decision": "approve", "explanation": "Cell of 3 is fine: public data"]).status == .seeOther)
            try await api.waitFor("approved", ws, rid)

            let approved = try await rosa.get(base).text
            let download = "/api/workspaces/\(ws)/requests/\(rid)/files/table.csv"
            #expect(approved.contains("href=\"\(download)\""))
            #expect(approved.contains("Downloaded 0 of 3 times"))
            #expect(try await rosa.browser.send(.get, download).text == "group,count\na,12\nb,3\n")
            #expect(try await rosa.get(base).text.contains("Downloaded 1 of 3 times"))
            #expect(!(try await mia.get(base).text.contains("href=\"\(download)\"")), "only the requester downloads an export")

            let revokePage = try await mia.get(base).text
            #expect(revokePage.contains("id=\"revoke-request\""))
            let noReason = try await mia.post("\(base)/revoke", ["reason": "  "])
            #expect(noReason.status == .badRequest)
            #expect(noReason.text.contains("A revocation needs a reason"))
            #expect(try await api.status(ws, rid) == "approved")
            #expect(try await mia.post("\(base)/revoke", ["reason": "Disclosure risk"], withCSRF: false).status == .forbidden)
            #expect(try await mia.post("\(base)/revoke", ["reason": "Disclosure risk"]).status == .seeOther)
            #expect(try await api.status(ws, rid) == "revoked")
            let revoked = try await rosa.get(base).text
            #expect(revoked.contains("Disclosure risk"))
            #expect(!revoked.contains("href=\"\(download)\""))
        }
    }

    @Test("cancel a draft; a file is removed from a draft; another researcher is offered neither")
    func cancelAndRemove() async throws {
        try await withAPI { api in
            let (ws, rosaSignedIn, _) = try await airlockPortal(api)
            var rosa = rosaSignedIn
            var rita = try await PortalBrowser.signIn(api, username: "rita", roles: ["TREUser"])
            try await rita.grant(.researcher, in: ws, api: api)
            let rid = try await rosa.createRequest(ws, type: "import")
            let base = "/workspaces/\(ws)/airlock/\(rid)"
            let csrf = try #require(uploadToken(try await rosa.get(base).text))
            #expect(try await rosa.putFile("/api/workspaces/\(ws)/requests/\(rid)/files/a%20b.txt", [1, 2], csrf: csrf).status == .created)
            #expect(try await rosa.get(base).text.contains("action=\"\(base)/files/a%20b.txt/delete\""))
            #expect(try await rosa.post("\(base)/files/a%20b.txt/delete", [:]).status == .seeOther)
            #expect(try await rosa.get(base).text.contains("No files yet."))

            let theirs = try await rita.get(base).text
            #expect(!theirs.contains("id=\"cancel-request\"") && !theirs.contains("id=\"submit-request\""))
            let refused = try await rita.post("\(base)/cancel", [:])
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("Only the requester or a workspace owner can cancel this request"))
            #expect(try await rosa.post("\(base)/cancel", [:], withCSRF: false).status == .forbidden)
            #expect(try await api.status(ws, rid) == "draft")
            let cancelled = try await rosa.post("\(base)/cancel", [:])
            #expect(cancelled.status == .seeOther)
            #expect(try await api.status(ws, rid) == "cancelled")
            let page = try await rosa.get(base).text
            #expect(page.contains("Request cancelled"))
            #expect(!page.contains("id=\"cancel-request\"") && !page.contains("id=\"airlock-upload\""))
        }
    }

    @Test("without JavaScript: an upload link made from the page takes a file with curl's PUT, no token needed")
    func uploadLinkWithoutJavaScript() async throws {
        try await withAPI { api in
            let (ws, rosaSignedIn, _) = try await airlockPortal(api)
            var rosa = rosaSignedIn
            let rid = try await rosa.createRequest(ws, type: "import")
            let base = "/workspaces/\(ws)/airlock/\(rid)"
            _ = try await rosa.get(base)
            #expect(try await rosa.post("\(base)/link", [:], withCSRF: false).status == .forbidden)
            let page = try await rosa.post("\(base)/link", [:])
            #expect(page.status == .ok)
            let escaped = try #require(SignInBrowser.capture("(f=results\\.csv; curl -T &quot;\\$f&quot; &quot;http[^<]+)</code>", in: page.text))
            let command = escaped.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
            let url = try #require(SignInBrowser.capture("\"(http[^\"]+/files/)\\$f", in: command))
            #expect(url.hasSuffix("/airlock-links/\(ws)/\(rid)/files/"))
            let query = try #require(SignInBrowser.capture("/files/\\$f\\?([^\"]+)\"", in: command))
            #expect(query.contains("perm=rwdl"))
            let path = CookieBrowser.path(url) + "results.csv?" + query
            let put = try await api.client.execute(uri: path, method: .put, headers: [:], body: ByteBuffer(string: "a,b\n1,2\n")) {
                APIClient.Reply(status: $0.status, headers: $0.headers, body: $0.body)
            }
            #expect(put.status == .created, "\(put.text)")
            #expect(try await rosa.get(base).text.contains(">results.csv<"))
        }
    }
}
