// End to end, as root: a restricted workspace with a Linux desktop service (TigerVNC + noVNC) opened
// through the gateway — the noVNC page and an RFB handshake over the gateway's WebSocket — then a
// researcher's personal desktop: private to its owner, running as a uid of its own, stopped and
// started, restarted by the supervisor after SIGKILL; deleting the workspace leaves no process, uid
// or cgroup.
import EnclaveCore
import EnclaveLocal
import EnclaveServer
import EnclaveTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Testing

enum DesktopE2ESupport {
    static let unavailableReason: String? = {
        if let reason = WorkloadE2ESupport.unavailableReason { return reason }
        for tool in ["Xtigervnc", "websockify", "openbox", "xterm", "bash"] where HostCommand.locate(tool) == nil {
            return "\(tool) missing (apt-get install tigervnc-standalone-server websockify novnc openbox xterm)"
        }
        if !FileManager.default.fileExists(atPath: "/usr/share/novnc/vnc.html") { return "noVNC missing (apt-get install novnc)" }
        return nil
    }()

    static let shouldRun = unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] == "true"
}

@Suite(
    "Desktop workload end to end", .serialized,
    .enabled(if: DesktopE2ESupport.shouldRun, "needs root, bwrap, TigerVNC, noVNC, websockify (\(DesktopE2ESupport.unavailableReason ?? ""))"))
struct DesktopWorkloadTests: WorkloadE2E {
    let command = HostCommand()

    /// Speaks RFB 3.8 over the gateway's WebSocket up to ServerInit; returns the server's version line,
    /// the security types it offered and the framebuffer size.
    ///
    /// Retried for up to 30 s: after a restart websockify can serve the page a moment before the X server
    /// listens, and then closes the WebSocket without a handshake (seen once in a full run).
    func rfbHandshake(port: Int, path: String, bearer: String) async throws -> (version: String, types: [UInt8], width: Int, height: Int) {
        let deadline = Date().addingTimeInterval(30)
        var outcome = try? await rfbHandshakeAttempt(port: port, path: path, bearer: bearer)
        while outcome == nil, Date() < deadline {
            try await Task.sleep(for: .milliseconds(500))
            outcome = try? await rfbHandshakeAttempt(port: port, path: path, bearer: bearer)
        }
        let (version, types, width, height) = try #require(outcome, "no RFB handshake through \(path) within 30 s")
        return (version, types, width, height)
    }

