// The airlock's workspace listener without root: the simulated data plane with its pool on loopback
// (127.0.0.0/8: workspace slot 0 is 127.0.0.2 behind host end 127.0.0.1, slot 1 is 127.0.0.6), and
// requests sent from those source addresses, so the peer checks run on real connections.
import EnclaveAirlock
import EnclaveCore
import EnclaveEngine
import EnclaveServer
import EnclaveStore
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@Suite("Airlock workspace listener")
struct AirlockWorkspaceListenerTests {
    func withListener(_ body: @escaping @Sendable (APIClient, Int, ServerClock) async throws -> Void) async throws {
        let port = try TestPorts.free()
        let clock = ServerClock()
        let enclave = try await TestEnclave.make(
            templatesDir: try TestPaths.combinedTemplates(), environment: clock.environment,
            dataPlane: DataPlaneSettings(mode: .simulated, addressPool: "127.0.0.0/8"),
            airlock: AirlockServerSettings(processing: AirlockSettings(pollSeconds: 0.2), scanner: .none, workspacePort: port))
        defer { enclave.remove() }
        try await buildApplication(enclave.deps).test(.router) { client in
            try await body(APIClient(client: client, enclave: enclave), port, clock)
        }
    }

    /// A link's path and query, for requests that add `/files…` to its path.
    struct Link {
        var path: String
        var query: String
        var host: String?
        var port: Int?

        init(_ url: String?) throws {
            let components = try #require(url.flatMap(URLComponents.init(string:)))
            path = components.path
            query = try #require(components.percentEncodedQuery)
            host = components.host
            port = components.port
        }

        func target(_ suffix: String, query: String? = nil) -> String { "\(path)\(suffix)?\(query ?? self.query)" }
    }

