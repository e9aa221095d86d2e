// What the tool end-to-end tests (MLflow, git) share: API calls as a user, waiting for operations, a restricted
// workspace with a service deployed for real, and the check that deleting it leaves no process behind.
import EnclaveCore
import EnclaveLocal
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

struct WorkloadScenario: WorkloadE2E {
    let enclave: TestEnclave
    let client: any TestClientProtocol
    let command = HostCommand()
    static let etag = HTTPField.Name("etag")!

    /// A host-plane Enclave with the built-in templates, its names, address pool and uids apart from other tests'
    /// (`ParallelHostPlane`), so that parallel or leftover runs do not collide.
    static func enclave(prefix letter: Character) async throws -> TestEnclave {
        let settings = ParallelHostPlane.make(letter).settings
        return try await TestEnclave.make(workers: 2, templatesDir: try TestPaths.combinedTemplates(), dataPlane: settings)
    }

    struct Reply {
        var status: HTTPResponse.Status
        var json: JSONValue
        var text: String
        var headers: HTTPFields
    }

    func call(
        _ method: HTTPRequest.Method, _ uri: String, as user: User?, json: JSONValue? = nil, body: ByteBuffer? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let user { headers[.authorization] = try await enclave.bearer(user) }
        var payload = body
        if let json {
            headers[.contentType] = "application/json"
            payload = ByteBuffer(string: json.description)
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: payload) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
            return Reply(status: response.status, json: json, text: text, headers: response.headers)
        }
    }

    func wait(_ location: String?, as user: User, timeout: Double) async throws -> JSONValue {
        try await wait(client, enclave, location, as: user, timeout: timeout)
    }

    /// A restricted workspace owned by `TestUsers.owner`; returns its id and the host uid its tools run as.
    func createWorkspace() async throws -> (id: String, uid: Int?) {
        let id = try await createRestrictedWorkspace(client, enclave, owner: TestUsers.owner, description: "tools")
        let workspace = try await call(.get, "/api/workspaces/\(id)", as: TestUsers.admin)
        return (id, workspace.json["workspace"]?["properties"]?["workspace_uid"]?.intValue)
    }

    /// Deploys a workspace service from `template` as the workspace owner; returns its id.
    func createService(_ template: String, in ws: String, properties: JSONValue = [:]) async throws -> String {
        var all: [String: JSONValue] = ["display_name": "Tool", "description": "e2e"]
        for (key, value) in properties.objectValue ?? [:] { all[key] = value }
        let started = Date()
        let created = try await call(
            .post, "/api/workspaces/\(ws)/workspace-services", as: TestUsers.owner,
            json: ["templateName": .string(template), "properties": .object(all)])
        let op = try await wait(created.headers[.location], as: TestUsers.owner, timeout: 900)
        #expect(op["status"] == "deployed", "\(op)")
        let steps = (op["steps"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
        print("\(template) deployed in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(steps)")
        return try #require(op["resourceId"]?.stringValue)
    }

    /// Disables (cascading to its services) and deletes the workspace, then checks no process of its uid is left.
    func deleteWorkspace(_ ws: String, uid: Int?) async throws {
        let uid = try #require(uid, "the workspace reported no workspace_uid")
        #expect(try await !pids(uid: uid).isEmpty, "the check below would prove nothing: no process of the workspace is seen running")
        let started = Date()
        let disable = try await call(.patch, "/api/workspaces/\(ws)", as: TestUsers.admin, json: ["isEnabled": false], headers: [Self.etag: "*"])
        #expect(try await wait(disable.headers[.location], as: TestUsers.admin, timeout: 300)["status"] == "updated")
        let delete = try await call(.delete, "/api/workspaces/\(ws)", as: TestUsers.admin)
        #expect(try await wait(delete.headers[.location], as: TestUsers.admin, timeout: 300)["status"] == "deleted")
        print("workspace \(ws) disabled and deleted in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let left = try await pids(uid: uid)
        if !left.isEmpty {
            let table = try await command.check(["ps", "-o", "pid,ppid,uid,etimes,args", "-p", left.map(String.init).joined(separator: ",")])
            Issue.record("processes of the workspace uid \(uid) are left:\n\(table)")
        }
    }

    /// This test's processes running as `uid`: their working directory or command line is in the test's DATA.
    /// Other test runs on the host (other worktrees) start their uid pools at the same number, so the uid alone
    /// would count their tools, and zombies they have yet to reap.
    func pids(uid: Int) async throws -> [Int] {
        let table = try await command.check(["ps", "-e", "-o", "pid=,uid=,stat="])
        let data = enclave.dataDir.resolvingSymlinksInPath().path
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, Int(fields[1]) == uid, !fields[2].hasPrefix("Z"), let pid = Int(fields[0]) else { return nil }
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
            let arguments = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return cwd.hasPrefix(data) || arguments.contains(data) || arguments.contains(enclave.dataDir.path) ? pid : nil
        }
    }

    /// Proportional set size of `uid`'s processes, in MB (`/proc/<pid>/smaps_rollup`).
    func memoryMB(uid: Int) async throws -> Double {
        var kilobytes = 0
        for pid in try await pids(uid: uid) {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
                kilobytes += Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
            }
        }
        return Double(kilobytes) / 1024
    }
}