    func rfbHandshakeAttempt(port: Int, path: String, bearer: String) async throws -> (String, [UInt8], Int, Int)? {
        let result = NIOLockedValueBox<(String, [UInt8], Int, Int)?>(nil)
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)\(path)",
            configuration: .init(maxFrameSize: 1 << 22, additionalHeaders: [.authorization: bearer]),
            logger: Logger(label: "rfb-ws")
        ) { inbound, outbound, _ in
            var bytes: [UInt8] = []
            var version = ""
            var types: [UInt8] = []
            var stage = 0
            func send(_ data: [UInt8]) async throws { try await outbound.write(.binary(ByteBuffer(bytes: data))) }
            for try await message in inbound.messages(maxSize: 1 << 22) {
                guard case .binary(let buffer) = message else { continue }
                bytes += Array(buffer.readableBytesView)
                if stage == 0, bytes.count >= 12 {
                    version = String(decoding: bytes[0..<12], as: UTF8.self)
                    bytes.removeFirst(12)
                    try await send(Array("RFB 003.008\n".utf8))
                    stage = 1
                }
                if stage == 1, let count = bytes.first, bytes.count >= 1 + Int(count) {
                    types = Array(bytes[1..<(1 + Int(count))])
                    bytes.removeFirst(1 + Int(count))
                    try await send([1])  // None: the gateway and websockify's token are the gate (see the bundle)
                    stage = 2
                }
                if stage == 2, bytes.count >= 4 {
                    #expect(bytes[0..<4].allSatisfy { $0 == 0 }, "SecurityResult OK")
                    bytes.removeFirst(4)
                    try await send([1])  // ClientInit: shared
                    stage = 3
                }
                if stage == 3, bytes.count >= 24 {
                    let width = Int(bytes[0]) << 8 | Int(bytes[1])
                    let height = Int(bytes[2]) << 8 | Int(bytes[3])
                    result.withLockedValue { $0 = (version, types, width, height) }
                    break
                }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return result.withLockedValue { $0 }
    }

    /// (pid, uid) of every process running `program` (directly, or as the script of an interpreter).
    func processes(_ program: String) async throws -> [(pid: Int32, uid: Int)] {
        let table = try await command.check(["ps", "-e", "-o", "pid=,uid=,args="])
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, let pid = Int32(fields[0]), let uid = Int(fields[1]) else { return nil }
            let runs = fields.dropFirst(2).prefix(2).contains { $0.split(separator: "/").last.map(String.init) == program }
            return runs ? (pid, uid) : nil
        }
    }

    /// Proportional set size (kB) of every process of `uid`.
    func pssKilobytes(ofUid uid: Int) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var total = 0
        for entry in entries where Int32(entry) != nil {
            guard let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                status.split(separator: "\n").contains(where: { $0.hasPrefix("Uid:") && $0.split(separator: "\t").dropFirst().first == "\(uid)" }),
                let rollup = try? String(contentsOfFile: "/proc/\(entry)/smaps_rollup", encoding: .utf8),
                let line = rollup.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") })
            else { continue }
            total += Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return total
    }

    @Test func aDesktopOpensThroughTheGatewayAndAPersonalDesktopIsItsOwnersAlone() async throws {
        let settings = ParallelHostPlane.make("d").settings
        let enclave = try await TestEnclave.make(workers: 2, templatesDir: try TestPaths.combinedTemplates(), dataPlane: settings)
        defer { enclave.remove() }
        try await scenario(enclave)
        let leftover = try await command.check(["ps", "-e", "-o", "args="])
        #expect(!leftover.contains(enclave.dataDir.path), "no process runs from the test's DATA any more")
    }

    func scenario(_ enclave: TestEnclave) async throws {
        let owner = TestUsers.owner
        let admin = TestUsers.admin
        let alice = TestUsers.researcher
        let bob = TestUsers.researcher2
        try await buildApplication(enclave.deps).test(.live) { client in
            let port = try #require(client.port)
            let ws = try await createRestrictedWorkspace(client, enclave, owner: owner, description: "desktop")
            let wsProperties = try await call(client, enclave, .get, "/api/workspaces/\(ws)", as: admin).json["workspace"]?["properties"]
            let workspaceUid = try #require(wsProperties?["workspace_uid"]?.intValue)
            let cgroup = try #require(wsProperties?["cgroup"]?.stringValue)
            let assign = try await call(
                client, enclave, .post, "/api/workspaces/\(ws)/users/assign", as: admin,
                json: ["role_id": "WorkspaceResearcher", "user_ids": [.string(alice.id), .string(bob.id)]])
            #expect(assign.status == .accepted, "\(assign.text)")

            // The shared desktop service.
            let started = Date()
            let createSvc = try await call(
                client, enclave, .post, "/api/workspaces/\(ws)/workspace-services", as: owner,
                json: ["templateName": "tre-service-desktop", "properties": ["display_name": "Desktop", "description": "e2e"]])
            let svcOp = try await wait(client, enclave, createSvc.location, as: owner, timeout: 900)
            #expect(svcOp["status"] == "deployed", "\(svcOp)")
            let svc = try #require(svcOp["resourceId"]?.stringValue)
            let base = "/workspaces/\(ws)/services/\(svc)"
            let page = try await call(client, enclave, .get, "\(base)/vnc.html", as: owner)
            print(
                "Desktop service: deployed and its noVNC page served through the gateway \(String(format: "%.1f", Date().timeIntervalSince(started))) s after the request; \(svcOp["message"] ?? .null)"
            )
            #expect(page.status == .ok)
            #expect(page.text.contains("<title>noVNC"))
            let index = try await call(client, enclave, .get, "\(base)/", as: owner)
            #expect(index.status == .ok)
            #expect(
                index.text.contains("vnc.html?path=\(base.dropFirst())/websockify"), "the index opens noVNC on this prefix's WebSocket: \(index.text)"
            )

            let rfb = try await rfbHandshake(port: port, path: "\(base)/websockify", bearer: try await enclave.bearer(owner))
            #expect(rfb.version == "RFB 003.008\n")
            #expect(rfb.types == [1])
            #expect(rfb.width == 1280 && rfb.height == 800)
            #expect(try await processes("Xtigervnc").contains { $0.uid == workspaceUid }, "the service's desktop runs as the workspace uid")

            // No TCP listener for VNC; websockify refuses a WebSocket without the gateway's token.
            let namespace = try await command.check([
                "ip", "netns", "identify", "\(try #require(await processes("websockify").first { $0.uid == workspaceUid }).pid)",
            ])
            let listeners = try await command.check(["ip", "netns", "exec", namespace.trimmingCharacters(in: .whitespacesAndNewlines), "ss", "-Hltn"])
            #expect(!listeners.contains(":59"), "Xtigervnc listens on no TCP port: \(listeners)")
            // Other tools in the workspace's network namespace reach neither the X display (no abstract
            // socket) nor the VNC server through websockify without the gateway's token.
            let netns = namespace.trimmingCharacters(in: .whitespacesAndNewlines)
            let display = try await command.run(["ip", "netns", "exec", netns, "xdpyinfo", "-display", ":1"])
            #expect(display.status != 0, "the desktop's X display is private to its sandbox: \(display.output)")
            let address = try #require(wsProperties?["workspace_address"]?.stringValue)
            let tokenless = try await command.run([
                "ip", "netns", "exec", netns, "python3", "-c",
                """
                import socket
                s = socket.create_connection(("\(address)", 6080), timeout=5)
                s.sendall(b"GET /websockify HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")
                data = b""
                try:
                    while True:
                        chunk = s.recv(4096)
                        if not chunk: break
                        data += chunk
                except OSError:
                    pass
                print("RFB" if b"RFB" in data else "no RFB")
                """,
            ])
            #expect(tokenless.output.contains("no RFB"), "websockify without the token relays nothing: \(tokenless.output) \(tokenless.error)")

            // Alice's personal desktop.
            let urBase = "/api/workspaces/\(ws)/workspace-services/\(svc)/user-resources"
            let urStarted = Date()
            let createUr = try await call(
                client, enclave, .post, urBase, as: alice,
                json: [
                    "templateName": "tre-user-resource-desktop",
                    "properties": ["display_name": "Mine", "description": "e2e", "vm_size": "Small (1 CPU, 2 GB)"],
                ])
            let urOp = try await wait(client, enclave, createUr.location, as: alice, timeout: 300)
            #expect(urOp["status"] == "deployed", "\(urOp)")
            let ur = try #require(urOp["resourceId"]?.stringValue)
            let personal = "\(base)/user-resources/\(ur)"
            let mine = try await call(client, enclave, .get, "\(personal)/vnc.html", as: alice)
            print(
                "Personal desktop: noVNC page through the gateway \(String(format: "%.1f", Date().timeIntervalSince(urStarted))) s after the request")
            #expect(mine.status == .ok)
            #expect(mine.text.contains("<title>noVNC"))
            for file in (try? FileManager.default.contentsOfDirectory(atPath: enclave.dataDir.path + "/run/workloads")) ?? []
            where file.hasSuffix(".log") && mine.status != .ok {
                print(
                    "--- \(file)\n"
                        + ((try? String(contentsOfFile: enclave.dataDir.path + "/run/workloads/" + file, encoding: .utf8)) ?? "").suffix(1500))
            }
            #expect(try await call(client, enclave, .get, "\(personal)/vnc.html", as: bob).status == .forbidden, "another researcher may not open it")
            #expect(try await call(client, enclave, .get, "\(personal)/vnc.html", as: owner).status == .ok, "a workspace owner may")
            let personalRfb = try await rfbHandshake(port: port, path: "\(personal)/websockify", bearer: try await enclave.bearer(alice))
            #expect(personalRfb.version == "RFB 003.008\n")

            // It runs as Alice's own uid, which owns her home (0700), in a cgroup of its own.
            let aliceUids = Set(try await processes("Xtigervnc").map(\.uid)).subtracting([workspaceUid])
            #expect(aliceUids.count == 1)
            let aliceUid = try #require(aliceUids.first)
            #expect(Set(try await processes("xterm").map(\.uid)) == [workspaceUid, aliceUid], "each desktop has its xterm")
            #expect(Set(try await processes("openbox").map(\.uid)) == [workspaceUid, aliceUid], "and its window manager")
            print("Desktop memory: \(pssKilobytes(ofUid: aliceUid) / 1024) MB PSS for the personal desktop's processes")
            let home = try FileManager.default.attributesOfItem(atPath: enclave.dataDir.path + "/workspaces/\(ws)/home/\(alice.id)")
            #expect((home[.ownerAccountID] as? NSNumber)?.intValue == aliceUid)
            #expect((home[.groupOwnerAccountID] as? NSNumber)?.intValue == workspaceUid)
            #expect((home[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            let unified = Cgroups().unified
            let limitFile = unified ? "/sys/fs/cgroup/\(cgroup)/\(ur)/memory.max" : "/sys/fs/cgroup/memory/\(cgroup)/\(ur)/memory.limit_in_bytes"
            let limit = try String(contentsOfFile: limitFile, encoding: .utf8)
            #expect(limit.trimmingCharacters(in: .whitespacesAndNewlines) == "\(2 << 30)", "Small = 2 GB")

            // Stop: power state stopped, the gateway says so.
            let stop = try await call(client, enclave, .post, "\(urBase)/\(ur)/invoke-action?action=stop", as: alice)
            #expect(try await wait(client, enclave, stop.location, as: alice, timeout: 60)["status"] == "action_succeeded")
            #expect(
                try await call(client, enclave, .get, "\(urBase)/\(ur)", as: alice).json["userResource"]?["azureStatus"] == ["powerState": "stopped"])
            let stopped = try await poll(client, enclave, "\(personal)/vnc.html", as: alice, until: .serviceUnavailable)
            #expect(stopped.status == .serviceUnavailable)
            #expect(stopped.text.contains("stopped"), "\(stopped.text)")
            #expect(try await processes("Xtigervnc").allSatisfy { $0.uid != aliceUid })

            // Start: running again.
            let start = try await call(client, enclave, .post, "\(urBase)/\(ur)/invoke-action?action=start", as: alice)
            #expect(try await wait(client, enclave, start.location, as: alice, timeout: 120)["status"] == "action_succeeded")
            #expect(
                try await call(client, enclave, .get, "\(urBase)/\(ur)", as: alice).json["userResource"]?["azureStatus"] == ["powerState": "running"])
            #expect(try await poll(client, enclave, "\(personal)/vnc.html", as: alice, until: .ok).status == .ok)

            // SIGKILL a part of each desktop: the supervisor starts the whole desktop again.
            let x = try #require(try await processes("Xtigervnc").first { $0.uid == aliceUid })
            kill(x.pid, SIGKILL)
            let w = try #require(try await processes("websockify").first { $0.uid == workspaceUid })
            kill(w.pid, SIGKILL)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let servers = try await processes("Xtigervnc"), proxies = try await processes("websockify")
                if servers.contains(where: { $0.uid == aliceUid && $0.pid != x.pid }),
                    proxies.contains(where: { $0.uid == workspaceUid && $0.pid != w.pid })
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await processes("Xtigervnc").contains { $0.uid == aliceUid && $0.pid != x.pid }, "a new Xtigervnc for Alice")
            #expect(try await poll(client, enclave, "\(personal)/vnc.html", as: alice, until: .ok).status == .ok)
            #expect(try await poll(client, enclave, "\(base)/vnc.html", as: owner, until: .ok).status == .ok)
            let again = try await rfbHandshake(port: port, path: "\(personal)/websockify", bearer: try await enclave.bearer(alice))
            #expect(again.width == 1280)

            // Delete the workspace: disable (cascades), then delete (uninstall deepest first).
            let disable = try await call(
                client, enclave, .patch, "/api/workspaces/\(ws)", as: admin, json: ["isEnabled": false], headers: [HTTPField.Name("etag")!: "*"])
            #expect(try await wait(client, enclave, disable.location, as: admin, timeout: 300)["status"] == "updated")
            let delete = try await call(client, enclave, .delete, "/api/workspaces/\(ws)", as: admin)
            #expect(try await wait(client, enclave, delete.location, as: admin, timeout: 300)["status"] == "deleted")
            let uids = try await command.check(["ps", "-e", "-o", "uid="]).split(separator: "\n").compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            #expect(!uids.contains(workspaceUid), "no process of the workspace uid")
            #expect(!uids.contains(aliceUid), "no process of Alice's uid")
            for folder in unified ? ["/sys/fs/cgroup/\(cgroup)"] : Cgroups.controllers.map({ "/sys/fs/cgroup/\($0)/\(cgroup)" }) {
                #expect(!FileManager.default.fileExists(atPath: folder), "\(folder) removed")
            }
        }
    }
}