    @Test("from its own workspace's address a link uploads into the export draft (hashed, listed, marked as from the workspace network); anyone else, reads, imports and bad links are refused, audited, with nothing written")
    func workspaceFillsItsExportDraft() async throws {
        try await withListener { api, port, clock in
            let ws = try await api.airlockWorkspace()  // slot 0: 127.0.0.2
            let other = try await api.airlockWorkspace()  // slot 1: 127.0.0.6
            let rid = try await api.newRequest(ws, type: "export")
            let base = "/api/workspaces/\(ws)/requests/\(rid)"
            let reply = try await api.call(.get, "\(base)/link?network=workspace", as: TestUsers.researcher)
            #expect(reply.status == .ok, "\(reply.text)")
            let link = try Link(reply.json["containerUrl"]?.stringValue)
            #expect(link.host == "127.0.0.1" && link.port == port, "the workspace's host end and the listener's port")
            #expect(link.path == "/airlock-links/\(ws)/\(rid)")
            #expect(link.query.contains("perm=wd&"), "write and delete only")
            func send(from source: String, _ method: String, _ target: String, _ body: [UInt8] = []) async throws -> SourceBoundHTTP.Reply {
                try await SourceBoundHTTP.send(from: source, to: "127.0.0.1", port: port, method: method, target: target, body: body)
            }
            let table = Array("region,count\nnorth,120\neast,57\n".utf8)

            // Not a workspace (the host's own end of the link): refused before anything else, even unknown paths.
            let outsider = try await send(from: "127.0.0.1", "PUT", link.target("/files/table.csv"), table)
            #expect(outsider.status == 403 && outsider.text.contains("serves workspaces' own networks only"), "\(outsider)")
            #expect(try await send(from: "127.0.0.1", "GET", "/api/health").status == 403)
            // From a workspace: nothing but the signed link routes.
            for path in ["/api/health", "/api/workspaces", "/oidc/.well-known/openid-configuration", "/metrics", "/"] {
                #expect(try await send(from: "127.0.0.2", "GET", path).status == 404, "\(path)")
            }

            let put = try await send(from: "127.0.0.2", "PUT", link.target("/files/table.csv"), table)
            #expect(put.status == 201, "\(put)")
            #expect(put.text.contains(sha256Hex(table)))
            let listed = try await api.call(.get, "\(base)/files", as: TestUsers.researcher).json["files"]?.arrayValue ?? []
            #expect(listed.map { $0["name"] } == ["table.csv"])
            #expect(listed.first?["sha256"]?.stringValue == sha256Hex(table))
            #expect(listed.first?["source"] == "workspace network", "reviewers see where the file came from")

            // The same link from another workspace's network.
            let foreign = try await send(from: "127.0.0.6", "PUT", link.target("/files/foreign.csv"), table)
            #expect(foreign.status == 403 && foreign.text.contains("for workspace \(ws)"), "\(foreign)")
            // Nothing is read into a workspace, not even a list.
            for suffix in ["/files", "/files/table.csv"] {
                let read = try await send(from: "127.0.0.2", "GET", link.target(suffix))
                #expect(read.status == 403 && read.text.contains("approved import"), "\(read)")
            }
            // Bad links.
            let forged = link.query.replacingOccurrences(of: "sig=", with: "sig=00")
            let badSignature = try await send(from: "127.0.0.2", "PUT", link.target("/files/forged.csv", query: forged), table)
            #expect(badSignature.status == 401 && badSignature.text.contains("signature is not valid"), "\(badSignature)")
            let widened = link.query.replacingOccurrences(of: "perm=wd", with: "perm=rwdl")
            #expect(try await send(from: "127.0.0.2", "PUT", link.target("/files/widened.csv", query: widened), table).status == 401)
            clock.offset.withLock { $0 = 3600 + 60 }  // links last an hour
            let expired = try await send(from: "127.0.0.2", "PUT", link.target("/files/late.csv"), table)
            clock.offset.withLock { $0 = 0 }
            #expect(expired.status == 401 && expired.text.contains("expired"), "\(expired)")

            // Imports are never filled from inside: no workspace link for them, and their public link is refused here.
            let imported = try await api.newRequest(ws, type: "import")
            let importBase = "/api/workspaces/\(ws)/requests/\(imported)"
            let noLink = try await api.call(.get, "\(importBase)/link?network=workspace", as: TestUsers.researcher)
            #expect(noLink.status == .badRequest && noLink.text.contains("export drafts"), "\(noLink.text)")
            let importLink = try Link(try await api.call(.get, "\(importBase)/link", as: TestUsers.researcher).json["containerUrl"]?.stringValue)
            let intoImport = try await send(from: "127.0.0.2", "PUT", importLink.target("/files/smuggled.bin"), table)
            #expect(intoImport.status == 403 && intoImport.text.contains("Only export requests"), "\(intoImport)")
            #expect(try await api.call(.get, "\(importBase)/files", as: TestUsers.researcher).json["files"]?.arrayValue?.isEmpty == true)
            #expect(try await api.call(.get, "\(base)/link?network=elsewhere", as: TestUsers.researcher).status == .badRequest)

            // Nothing the refusals carried was written, and nothing was left half-uploaded.
            let after = try await api.call(.get, "\(base)/files", as: TestUsers.researcher).json
            #expect(after["files"]?.arrayValue?.map { $0["name"] } == ["table.csv"])
            #expect(after["uploads"]?.arrayValue?.isEmpty == true)
            // Deleting through the workspace link works while the request is a draft.
            #expect(try await send(from: "127.0.0.2", "DELETE", link.target("/files/table.csv")).status == 204)

            // Every refusal is in the audit log, with the peer it came from.
            let denials = try await api.enclave.deps.store.auditRecords(AuditFilter(action: "auth.denied"), after: nil, limit: 100)
                .filter { $0.details["listener"] == "workspace" }
            let peers = denials.compactMap { $0.details["peer"]?.stringValue }
            #expect(peers.filter { $0 == "127.0.0.1" }.count == 2, "\(peers)")
            #expect(denials.contains { $0.details["peer"] == "127.0.0.6" && $0.actor.id == TestUsers.researcher.id && $0.target.hasPrefix("/workspaces/\(ws)/requests/\(rid)") })
            #expect(denials.filter { $0.details["peer"] == "127.0.0.2" }.count == 6, "two reads, three bad links, one import: \(denials.map(\.details))")
            #expect(denials.allSatisfy { $0.details["path"]?.stringValue?.contains("sig=") != true }, "no signature in the log")
            _ = other
        }
    }

    @Test("a workspace link is only for export drafts, and only with the listener on")
    func workspaceLinksOnlyForExportDrafts() async throws {
        try await withAPI { api in
            let ws = try await api.airlockWorkspace()
            let rid = try await api.newRequest(ws, type: "export")
            let reply = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(rid)/link?network=workspace", as: TestUsers.researcher)
            #expect(reply.status == .badRequest && reply.text.contains("--airlock-workspace-port"), "\(reply.text)")
            // Without network=workspace, the link is the public one, as before.
            let plain = try await api.call(.get, "/api/workspaces/\(ws)/requests/\(rid)/link", as: TestUsers.researcher)
            #expect(plain.json["containerUrl"]?.stringValue?.contains("perm=rwdl&") == true)
        }
    }
}

/// The server's clock, which a test moves forward by `offset` seconds (to expire links).
final class ServerClock: Sendable {
    let offset = Mutex<Double>(0)

    var environment: EngineEnvironment {
        EngineEnvironment(now: { [self] in Date().timeIntervalSince1970 + self.offset.withLock { $0 } }, newId: { UUID().uuidString.lowercased() })
    }
}
