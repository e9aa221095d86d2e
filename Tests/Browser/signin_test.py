#!/usr/bin/env python3
"""Signs in to Enclave's built-in OIDC provider with a real browser (headless Chromium + Selenium).

The steps are the ones a person takes: open the authorization endpoint as a client would (code +
PKCE S256, loopback redirect), type the username and password into the labelled fields, read the TOTP
secret from the enrollment page and type the current code, go past the recovery codes page, and land
on the client's loopback callback with an authorization code. The script then redeems the code at
/oidc/token with the PKCE verifier and calls GET /api/workspaces with the access token, in Python and
again from the browser (the bearer header added through the DevTools protocol). Enclave has no
Then the browser signs in to Enclave itself (a session, as the portal will): /auth/login, the same sign-in
pages with password and the next TOTP code, back to /account (the authenticated page: the user's name and
roles), the API read with the session cookie, and Sign out, after which /account asks to sign in again.

Usage: signin_test.py --base-url http://127.0.0.1:8000 --username alice --password-file pw.txt
       [--screenshots DIR]
Arguments fall back to ENCLAVE_BASE_URL, ENCLAVE_USERNAME, ENCLAVE_PASSWORD (or ENCLAVE_PASSWORD_FILE)
and ENCLAVE_SCREENSHOTS. The account must not have enrolled TOTP yet (a fresh `enclave users add`).
Needs Debian's chromium and chromium-driver and `python3 -m pip install selenium`.
Exits 0 when every step passed, 1 on the first failure, 2 when the browser cannot be started.
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import secrets
import shutil
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CLIENT_ID = "enclave-cli"  # the built-in provider's public client; any loopback port, path /callback
TIMEOUT = 20


def step(message):
    print(f"[signin] {message}", flush=True)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# --- TOTP (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits) -------------------------------------------

def totp(secret_base32, at=None, step_seconds=30, digits=6):
    text = secret_base32.strip().replace(" ", "").upper()
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    counter = int((time.time() if at is None else at) // step_seconds)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


# --- PKCE ----------------------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_pair():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode("ascii")).digest())


# --- The client's loopback callback ----------------------------------------------------------------

class Callback:
    """A tiny HTTP server standing in for the CLI's loopback listener; records the first /callback query."""

    def __init__(self):
        self.query = None
        self.received = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                if parsed.path == "/callback" and owner.query is None:
                    owner.query = urllib.parse.parse_qs(parsed.query)
                    owner.received.set()
                body = b"<!doctype html><title>Signed in</title><h1>Signed in</h1><p>You can close this window.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- HTTP helpers (stdlib only) ------------------------------------------------------------------

