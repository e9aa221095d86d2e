// End to end, as root: two restricted workspaces with real isolation (network namespaces, veths,
// nftables), and `curl -T` run inside the first one's namespace as its uid fills its export draft
// through the airlock's workspace listener; the second workspace, the main API port, other paths and
// bad links get nothing.
import EnclaveAirlock
import EnclaveCore
import EnclaveEngine
import EnclaveLocal
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing

enum AirlockNetworkSupport {
    static let unavailableReason: String? = {
        if getuid() != 0 { return "not root" }
        for tool in ["ip", "nft", "setpriv", "curl"] where HostCommand.locate(tool) == nil { return "\(tool) missing" }
        return nil
    }()

    /// Skipped locally with the reason; never skipped under CI=true, where a missing part fails.
    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"
}

@Suite(
    "Airlock from a workspace's network", .serialized,
    .enabled(if: AirlockNetworkSupport.shouldRun, "needs root, ip, nft, setpriv, curl (\(AirlockNetworkSupport.unavailableReason ?? ""))"))
struct AirlockWorkspaceNetworkTests {
    let command = HostCommand()

    /// Where a workspace lives on the host, from its properties (the isolate step's outputs).
    struct Placement {
        var namespace: String
        var uid: Int
        var hostAddress: String

        init(_ properties: JSONValue?) throws {
            namespace = try #require(properties?["network_namespace"]?.stringValue)
            uid = try #require(properties?["workspace_uid"]?.intValue)
            hostAddress = try #require(properties?["host_address"]?.stringValue)
        }
    }

    /// `curl` inside the workspace's namespace as its uid; returns curl's exit status and, when it got an
    /// answer, the HTTP status and body.
    func curl(in workspace: Placement, _ arguments: [String]) async throws -> (exit: Int32, status: Int?, body: String) {
        let result = try await command.run(
            [
                "ip", "netns", "exec", workspace.namespace, "setpriv", "--reuid", "\(workspace.uid)", "--regid", "\(workspace.uid)",
                "--clear-groups", "curl", "-sS", "-m", "60", "-w", "\n%{http_code}",
            ] + arguments)
        var lines = result.output.components(separatedBy: "\n")
        let code = lines.popLast().flatMap { Int($0) }
        return (result.status, code == 0 ? nil : code, lines.joined(separator: "\n"))
    }

