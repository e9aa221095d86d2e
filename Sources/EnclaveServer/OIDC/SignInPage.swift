import EnclaveAuth
import EnclavePortal
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Enclave's sign-in pages: plain server-rendered HTML, every interpolated value escaped, every form
/// carrying the flow's CSRF token. No JavaScript and no inline styles (the portal's stylesheet, unversioned
/// and revalidated by ETag, as these pages are rendered without the portal's views), so a strict CSP holds.
enum SignInPage {
    /// The pages' Content-Security-Policy. Browsers apply `form-action` to the redirects that follow a
    /// form post too (Chromium refused the final 303 to the client's loopback callback, found by the
    /// headless-Chromium sign-in test), so a page of a flow with a client also allows the origin of that
    /// client's redirect URI, which was checked against the client's registration before the flow began.
    static func contentSecurityPolicy(redirectURI: String? = nil) -> String {
        let targets = ["'self'"] + (redirectURI.flatMap(origin(of:)).map { [$0] } ?? [])
        return "default-src 'none'; style-src 'self'; img-src data:; form-action \(targets.joined(separator: " ")); frame-ancestors 'none'"
    }

    /// `scheme://host[:port]` of an http(s) URI, or nil when it has no such origin or holds characters
    /// that do not belong in a CSP source expression.
    static func origin(of uri: String) -> String? {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.percentEncodedHost, !host.isEmpty
        else { return nil }
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let origin = "\(scheme)://\(hostText)" + (components.port.map { ":\($0)" } ?? "")
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/[]")
        return origin.allSatisfy(allowed.contains) ? origin : nil
    }

    /// A page as every sign-in, account and sign-out page is served: never cached, never framed, with the
    /// pages' Content-Security-Policy, and no Referer (setup and invitation links carry their token).
    static func response(_ html: String, status: HTTPResponse.Status = .ok, redirectURI: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = contentSecurityPolicy(redirectURI: redirectURI)
        if let frameOptions = HTTPField.Name("X-Frame-Options") { headers[frameOptions] = "DENY" }
        if let referrerPolicy = HTTPField.Name("Referrer-Policy") { headers[referrerPolicy] = "no-referrer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func render(_ step: SignInStep, csrf: String, action: String) -> String {
        switch step {
        case .password(let error):
            return page("Sign in", error: error, body: form(action, csrf, step: "password", fields: """
                <label>Username <input name="username" autocomplete="username" required autofocus></label>
                <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
                """, button: "Continue"))
        case .totp(let error):
            return page("Authenticator code", error: error, body: form(action, csrf, step: "totp", fields: """
                <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
                <label>Code <input name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus></label>
                """, button: "Sign in"))
        case .enroll(let uri, let secret, let error):
            let qr = QRCode.svg(uri) ?? ""
            return page("Set up your authenticator", error: error, body: """
                <p>Multi-factor sign-in is required. Scan this code with an authenticator app (any TOTP app), or type the secret.</p>
                <div class="qr">\(qr)</div>
                <p>Secret: <code id="totp-secret">\(escape(secret))</code></p>
                """ + form(action, csrf, step: "enroll", fields: """
                <label>Code from the app <input name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus></label>
                """, button: "Confirm"))
        case .recoveryCodes(let codes):
            let list = codes.map { "<li><code>\(escape($0))</code></li>" }.joined()
            return page("Recovery codes", error: nil, body: """
                <p>Keep these codes somewhere safe. Each signs you in once if you lose your authenticator. They are shown only now.</p>
                <ul class="codes">\(list)</ul>
                """ + form(action, csrf, step: "continue", fields: "", button: "I have saved them"))
        case .setup(let error):
            return page("Set up the administrator", error: error, body: form(action, csrf, step: "setup", fields: """
                <label>Username <input name="username" value="admin" required></label>
                <label>Name <input name="name" value="Administrator" required></label>
                <label>Email <input name="email" type="email"></label>
                <label>Password (12 characters or more) <input name="password" type="password" autocomplete="new-password" required></label>
                """, button: "Continue"))
        case .invitation(let username, let error):
            return page("Choose your password", error: error, body: """
                <p>Welcome to Enclave. You have been invited as <strong>\(escape(username))</strong>. Choose a password; \
                next you set up an authenticator app.</p>
                """ + form(action, csrf, step: "invitation", fields: """
                <input type="hidden" name="username" value="\(escape(username))" autocomplete="username">
                <label>Password (12 characters or more) <input name="password" type="password" autocomplete="new-password" required autofocus></label>
                <label>The same password again <input name="confirm" type="password" autocomplete="new-password" required></label>
                """, button: "Continue"))
        case .done(let message):
            return page("Done", error: nil, body: "<p>\(escape(message))</p>")
        case .redirect(let location):
            return page("Signed in", error: nil, body: "<p><a href=\"\(escape(location))\">Continue</a></p>")
        }
    }

    /// RFC 8628's verification page: where the user types the code `enclave login` shows. A GET form, so
    /// it needs no flow yet; the sign-in that follows carries the flow's CSRF token as usual.
    static func deviceEntry(action: String, error: String?) -> String {
        page("Sign in a device", error: error, body: """
            <p>Enter the code shown in your terminal by <code>enclave login</code>. Only continue if you started that sign-in yourself.</p>
            <form method="get" action="\(escape(action))">
            <label>Code <input name="user_code" autocomplete="off" autocapitalize="characters" placeholder="BCDF-GHJK" required autofocus></label>
            <button type="submit">Continue</button>
            </form>
            """)
    }

    static func error(_ message: String) -> String {
        page("Sign-in problem", error: message, body: "")
    }

    static func form(_ action: String, _ csrf: String, step: String, fields: String, button: String) -> String {
        """
        <form method="post" action="\(escape(action))">
        <input type="hidden" name="csrf" value="\(escape(csrf))">
        <input type="hidden" name="step" value="\(escape(step))">
        \(fields)
        <button type="submit">\(escape(button))</button>
        </form>
        """
    }

    static func page(_ title: String, error: String?, body: String) -> String {
        let alert = error.map { "<p class=\"error\" role=\"alert\">\(escape($0))</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Enclave</title>
            <link rel="stylesheet" href="/static/portal.css">
            </head><body class="signin"><main id="main"><h1>\(escape(title))</h1>\(alert)\(body)</main></body></html>
            """
    }

    /// HTML-escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}
