#!/usr/bin/env python3
"""Walks Enclave's web portal in a real browser (headless Chromium driven by Selenium), as its users do.

Each step is one function taking the shared `Portal` (browser, base URL, accounts, the TOTP secrets learnt
so far); STEPS lists them in order. Helpers every step uses: sign_in / sign_out, open (a page, checking
its heading and that the browser logged no Content-Security-Policy violation), wait_for_text, screenshot,
check_focus_visible. Add a step by writing a function and listing it in STEPS.

Accounts come from a JSON file: {"admin": {"username": …, "password": …}, "researcher": {…},
"airlock_manager": {…}}, made with `enclave users add` (no authenticator yet: the first sign-in enrolls
one, reading the secret from the enrollment page; later sign-ins type the next unused TOTP code, computed
with hmac/hashlib by the sign-in test's `totp`, whose helpers this script shares).

Usage: portal_test.py --base-url http://127.0.0.1:8000 --accounts accounts.json [--screenshots DIR]
Arguments fall back to ENCLAVE_BASE_URL, ENCLAVE_ACCOUNTS and ENCLAVE_SCREENSHOTS_DIR. Screenshots are
PNGs named after the page (`workspaces.png`, `admin-audit.png`, …), taken at 1280×900, plus 375-px-wide
ones (`*-narrow.png`). Needs Debian's chromium and chromium-driver and Selenium (PyPI or python3-selenium).
Exits 0 when every step passed, 1 on the first failure, 2 when the browser cannot be started.
"""

import argparse
import builtins
import json
import os
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # importing the sign-in script must not leave __pycache__ in the tree
# The sign-in test's helpers (TOTP, starting Chromium, finding labelled fields and buttons, waiting):
# this script's directory is on sys.path when it runs.
from signin_test import Failure, check, heading as page_heading, labelled_input as field, page_error as alert  # noqa: E402
from signin_test import report_failure, start_browser as start_chromium, submit, totp as totp_at, wait_for  # noqa: E402

TIMEOUT = 20
WIDE = (1280, 900)
NARROW = 375


def log(message):
    print(f"[portal] {message}", flush=True)


def totp(secret_base32, step):
    """The RFC 6238 code (HMAC-SHA-1, 6 digits) of 30-second time step `step`."""
    return totp_at(secret_base32, at=step * 30)


# --- Shared state ----------------------------------------------------------------------------------

class Portal:
    """The browser and what the steps share: the server, the accounts, the TOTP secrets and used steps."""

    def __init__(self, driver, base, accounts, screenshots):
        self.driver = driver
        self.base = base
        self.accounts = accounts
        self.screenshots = screenshots
        self.secrets = {}      # username -> base32 TOTP secret, learnt at enrollment
        self.last_step = {}    # username -> the last TOTP time step used (each code works once)
        self.signed_in = None  # the role signed in now

    def url(self, path):
        return self.base + path

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path


# --- Browser -------------------------------------------------------------------------------------

def start_browser():
    driver = start_chromium()
    driver.set_window_size(*WIDE)
    return driver


def by():
    from selenium.webdriver.common.by import By
    return By


def heading(portal):
    return page_heading(portal.driver)


def page_error(portal):
    return alert(portal.driver)


def body_text(portal):
    return portal.driver.find_element(by().TAG_NAME, "body").text


def wait_until(portal, predicate, what, timeout=TIMEOUT):
    wait_for(portal.driver, predicate, what, timeout)


def wait_for_text(portal, text, timeout=TIMEOUT, reload=False):
    """Waits until the page's visible text contains `text` (e.g. an operation's status after polling);
    with `reload`, reloads the page between looks (for pages that do not poll by themselves)."""
    def shown():
        if reload:
            portal.driver.refresh()
            time.sleep(0.3)
        return text in body_text(portal)
    wait_until(portal, shown, f"the text {text!r}", timeout)


def check_console(portal, where):
    """Fails when the browser logged a Content-Security-Policy violation (an inline script or style, a
    script from elsewhere): the portal's CSP is default-src 'self' and every page must live with it."""
    messages = [entry.get("message", "") for entry in portal.driver.get_log("browser")]
    violations = [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m]
    check(not violations, f"CSP violations on {where}: {violations}")
    for message in messages:
        if "Uncaught" in message:
            raise Failure(f"JavaScript error on {where}: {message}")


