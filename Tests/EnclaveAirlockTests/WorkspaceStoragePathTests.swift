import EnclaveAirlock
import Foundation
import Testing

@Suite("Workspace storage: the files an export may pick")
struct WorkspaceStoragePathTests {
    @Test("candidates are regular files under shared/ and the user's own home, never through a link; resolve accepts each")
    func candidates() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        for folder in ["shared/results/deep", "home/u1", "home/u2", "outside"] {
            try fm.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for file in ["shared/results/table.csv", "shared/results/deep/b.txt", "home/u1/mine.txt", "home/u2/theirs.txt", "outside/secret.txt"] {
            try Data("x".utf8).write(to: root.appendingPathComponent(file))
        }
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("shared/link.csv").path, withDestinationPath: root.appendingPathComponent("outside/secret.txt").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("shared/linked-dir").path, withDestinationPath: root.appendingPathComponent("outside").path)

        let found = WorkspaceStoragePath.candidates(workspaceRoot: root.path, userId: "u1")
        #expect(found == ["shared/results/deep/b.txt", "shared/results/table.csv", "home/u1/mine.txt"])
        for path in found { #expect(throws: Never.self) { try WorkspaceStoragePath.resolve(path, workspaceRoot: root.path, userId: "u1") } }
        #expect(WorkspaceStoragePath.candidates(workspaceRoot: root.path, userId: "..") == ["shared/results/deep/b.txt", "shared/results/table.csv"])
        #expect(WorkspaceStoragePath.candidates(workspaceRoot: root.path, userId: "u1", limit: 1).count == 1)
        // A home that is itself a link is not walked.
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("home/u3").path, withDestinationPath: root.appendingPathComponent("outside").path)
        #expect(WorkspaceStoragePath.candidates(workspaceRoot: root.path, userId: "u3") == ["shared/results/deep/b.txt", "shared/results/table.csv"])
    }
}
