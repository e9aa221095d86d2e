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

@Suite("The last enabled TREAdmin: any change that takes it away")
struct LastAdminChangeTests {
    static let admin = LastAdminRuleTests.account("a", roles: ["TREAdmin", "TREUser"])

    /// (what happens to the only admin, whether it is refused)
    static let changes: [(String, @Sendable (inout UserAccount) -> Void, Bool)] = [
        ("disabled", { $0.enabled = false }, true),
        ("loses TREAdmin", { $0.roles = ["TREUser"] }, true),
        ("loses every role", { $0.roles = [] }, true),
        ("loses TREUser only", { $0.roles = ["TREAdmin"] }, false),
        ("renamed", { $0.name = "Someone" }, false),
    ]

    @Test("is refused only when it leaves no enabled admin", arguments: changes.indices)
    func onlyChangesThatRemoveTheLastAdminAreRefused(index: Int) {
        let (what, edit, refused) = Self.changes[index]
        var after = Self.admin
        edit(&after)
        let problem = UserAccount.lastAdminProblem(changing: Self.admin, to: after, among: [Self.admin])
        #expect((problem != nil) == refused, "\(what)")
        if let problem { #expect(problem.contains("'a' is the last TREAdmin")) }
    }

    @Test func theMessageSaysWhichChangeWasRefused() {
        var demoted = Self.admin
        demoted.roles = []
        #expect(UserAccount.lastAdminProblem(changing: Self.admin, to: demoted, among: [Self.admin])?.contains("removing its TREAdmin role") == true)
        #expect(UserAccount.problem(disabling: Self.admin, among: [Self.admin])?.contains("disabling it") == true)
    }

    @Test func withAnotherEnabledAdminEitherChangeIsAllowed() {
        let other = LastAdminRuleTests.account("b", roles: ["TREAdmin"])
        var demoted = Self.admin
        demoted.roles = ["TREUser"]
        #expect(UserAccount.lastAdminProblem(changing: Self.admin, to: demoted, among: [Self.admin, other]) == nil)
    }
}