def open(portal, path, expect_heading=None):  # noqa: A001 - the step vocabulary: "open a page"
    """Loads `path`, waits for it, checks its <h1> (when given) and the console; returns the heading."""
    portal.driver.get(portal.url(path))
    wait_until(portal, lambda: portal.driver.execute_script("return document.readyState") == "complete", f"{path} to load")
    if expect_heading is not None:
        check(heading(portal) == expect_heading,
              f"{path}: expected the heading {expect_heading!r}, got {heading(portal)!r} {page_error(portal)!r}")
    check_console(portal, path)
    return heading(portal)


def screenshot(portal, name):
    """Saves the viewport as `<screenshots>/<name>.png` (only when a screenshot directory was given)."""
    if not portal.screenshots:
        return
    os.makedirs(portal.screenshots, exist_ok=True)
    path = os.path.join(portal.screenshots, f"{name}.png")
    # No focus ring left over from a keyboard check (the skip link would show over the navigation).
    portal.driver.execute_script("if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0)")
    check(portal.driver.save_screenshot(path), f"could not save {path}")
    log(f"screenshot: {path}")


def check_focus_visible(portal, where):
    """Tab from the top of the page: the first link takes the focus and shows a visible outline."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = portal.driver
    driver.execute_script("if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0)")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    check(focused.tag_name == "a", f"{where}: Tab focused a <{focused.tag_name}>, not the first link")
    outline = driver.execute_script(
        "const s = getComputedStyle(arguments[0]); const r = arguments[0].getBoundingClientRect();"
        "return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), left: r.left, top: r.top, w: r.width, h: r.height,"
        " vw: window.innerWidth, vh: window.innerHeight}", focused)
    check(outline["style"] not in ("none", "") and outline["width"] >= 2,
          f"{where}: the focused link {focused.text!r} has no visible outline ({outline})")
    check(outline["left"] >= 0 and outline["top"] >= 0 and outline["w"] > 0 and outline["h"] > 0
          and outline["left"] < outline["vw"] and outline["top"] < outline["vh"],
          f"{where}: the focused link {focused.text!r} is off screen ({outline})")
    return focused.text


def set_width(portal, width):
    """Emulates a viewport `width` CSS pixels wide (a phone at 375), or the desktop size again (None)."""
    if width is None:
        portal.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        portal.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                      {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})


def check_no_sideways_scroll(portal, where):
    """At a narrow width the page itself must not scroll sideways (wide tables scroll inside `.scroll`)."""
    widths = portal.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    check(widths[0] <= widths[1] + 1, f"{where}: the page is {widths[0]} px wide in a {widths[1]} px viewport")


# --- Signing in ------------------------------------------------------------------------------------

def labelled_input(portal, label):
    """The input inside the <label> whose text starts with `label`, as a person finds the field."""
    return field(portal.driver, label)


def press(portal, button_text):
    """Clicks the one button that reads `button_text`."""
    submit(portal.driver, button_text)


def next_code(portal, username):
    """The TOTP code of the first time step not used yet by this account (waiting for it if need be)."""
    secret = portal.secrets[username]
    step = max(int(time.time() // 30), portal.last_step.get(username, -1) + 1)
    while step > int(time.time() // 30) + 1:  # the server accepts one step ahead at most
        time.sleep(1)
    portal.last_step[username] = step
    return totp(secret, step)


def sign_in(portal, role, return_to="/workspaces"):
    """Signs `role` in through /auth/login with password and TOTP (enrolling the authenticator the first
    time), and lands on `return_to`."""
    account = portal.accounts[role]
    username = account["username"]
    portal.driver.delete_all_cookies()
    portal.driver.get(portal.url("/auth/login?return_to=" + urllib.parse.quote(return_to, safe="")))
    wait_until(portal, lambda: heading(portal) == "Sign in", "the sign-in page")
    labelled_input(portal, "Username").send_keys(username)
    labelled_input(portal, "Password").send_keys(account["password"])
    press(portal, "Continue")
    wait_until(portal, lambda: heading(portal) != "Sign in" or page_error(portal), "the page after the password")
    if heading(portal) == "Set up your authenticator":
        secret = portal.driver.find_element(by().ID, "totp-secret").text.strip()
        check(len(secret) >= 16, f"the TOTP secret on the page looks wrong: {secret!r}")
        portal.secrets[username] = secret
        labelled_input(portal, "Code").send_keys(next_code(portal, username))
        press(portal, "Confirm")
        wait_until(portal, lambda: heading(portal) == "Recovery codes" or page_error(portal), "the recovery codes")
        check(heading(portal) == "Recovery codes", f"enrollment failed: {page_error(portal)!r}")
        press(portal, "I have saved them")
        how = "enrolled an authenticator"
    else:
        check(heading(portal) == "Authenticator code", f"expected the code page, got '{heading(portal)}' {page_error(portal)!r}")
        check(username in portal.secrets, f"{username} has an authenticator this script did not enroll")
        labelled_input(portal, "Code").send_keys(next_code(portal, username))
        press(portal, "Sign in")
        how = "typed a TOTP code"
    landing = urllib.parse.urlsplit(return_to).path
    wait_until(portal, lambda: portal.path() == landing, f"landing on {return_to}")
    check_console(portal, return_to)
    portal.signed_in = role
    log(f"{role} ({username}) signed in with password; {how}; landed on {return_to}")


def sign_out(portal):
    portal.driver.find_element(by().ID, "sign-out").click()
    wait_until(portal, lambda: heading(portal) == "Signed out", "the signed-out page")
    portal.signed_in = None


# --- Steps -----------------------------------------------------------------------------------------

def step_admin_signs_in(portal):
    sign_in(portal, "admin")
    check(heading(portal) == "Your workspaces", f"the admin landed on {heading(portal)!r}")


def step_workspaces(portal):
    open(portal, "/workspaces", "Your workspaces")
    focused = check_focus_visible(portal, "/workspaces")
    log(f"/workspaces: Tab focuses {focused!r} with a visible outline")
    screenshot(portal, "workspaces")


def step_account(portal):
    open(portal, "/account", "Your account")
    roles = portal.driver.find_element(by().ID, "account-roles").text
    check("TREAdmin" in roles, f"/account shows roles {roles!r}")
    wait_for_text(portal, "Recovery codes left")
    check_focus_visible(portal, "/account")
    screenshot(portal, "account")


ADMIN_PAGES = [
    ("/admin", "Administration", "admin"),
    ("/admin/templates", "Templates", "admin-templates"),
    ("/admin/shared-services", "Shared services", "admin-shared-services"),
    ("/admin/users", "Users", "admin-users"),
    ("/admin/audit", "Audit log", "admin-audit"),
    ("/admin/health", "Health", "admin-health"),
]


def step_admin_pages(portal):
    for path, title, name in ADMIN_PAGES:
        open(portal, path, title)
        current = portal.driver.find_elements(by().CSS_SELECTOR, "nav[aria-label=Main] a[aria-current=page]")
        check(len(current) == 1 and current[0].text == "Admin", f"{path}: the navigation does not mark Admin")
        screenshot(portal, name)
    open(portal, "/admin/audit?action=auth", "Audit log")
    wait_for_text(portal, "auth.session_start")
    log("admin pages open with their headings; the audit log filters by action family")


def step_admin_creates_shared_service(portal):
    from selenium.webdriver.support.ui import Select

    open(portal, "/admin/shared-services", "Shared services")
    Select(portal.driver.find_element(by().ID, "shared-template")).select_by_value("tre-shared-service-firewall")
    properties = portal.driver.find_element(by().ID, "shared-properties")
    properties.clear()
    properties.send_keys('{"display_name": "Egress firewall", "description": "The hosts workspaces may reach"}')
    press(portal, "Create")
    wait_for_text(portal, "Creating the shared service from tre-shared-service-firewall")
    check_console(portal, "/admin/shared-services after Create")
    wait_for_text(portal, "deployed", timeout=60, reload=True)
    screenshot(portal, "admin-shared-services")
    log("the admin created the firewall shared service through the form; it deployed")


def step_narrow(portal):
    set_width(portal, NARROW)
    try:
        for path, title, name in [("/workspaces", "Your workspaces", "workspaces"), ("/admin/audit", "Audit log", "admin-audit"),
                                  ("/account", "Your account", "account")]:
            open(portal, path, title)
            check_no_sideways_scroll(portal, f"{path} at {NARROW} px")
            screenshot(portal, f"{name}-narrow")
    finally:
        set_width(portal, None)
    log(f"pages fit {NARROW} px without scrolling sideways")


def step_researcher_is_refused_admin(portal):
    sign_out(portal)
    sign_in(portal, "researcher")
    admin_links = portal.driver.find_elements(by().CSS_SELECTOR, "nav[aria-label=Main] a[href='/admin']")
    check(not admin_links, "a researcher sees the Admin navigation")
    open(portal, "/admin/users", "Not allowed")
    screenshot(portal, "not-allowed")
    open(portal, "/account", "Your account")
    roles = portal.driver.find_element(by().ID, "account-roles").text
    check(roles == "TREUser", f"the researcher's /account shows roles {roles!r}")
    log("a researcher has no Admin navigation and gets 'Not allowed' on admin pages")


def step_airlock_manager_signs_in(portal):
    sign_out(portal)
    sign_in(portal, "airlock_manager")
    open(portal, "/workspaces", "Your workspaces")


def step_admin_signs_in_again(portal):
    """A second sign-in types the next TOTP code (no enrollment) and comes back to the page asked for."""
    sign_out(portal)
    sign_in(portal, "admin", return_to="/admin/audit?action=auth.session_start")
    check(heading(portal) == "Audit log", f"the admin came back to {heading(portal)!r}")
    rows = portal.driver.find_elements(by().XPATH, "//td/code[normalize-space(.)='auth.session_start']")
    check(len(rows) >= 4, f"expected the four sessions in the audit log, found {len(rows)}")


STEPS = [
    step_admin_signs_in,
    step_workspaces,
    step_account,
    step_admin_pages,
    step_admin_creates_shared_service,
    step_narrow,
    step_researcher_is_refused_admin,
    step_airlock_manager_signs_in,
    step_admin_signs_in_again,
]


def run(steps, roles=("admin", "researcher", "airlock_manager"), description=__doc__):
    """Parses the command line, starts the browser and runs `steps` in order (portal_flow_test.py runs its
    own steps through this too); 0 when all passed, 1 at the first failure, 2 when the browser cannot start."""
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("ENCLAVE_BASE_URL"))
    parser.add_argument("--accounts", default=os.environ.get("ENCLAVE_ACCOUNTS"), help="JSON file of the accounts by role")
    parser.add_argument("--screenshots", default=os.environ.get("ENCLAVE_SCREENSHOTS_DIR"),
                        help="directory for the pages' PNGs (none when omitted)")
    args = parser.parse_args()
    if not args.base_url or not args.accounts:
        parser.error("--base-url and --accounts are required")
    with builtins.open(args.accounts, encoding="utf-8") as handle:  # `open` is the step helper above
        accounts = json.load(handle)
    missing = [role for role in roles if role not in accounts]
    if missing:
        parser.error(f"the accounts file has no {', '.join(missing)}")

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download a driver
    try:
        driver = start_browser()
    except Exception as error:  # noqa: BLE001 - any reason the browser cannot start
        print(f"[portal] FAILED: cannot start the browser: {error}", file=sys.stderr, flush=True)
        return 2
    portal = Portal(driver, args.base_url.rstrip("/"), accounts, args.screenshots)
    current = None
    try:
        for current in steps:
            log(f"step {current.__name__}")
            current(portal)
    except Exception as error:  # noqa: BLE001 - report every failure the same way
        report_failure(driver, f"[portal] FAILED in {current.__name__ if current else 'setup'}", error)
        return 1
    finally:
        driver.quit()
    log(f"PASSED: {len(steps)} steps in headless Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(run(STEPS))