def http_call(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


# --- Browser -------------------------------------------------------------------------------------

def find_binary(names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def start_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = os.environ.get("CHROMIUM") or find_binary(["chromium", "chromium-browser"])
    driver_path = os.environ.get("CHROMEDRIVER") or find_binary(["chromedriver"])
    if not chromium or not driver_path:
        raise RuntimeError("chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=760,900", "--no-first-run", "--disable-extensions", "--password-store=basic"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages, e.g. CSP refusals
    step(f"starting headless {chromium} with {driver_path}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    return driver


def labelled_input(driver, label):
    """The input inside the <label> whose text starts with `label`, as a person finds the field."""
    from selenium.webdriver.common.by import By

    xpath = f"//label[starts-with(normalize-space(.), '{label}')]//input"
    fields = driver.find_elements(By.XPATH, xpath)
    check(len(fields) == 1, f"expected one field labelled '{label}' on '{driver.title}', found {len(fields)}")
    return fields[0]


def submit(driver, button_text):
    from selenium.webdriver.common.by import By

    buttons = driver.find_elements(By.XPATH, f"//button[normalize-space(.)='{button_text}']")
    check(len(buttons) == 1, f"expected a '{button_text}' button on '{driver.title}'")
    buttons[0].click()


def heading(driver):
    from selenium.webdriver.common.by import By

    headings = driver.find_elements(By.TAG_NAME, "h1")
    return headings[0].text.strip() if headings else ""


def page_error(driver):
    from selenium.webdriver.common.by import By

    alerts = driver.find_elements(By.CSS_SELECTOR, "[role=alert]")
    return alerts[0].text.strip() if alerts else ""


def wait_for(driver, predicate, what, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the page may be mid-navigation
            pass
        time.sleep(0.1)
    raise Failure(f"timed out waiting for {what}; at {driver.current_url} ('{driver.title}')")


def screenshot(driver, directory, name):
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    check(driver.save_screenshot(path), f"could not save {path}")
    step(f"screenshot saved: {path}")


# --- The sign-in -----------------------------------------------------------------------------------

def sign_in(driver, base, username, password, screenshots, callback):
    redirect_uri = f"http://127.0.0.1:{callback.port}/callback"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri,
        "code_challenge": challenge, "code_challenge_method": "S256", "state": state, "scope": "openid",
    })

    step(f"1. opening the sign-in page: {base}/oidc/authorize (client {CLIENT_ID}, redirect {redirect_uri})")
    driver.get(f"{base}/oidc/authorize?{query}")
    check(heading(driver) == "Sign in", f"expected the 'Sign in' page, got '{heading(driver)}': {page_error(driver)}")
    screenshot(driver, screenshots, "signin.png")

    step(f"2. typing username '{username}' and the password into the labelled fields; Continue")
    labelled_input(driver, "Username").send_keys(username)
    labelled_input(driver, "Password").send_keys(password)
    submit(driver, "Continue")
    wait_for(driver, lambda: heading(driver) != "Sign in" or page_error(driver), "the page after the password")
    check(heading(driver) == "Set up your authenticator",
          f"expected TOTP enrollment, got '{heading(driver)}' {page_error(driver)!r}")

    from selenium.webdriver.common.by import By
    secret = driver.find_element(By.ID, "totp-secret").text.strip()
    check(len(secret) >= 16, f"the TOTP secret on the page looks wrong: {secret!r}")
    qr = driver.find_elements(By.CSS_SELECTOR, ".qr svg")
    check(len(qr) == 1, "the enrollment page shows no QR code")
    step(f"3. enrollment page: QR code shown, secret read ({len(secret)} base32 characters)")
    screenshot(driver, screenshots, "signin-totp.png")

    # Avoid typing a code in the last two seconds of its 30 s window.
    if 30 - time.time() % 30 < 2:
        time.sleep(2.5)
    code = totp(secret)
    step("4. typing the current TOTP code (RFC 6238, SHA-1, 30 s, 6 digits); Confirm")
    labelled_input(driver, "Code").send_keys(code)
    submit(driver, "Confirm")
    wait_for(driver, lambda: heading(driver) != "Set up your authenticator" or page_error(driver) or callback.received.is_set(),
             "the page after the TOTP code")

    if heading(driver) == "Recovery codes":
        shown = driver.find_elements(By.CSS_SELECTOR, ".codes code")
        check(len(shown) > 0, "the recovery codes page lists no codes")
        step(f"5. recovery codes page: {len(shown)} codes shown; 'I have saved them'")
        submit(driver, "I have saved them")
    else:
        check(callback.received.is_set() or driver.current_url.startswith(redirect_uri),
              f"expected recovery codes or the redirect, got '{heading(driver)}' {page_error(driver)!r}")

    check(callback.received.wait(TIMEOUT), f"the browser never reached {redirect_uri}; at {driver.current_url}")
    wait_for(driver, lambda: driver.current_url.startswith(redirect_uri), "the browser to show the callback page")
    params = callback.query
    check("error" not in params, f"the provider redirected with an error: {params}")
    check(params.get("state") == [state], f"state mismatch: sent {state}, got {params.get('state')}")
    auth_code = (params.get("code") or [""])[0]
    check(auth_code, f"no code in the callback: {params}")
    step(f"6. redirected to the loopback callback with a code and the same state (browser at {urllib.parse.urlsplit(driver.current_url).path})")

    status, body = http_call(f"{base}/oidc/token", data=urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": auth_code, "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri, "code_verifier": verifier,
    }).encode("ascii"), headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(status == 200, f"/oidc/token answered {status}: {body}")
    tokens = json.loads(body)
    access = tokens.get("access_token")
    check(access, f"no access_token in {body}")
    claims = json.loads(base64.urlsafe_b64decode(access.split(".")[1] + "=="))
    check("otp" in claims.get("amr", []), f"the access token's amr lacks otp: {claims.get('amr')}")
    step(f"7. code redeemed at /oidc/token with the PKCE verifier: access token for "
         f"{claims.get('preferred_username')!r}, amr {claims.get('amr')}")

    status, body = http_call(f"{base}/api/workspaces", headers={"Authorization": f"Bearer {access}"})
    check(status == 200, f"GET /api/workspaces answered {status}: {body}")
    step("8. GET /api/workspaces with the access token: 200")

    # The same authenticated request from the browser: DevTools adds the bearer header to its requests.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {access}"}})
    driver.get(f"{base}/api/workspaces")
    text = driver.find_element(By.TAG_NAME, "body").text
    try:
        listed = json.loads(text)
    except ValueError:
        raise Failure(f"the browser's GET /api/workspaces did not show JSON: {text[:300]!r}")
    check(isinstance(listed, dict) and "workspaces" in listed, f"the browser's GET /api/workspaces showed {text[:300]!r}")
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    step("9. the browser loaded /api/workspaces with the bearer token: the workspace list")
    return secret


def session_sign_in(driver, base, username, password, secret, screenshots):
    from selenium.webdriver.common.by import By

    step(f"10. opening {base}/auth/login?return_to=/account: a browser session through the portal client")
    driver.get(f"{base}/auth/login?return_to=%2Faccount")
    check(heading(driver) == "Sign in", f"expected the 'Sign in' page, got '{heading(driver)}': {page_error(driver)}")
    labelled_input(driver, "Username").send_keys(username)
    labelled_input(driver, "Password").send_keys(password)
    submit(driver, "Continue")
    wait_for(driver, lambda: heading(driver) != "Sign in" or page_error(driver), "the page after the password")
    check(heading(driver) == "Authenticator code", f"expected the code page, got '{heading(driver)}' {page_error(driver)!r}")
    # The enrollment spent this 30 s window's code (codes are single-use): type the next window's.
    labelled_input(driver, "Code").send_keys(totp(secret, at=time.time() + 30))
    submit(driver, "Sign in")
    wait_for(driver, lambda: heading(driver) == "Your account" or page_error(driver), "the account page")
    check(heading(driver) == "Your account", f"expected the account page, got '{heading(driver)}' {page_error(driver)!r}")
    roles = driver.find_element(By.ID, "account-roles").text
    name = driver.find_element(By.ID, "account-name").text
    check(urllib.parse.urlsplit(driver.current_url).path == "/account", f"landed at {driver.current_url}")
    step(f"11. signed in with password + TOTP; /account shows {name!r} with roles {roles!r}")
    screenshot(driver, screenshots, "account.png")

    cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
    session = cookies.get("enclave_session")
    check(session is not None and session.get("httpOnly") and session.get("sameSite") == "Lax",
          f"the session cookie is not HttpOnly + SameSite=Lax: {session}")
    driver.get(f"{base}/api/workspaces")
    text = driver.find_element(By.TAG_NAME, "body").text
    check('"workspaces"' in text, f"the session cookie did not authenticate GET /api/workspaces: {text[:300]!r}")
    step("12. the session cookie (HttpOnly, SameSite=Lax) authenticates GET /api/workspaces")

    driver.get(f"{base}/account")
    submit(driver, "Sign out")
    wait_for(driver, lambda: heading(driver) == "Signed out", "the signed-out page")
    driver.get(f"{base}/account")
    wait_for(driver, lambda: heading(driver) == "Sign in", "the sign-in page after signing out")
    step("13. Sign out ended the session: /account asks to sign in again")


def report_failure(driver, prefix, error):
    """Prints what went wrong, where the browser was, and what its console said, to stderr."""
    kind = "" if isinstance(error, Failure) else f"{type(error).__name__}: "
    message = str(error).split("\nStacktrace:")[0].strip()  # WebDriver errors append chromedriver's native stack
    print(f"{prefix}: {kind}{message}", file=sys.stderr, flush=True)
    tag = prefix.split(" ")[0]
    try:
        print(f"{tag} browser at {driver.current_url} ('{driver.title}')", file=sys.stderr, flush=True)
        for entry in driver.get_log("browser"):
            print(f"{tag} browser console: {entry.get('level')} {entry.get('message')}", file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("ENCLAVE_BASE_URL"))
    parser.add_argument("--username", default=os.environ.get("ENCLAVE_USERNAME"))
    parser.add_argument("--password", default=os.environ.get("ENCLAVE_PASSWORD"),
                        help="prefer --password-file; a flag value shows in the process list")
    parser.add_argument("--password-file", default=os.environ.get("ENCLAVE_PASSWORD_FILE"))
    parser.add_argument("--screenshots", default=os.environ.get("ENCLAVE_SCREENSHOTS"),
                        help="directory for signin.png and signin-totp.png (none when omitted)")
    args = parser.parse_args()
    password = args.password
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as handle:
            password = handle.read().rstrip("\r\n")
    if not args.base_url or not args.username or not password:
        parser.error("--base-url, --username and --password-file (or --password) are required")
    base = args.base_url.rstrip("/")

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download a driver
    try:
        driver = start_browser()
    except Exception as error:  # noqa: BLE001 - any reason the browser cannot start
        print(f"[signin] FAILED: cannot start the browser: {error}", file=sys.stderr, flush=True)
        return 2
    callback = Callback()
    try:
        secret = sign_in(driver, base, args.username, password, args.screenshots, callback)
        session_sign_in(driver, base, args.username, password, secret, args.screenshots)
    except Exception as error:  # noqa: BLE001 - report every failure the same way
        report_failure(driver, "[signin] FAILED", error)
        return 1
    finally:
        callback.close()
        driver.quit()
    step("PASSED: signed in with password + TOTP in headless Chromium: an authenticated API and the account page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
