import EnclavePortal
import Testing

@Suite struct PortalViewsTests {
    let views: PortalViews

    init() throws { views = try PortalViews.load() }

    @Test func everyPageHasTheLayoutAndItsStylesheetIsVersioned() throws {
        let html = views.render("home", ["workspaces": [[String: String]](), "canCreate": false], layout: PageLayout(title: "Your workspaces", userName: "Ada", csrf: "tok"))
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<title>Your workspaces · Enclave</title>"))
        let css = try #require(views.assets["portal.css"])
        #expect(html.contains("href=\"/static/portal.css?v=\(css.version)\""))
        #expect(css.version.count == 12 && css.contentType.hasPrefix("text/css"))
        #expect(html.contains("name=\"csrf\" value=\"tok\""), "the sign-out form carries the CSRF token")
        #expect(html.contains("You have no workspaces yet."), "the empty state")
        #expect(html.contains("<a href=\"/workspaces\" aria-current=\"page\">Workspaces</a>"), "the current section is marked")
        #expect(!html.contains("<a href=\"/airlock\" aria-current"))
        var airlock = PageLayout(title: "Airlock", userName: "Ada")
        airlock.section = "airlock"
        #expect(views.render("home", ["workspaces": [[String: String]]()], layout: airlock).contains("<a href=\"/airlock\" aria-current=\"page\">"))
    }

    @Test func userContentIsEscapedEverywhere() {
        let hostile = "<script>alert(\"x\")</script>'"
        let html = views.render(
            "home",
            ["workspaces": [["id": "1", "name": hostile, "description": hostile, "status": "deployed", "statusClass": "ok"]], "canCreate": true],
            layout: PageLayout(title: hostile, userName: hostile, notice: hostile, error: hostile))
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;"))
    }

    @Test func signedOutPagesHaveNoNavigation() {
        let html = views.render("error", ["message": "Gone", "signIn": true], layout: PageLayout(title: "Please sign in"))
        #expect(!html.contains("id=\"sign-out\""))
        #expect(html.contains("href=\"/auth/login\""))
    }

    @Test func formDataKeepsEveryValueInOrder() {
        let form = FormData(urlEncoded: "csrf=a%2Bb&tags=x&tags=y+z&empty=&network.mode=restricted&tags=%3Cq%3E")
        #expect(form["csrf"] == "a+b")
        #expect(form.all("tags") == ["x", "y z", "<q>"])
        #expect(form["empty"] == "")
        #expect(form["missing"] == nil)
        #expect(form.names == ["csrf", "tags", "empty", "network.mode"])
    }
}