    @Test("curl -T inside a restricted workspace fills its export draft through the workspace listener; another workspace, the API port, other paths and bad links get nothing")
    func curlInsideTheWorkspaceUploadsIntoItsExportDraft() async throws {
        let plane = ParallelHostPlane.make("a")
        let (prefix, settings) = (plane.prefix, plane.settings)
        let port = try TestPorts.free()
        let clock = ServerClock()
        let enclave = try await TestEnclave.make(
            templatesDir: try TestPaths.combinedTemplates(), environment: clock.environment, dataPlane: settings,
            airlock: AirlockServerSettings(processing: AirlockSettings(pollSeconds: 0.2), scanner: .none, workspacePort: port))
        defer { enclave.remove() }
        let scratch = URL(fileURLWithPath: "/tmp/enclave-airlock-\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let workspaces = Created()
        var result: Result<Void, any Error> = .success(())
        do {
            try await buildApplication(enclave.deps).test(.live) { client in
                let api = APIClient(client: client, enclave: enclave)
                let ws = try await api.airlockWorkspace()
                let other = try await api.airlockWorkspace()
                workspaces.ids.withLock { $0 = [ws, other] }
                let a = try Placement(try await api.call(.get, "/api/workspaces/\(ws)", as: TestUsers.owner).json["workspace"]?["properties"])
                let b = try Placement(try await api.call(.get, "/api/workspaces/\(other)", as: TestUsers.owner).json["workspace"]?["properties"])
                let rid = try await api.newRequest(ws, type: "export")
                let base = "/api/workspaces/\(ws)/requests/\(rid)"
                let reply = try await api.call(.get, "\(base)/link?network=workspace", as: TestUsers.researcher)
                #expect(reply.status == .ok, "\(reply.text)")
                let url = try #require(reply.json["containerUrl"]?.stringValue)
                let components = try #require(URLComponents(string: url))
                #expect(components.host == a.hostAddress && components.port == port, "\(url)")
                let query = try #require(components.percentEncodedQuery)
                func fileURL(_ name: String, host: String? = nil, query: String? = nil) -> String {
                    "http://\(host ?? a.hostAddress):\(port)\(components.path)/files/\(name)?\(query ?? components.percentEncodedQuery ?? "")"
                }
                let bytes = Array("region,count\nnorth,120\neast,57\n".utf8)
                let file = scratch.appendingPathComponent("results.csv")
                try Data(bytes).write(to: file)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)

                let upload = try await curl(in: a, ["-T", file.path, fileURL("results.csv")])
                #expect(upload.status == 201, "\(upload)")
                #expect(upload.body.contains(sha256Hex(bytes)))
                let listed = try await api.call(.get, "\(base)/files", as: TestUsers.researcher).json["files"]?.arrayValue ?? []
                #expect(listed.map { $0["name"] } == ["results.csv"])
                #expect(listed.first?["sha256"]?.stringValue == sha256Hex(bytes))
                #expect(listed.first?["source"] == "workspace network")

                // The second workspace: the link's own address is not even routable from there, and the same
                // link sent to its own host end is refused by the peer check.
                let unroutable = try await curl(in: b, ["-T", file.path, fileURL("from-b.csv")])
                #expect(unroutable.status == nil && unroutable.exit != 0, "\(unroutable)")
                let fromB = try await curl(in: b, ["-T", file.path, fileURL("from-b.csv", host: b.hostAddress)])
                #expect(fromB.status == 403 && fromB.body.contains("for workspace \(ws)"), "\(fromB)")
                // The main API port is not reachable from the workspace (dropped: a timeout, not a refusal).
                let mainPort = try #require(client.port)
                let api1 = try await curl(in: a, ["-m", "2", "http://\(a.hostAddress):\(mainPort)/api/health"])
                #expect(api1.status == nil && api1.exit == 28, "\(api1)")
                // Only the signed link routes on the workspace port.
                let health = try await curl(in: a, ["http://\(a.hostAddress):\(port)/api/health"])
                #expect(health.status == 404, "\(health)")
                // Bad input: a wrong signature, an expired link, an import.
                let forged = query.replacingOccurrences(of: "sig=", with: "sig=0")
                let badSignature = try await curl(in: a, ["-T", file.path, fileURL("forged.csv", query: forged)])
                #expect(badSignature.status == 401 && badSignature.body.contains("signature is not valid"), "\(badSignature)")
                clock.offset.withLock { $0 = 3600 + 60 }  // links last an hour
                let expired = try await curl(in: a, ["-T", file.path, fileURL("expired.csv")])
                clock.offset.withLock { $0 = 0 }
                #expect(expired.status == 401 && expired.body.contains("expired"), "\(expired)")
                let imported = try await api.newRequest(ws, type: "import")
                let importLink = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(imported)/link", as: TestUsers.researcher)
                let importQuery = try #require(importLink.json["containerUrl"]?.stringValue.flatMap(URLComponents.init(string:))?.percentEncodedQuery)
                let intoImport = try await curl(
                    in: a, ["-T", file.path, "http://\(a.hostAddress):\(port)/airlock-links/\(ws)/\(imported)/files/in.csv?\(importQuery)"])
                #expect(intoImport.status == 403 && intoImport.body.contains("Only export requests"), "\(intoImport)")
                // Nothing the refusals carried was written.
                #expect(try await api.call(.get, "\(base)/files", as: TestUsers.researcher).json["files"]?.arrayValue?.count == 1)
                let importFiles = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(imported)/files", as: TestUsers.researcher)
                #expect(importFiles.json["files"]?.arrayValue?.isEmpty == true)
            }
        } catch {
            result = .failure(error)
        }
        for id in workspaces.ids.withLock({ $0 }) { _ = try? await enclave.deps.dataPlane.remove(workspaceId: id) }
        try result.get()
    }
}


/// Workspaces a test created, removed from the host even when the test fails half-way.
final class Created: Sendable {
    let ids = Mutex<[String]>([])
}
