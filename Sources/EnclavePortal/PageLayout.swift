/// What every portal page shows around its own content: the title, who is signed in, the navigation
/// they may use, the CSRF token the sign-out form (and every other form) carries, and a message.
public struct PageLayout: Sendable {
    public var title: String
    /// The signed-in user's display name; nil on pages shown before sign-in (errors).
    public var userName: String?
    public var isAdmin: Bool
    /// Holders of AirlockManager in any workspace see "Reviews" in the navigation.
    public var isAirlockManager: Bool
    public var csrf: String
    /// Which navigation entry is the current page (`home`, `airlock`, `admin`, `account`).
    public var section: String {
        didSet { markSection() }
    }
    /// A one-line notice after an action ("Workspace deletion requested").
    public var notice: String?
    /// An error shown at the top of the page (`role="alert"`).
    public var error: String?
    /// Breadcrumbs above the title: (label, href) from the home page down; the page itself is not included.
    public var breadcrumbs: [Link]
    /// Script files (names under `/static/`) the page needs; each is loaded deferred from Enclave's origin.
    public var scriptNames: [String]

    // Filled by `PortalViews.render`.
    public var body: String = ""
    public var stylesheet: String = ""
    public var scripts: [String] = []

    public struct Link: Sendable {
        public var label: String
        public var href: String
        public init(_ label: String, _ href: String) {
            self.label = label
            self.href = href
        }
    }

    public init(
        title: String, userName: String? = nil, isAdmin: Bool = false, isAirlockManager: Bool = false, csrf: String = "",
        section: String = "home", notice: String? = nil, error: String? = nil, breadcrumbs: [Link] = [],
        scriptNames: [String] = []
    ) {
        self.title = title
        self.userName = userName
        self.isAdmin = isAdmin
        self.isAirlockManager = isAirlockManager
        self.csrf = csrf
        self.section = section
        self.notice = notice
        self.error = error
        self.breadcrumbs = breadcrumbs
        self.scriptNames = scriptNames
        markSection()
    }

    // Navigation state for the template: mustache has no comparisons and reads stored properties only
    // (through Mirror), so these are kept in step with `section`.
    public private(set) var inHome = false
    public private(set) var inAirlock = false
    public private(set) var inAdmin = false
    public private(set) var inAccount = false

    private mutating func markSection() {
        inHome = section == "home"
        inAirlock = section == "airlock"
        inAdmin = section == "admin"
        inAccount = section == "account"
    }
}
