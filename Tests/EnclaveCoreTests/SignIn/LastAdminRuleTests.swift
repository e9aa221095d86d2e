import EnclaveCore
import Testing

@Suite("The last enabled TREAdmin")
struct LastAdminRuleTests {
    static func account(_ id: String, roles: [String], enabled: Bool = true) -> UserAccount {
        UserAccount(id: id, username: id, name: id, email: "", roles: roles, enabled: enabled, createdAt: 0)
    }

    /// (who is disabled, the other accounts, whether it is refused)
    static let cases: [(String, [UserAccount], Bool)] = [
        ("the only admin", [], true),
        ("the only enabled admin beside a disabled one", [account("b", roles: ["TREAdmin"], enabled: false)], true),
        ("the only admin beside a user", [account("b", roles: ["TREUser"])], true),
        ("one of two enabled admins", [account("b", roles: ["TREAdmin"])], false),
    ]

    @Test("cannot be disabled; any other admin can", arguments: cases.indices)
    func lastAdminCannotBeDisabled(index: Int) {
        let (_, others, refused) = Self.cases[index]
        let admin = Self.account("a", roles: ["TREAdmin"])
        #expect((UserAccount.problem(disabling: admin, among: [admin] + others) != nil) == refused, "\(Self.cases[index].0)")
    }

    @Test func aUserOrADisabledAdminCanAlwaysBeDisabled() {
        let user = Self.account("u", roles: ["TREUser"])
        let disabledAdmin = Self.account("d", roles: ["TREAdmin"], enabled: false)
        #expect(UserAccount.problem(disabling: user, among: [user]) == nil)
        #expect(UserAccount.problem(disabling: disabledAdmin, among: [disabledAdmin]) == nil)
    }
}
