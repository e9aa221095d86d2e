import EnclavePortal
import Foundation
import Testing

@Suite("Safe markdown: a workspace overview as HTML that cannot run code")
struct SafeMarkdownTests {
    @Test("ordinary markdown renders, with headings below the page's own")
    func ordinaryMarkdown() {
        let html = SafeMarkdown.html(
            "# Cohort study\n\nData from **three** trusts, see [the protocol](https://example.org/p?a=1&b=2).\n\n- one\n- two\n\n`code` and\n\n```sql\nSELECT 1 < 2;\n```\n")
        #expect(html.contains("<h3>Cohort study</h3>"))
        #expect(html.contains("<strong>three</strong>"))
        #expect(html.contains("<a href=\"https://example.org/p?a=1&amp;b=2\" rel=\"noopener noreferrer\">the protocol</a>"))
        #expect(html.contains("<ul><li>one</li><li>two</li></ul>"))
        #expect(html.contains("<code>code</code>"))
        #expect(html.contains("<pre><code>SELECT 1 &lt; 2;\n</code></pre>"))
        #expect(SafeMarkdown.html("") == "")
    }

    @Test(
        "raw HTML, script URLs and attribute tricks come out as inert text",
        arguments: [
            "<script>alert(1)</script>",
            "Hello <img src=x onerror=alert(1)> there",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](http://a\" onmouseover=\"alert(1))",
            "[x](http://a\"><script>alert(1)</script>)",
            "![pic](x\" onerror=\"alert(1))",
            "![pic](javascript:alert(1))",
            "&<script>alert(1)</script>;",
            "&<img/src=x/onerror=alert(1)>;",
            "```x\" onclick=\"alert(1)\ncode\n```",
            "<p onclick=alert(1)>hi</p>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[ref]: javascript:alert(1)\n\n[click][ref]",
            "<",
            "text <",
            "<svg><script>alert(1)</script></svg>",
            "<iframe src=https://evil.example></iframe>",
            "| a | b |\n|:-|-:|\n| <b>1</b> | 2 |",
        ])
    func hostileInputIsInert(markdown: String) {
        let html = SafeMarkdown.html(markdown)
        let lower = html.lowercased()
        for banned in ["<script", "<img", "<svg", "<iframe", "<b>", "<p onclick", "<a href=\"javascript"] {
            #expect(!lower.contains(banned), "\(banned) in \(html)")
        }
        // Every tag left is one the allowlist writes; attributes only where it puts them.
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            let close = rest[open...].firstIndex(of: ">") ?? rest.endIndex
            let tag = String(rest[open..<close])
            let allowed = tag.range(of: #"^</?(p|em|strong|s|code|pre|ul|ol|li|blockquote|table|thead|tbody|tr|th|td|br|hr|a|h[3-6])$"#, options: .regularExpression) != nil
                || tag.range(of: #"^<a href="(https?://|mailto:)[^"<>\s]*" rel="noopener noreferrer"$"#, options: .regularExpression) != nil
                || tag.range(of: #"^<t[hd] class="align-(left|center|right)"$"#, options: .regularExpression) != nil
                || tag.range(of: #"^<ol start="\d+"$"#, options: .regularExpression) != nil
            #expect(allowed, "unexpected tag \(tag) in \(html) from \(markdown)")
            rest = close < rest.endIndex ? rest[rest.index(after: close)...] : ""
        }
    }

    @Test("links keep their text when their target is not allowed; mail and web links work")
    func linkTargets() {
        #expect(SafeMarkdown.html("[click](javascript:alert(1))").contains("<a>click</a>"))
        #expect(SafeMarkdown.html("[mail us](mailto:tre@example.org)").contains("<a href=\"mailto:tre@example.org\" rel=\"noopener noreferrer\">mail us</a>"))
        #expect(SafeMarkdown.html("[ref]: https://example.org/x\n\n[docs][ref]").contains("href=\"https://example.org/x\""))
        #expect(SafeMarkdown.html("<script>alert(1)</script>").contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!SafeMarkdown.isSafeLinkTarget("//evil.example/x"))
        #expect(!SafeMarkdown.isSafeLinkTarget("/relative"))
        #expect(!SafeMarkdown.isSafeLinkTarget("https://a.example/x y"))
        #expect(SafeMarkdown.isSafeLinkTarget("HTTPS://a.example/"))
    }
}

extension SafeMarkdownTests {
    @Test("an unclosed tag does not swallow the rest of the text; code keeps its < signs")
    func unclosedTagsAndCode() {
        let html = SafeMarkdown.html("Hi <img src=x onerror=alert(1)>\n\n[good](https://example.org) and `a < b`\n\n```\nif a < b {}\n```")
        #expect(html.contains("<p>Hi &lt;img src=x onerror=alert(1)&gt;</p>"))
        #expect(html.contains("<a href=\"https://example.org\" rel=\"noopener noreferrer\">good</a>"))
        #expect(html.contains("<code>a &lt; b</code>"))
        #expect(html.contains("<pre><code>if a &lt; b {}\n</code></pre>"))
    }
}
