import EnclaveCore
import Foundation
import Testing

@Suite("User directory (GET /api/users)")
struct UserDirectoryTests {
    static let rosa = UserAccount(
        id: "a-rosa", username: "rosa", name: "Rosa Franklin", email: "rosa@example.org", roles: ["TREUser"],
        totpSecretSealed: "sealed", createdAt: 0)
    static let ada = UserAccount(
        id: "a-ada", username: "ada", name: "Ada", email: "ada@example.org", roles: ["TREAdmin"], enabled: false, createdAt: 0)
    static let seenRosa = SeenUser(user: rosa.user, firstSeen: 10, lastSeen: 20)
    static let seenExternal = SeenUser(
        user: User(id: "ext-1", name: "Ezra External", email: "ezra@corp.example", roles: ["TREAdmin"]), firstSeen: 5, lastSeen: 30)
    static let seenNoEmail = SeenUser(user: User(id: "svc-2", name: "Script", email: "", roles: []), firstSeen: 1, lastSeen: 2)

    @Test func accountsComeFirstByUsernameThenExternalUsersOnce() {
        let users = UserDirectory.users(accounts: [Self.rosa, Self.ada], seen: [Self.seenExternal, Self.seenRosa, Self.seenNoEmail])
        #expect(users.map(\.id) == ["a-ada", "a-rosa", "ext-1", "svc-2"])
        #expect(users.map(\.source) == [.builtin, .builtin, .external, .external])
    }

    @Test func anAccountShowsItsStateAndWhenItWasLastSeen() throws {
        let users = UserDirectory.users(accounts: [Self.rosa, Self.ada], seen: [Self.seenRosa])
        let rosa = try #require(users.first { $0.id == "a-rosa" })
        #expect(rosa.lastSeen == 20 && rosa.mfaEnrolled && rosa.enabled && rosa.username == "rosa")
        let ada = try #require(users.first { $0.id == "a-ada" })
        #expect(ada.lastSeen == nil && !ada.mfaEnrolled && !ada.enabled)
    }

    @Test func externalUsersCarryTheirTokensRolesAndTheirEmailAsUsername() throws {
        let users = UserDirectory.users(accounts: [], seen: [Self.seenExternal, Self.seenNoEmail])
        #expect(users[0].username == "ezra@corp.example" && users[0].roles == ["TREAdmin"] && users[0].enabled)
        #expect(users[1].username == "svc-2")
    }

    @Test func theFilterMatchesUsernameNameOrEmailIgnoringCase() {
        let user = DirectoryUser(account: Self.rosa, lastSeen: nil)
        #expect(user.matches("") && user.matches("ROSA") && user.matches("frank") && user.matches("example.org"))
        #expect(!user.matches("ada"))
    }

    @Test func lastSeenIsAnExplicitNull() throws {
        let data = try JSONEncoder().encode(DirectoryUser(account: Self.ada, lastSeen: nil))
        let object = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(object["lastSeen"] == .null)
        #expect(object.objectValue?.keys.sorted() == ["email", "enabled", "id", "lastSeen", "mfaEnrolled", "name", "roles", "source", "username"])
    }
}
