#!/usr/bin/env python3
"""The portal's whole journey in a real browser, against a server with real workspace isolation.

An admin creates a restricted workspace through the form generated from its template and watches its
operation finish; the owner adds JupyterLab and opens it through Connect (the Jupyter page loads); a
researcher uploads two files to an import and submits it; an airlock manager previews a file and approves;
the researcher sees the imported files; the admin disables and deletes the workspace. Each page's
screenshot is saved when a screenshot directory is given.

The steps use portal_test.py's helpers (sign-in with TOTP, opening pages with CSP checks, waiting,
screenshots). Accounts come from a JSON file as there, with one more role, "owner", and each account's
"id" (the admin assigns the workspace's roles by id on its users page).

Usage: portal_flow_test.py --base-url URL --accounts accounts.json [--screenshots DIR]
Needs root for the server's data plane (the Swift test starts it), Debian's chromium and chromium-driver,
and Selenium. Exits 0 when every step passed, 1 on the first failure, 2 when the browser cannot start.
"""

import builtins
import os
import re
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the tree
from portal_test import by, check, heading, log, open, page_error, press, run, screenshot, sign_in, wait_for_text, wait_until  # noqa: E402

DEPLOY_TIMEOUT = 240   # a restricted workspace: namespace, veth, nftables, storage
TOOL_TIMEOUT = 900     # JupyterLab: a venv from PyPI on the first deployment of a data directory
WORKSPACE_NAME = "Cardiac outcomes study"
STATE = {}


def fill(portal, name, text):
    """Types `text` into the form field named `name` (replacing what it held)."""
    field = portal.driver.find_element(by().NAME, name)
    field.clear()
    field.send_keys(text)


def click(portal, css):
    elements = portal.driver.find_elements(by().CSS_SELECTOR, css)
    check(len(elements) >= 1, f"nothing matches {css!r} on '{heading(portal)}' {page_error(portal)!r}")
    elements[0].click()


def submit_form(portal, css="form.schema-form"):
    portal.driver.find_element(by().CSS_SELECTOR, f"{css} button[type=submit]").click()


def workspace_path():
    return f"/workspaces/{STATE['workspace']}"


# --- Steps -----------------------------------------------------------------------------------------

def step_admin_creates_a_restricted_workspace(portal):
    sign_in(portal, "admin")
    open(portal, "/workspaces/new")
    screenshot(portal, "workspace-templates")
    open(portal, "/workspaces/new?template=tre-workspace-base")
    fill(portal, "display_name", WORKSPACE_NAME)
    fill(portal, "description", "Hospital admissions after cardiac surgery, 2019-2024")
    screenshot(portal, "workspace-new")
    submit_form(portal)
    wait_until(portal, lambda: re.fullmatch(r"/workspaces/[0-9a-f-]{36}", portal.path()), "the new workspace's page")
    STATE["workspace"] = portal.path().rsplit("/", 1)[1]
    # The page polls the operation (its steps and messages) and refreshes the summary when it ends.
    wait_until(portal, lambda: badge(portal, "#workspace-summary") == "deployed", "the workspace to be deployed", timeout=DEPLOY_TIMEOUT)
    open(portal, workspace_path())
    check(WORKSPACE_NAME in heading(portal) or WORKSPACE_NAME in portal.driver.page_source, "the workspace page names it")
    screenshot(portal, "workspace")
    log(f"workspace {STATE['workspace']} deployed with real isolation")


def step_admin_assigns_roles(portal):
    for role, workspace_role in (("owner", "WorkspaceOwner"), ("researcher", "WorkspaceResearcher"), ("airlock_manager", "AirlockManager")):
        open(portal, f"{workspace_path()}/users")
        field = portal.driver.find_element(by().ID, "user_id")  # (the Remove buttons' forms carry hidden user_id fields too)
        field.clear()
        field.send_keys(portal.accounts[role]["id"])
        select = portal.driver.find_element(by().ID, "role_id")
        select.find_element(by().CSS_SELECTOR, f"option[value={workspace_role}]").click()
        press(portal, "Assign role")
        account = portal.accounts[role]
        wait_until(portal, lambda: account["name"] in body_text(portal) or account["username"] in body_text(portal)
                   or account["id"] in portal.driver.page_source, f"{role} listed with a role")
        check(not page_error(portal), f"assigning {workspace_role}: {page_error(portal)!r}")
    screenshot(portal, "workspace-users")
    log("owner, researcher and airlock manager roles assigned on the users page")


def step_owner_adds_jupyterlab_and_connects(portal):
    sign_in(portal, "owner", return_to=workspace_path())
    screenshot(portal, "workspace-owner")
    open(portal, f"{workspace_path()}/workspace-services/new?template=tre-service-jupyterlab")
    fill(portal, "display_name", "Analysis notebooks")
    fill(portal, "description", "JupyterLab for the study team")
    screenshot(portal, "service-new")
    submit_form(portal)
    wait_until(portal, lambda: portal.path() != f"{workspace_path()}/workspace-services/new", "leaving the form")
    check(not page_error(portal), f"creating JupyterLab: {page_error(portal)!r}")
    # Connect appears on the workspace page once the service is deployed (installing JupyterLab takes a while).
    wait_until(portal, lambda: connect_links(portal, reload_first=True), "JupyterLab's Connect button", timeout=TOOL_TIMEOUT)
    screenshot(portal, "workspace-services")
    before = set(portal.driver.window_handles)
    connect_links(portal)[0].click()
    wait_until(portal, lambda: len(set(portal.driver.window_handles) - before) == 1, "the tool's tab")
    main_window = portal.driver.current_window_handle
    portal.driver.switch_to.window((set(portal.driver.window_handles) - before).pop())
    wait_until(portal, lambda: "JupyterLab" in portal.driver.title, "JupyterLab's page", timeout=180)
    screenshot(portal, "jupyterlab")
    log(f"JupyterLab opened through Connect: {portal.driver.current_url}")
    portal.driver.close()
    portal.driver.switch_to.window(main_window)
    # JupyterLab's own console messages (its requests after the tab closes) are not the portal's: drop them.
    time.sleep(1)
    portal.driver.get_log("browser")


def connect_links(portal, reload_first=False):
    if reload_first:
        open(portal, workspace_path())
    return portal.driver.find_elements(by().XPATH, "//section[@id='services']//a[starts-with(normalize-space(.), 'Connect')]")


def badge(portal, css):
    """The text of the first status badge inside `css` ('' when there is none yet)."""
    badges = portal.driver.find_elements(by().CSS_SELECTOR, f"{css} .badge")
    return badges[0].text.strip() if badges else ""


def body_text(portal):
    return portal.driver.find_element(by().TAG_NAME, "body").text


def step_researcher_uploads_an_import(portal):
    sign_in(portal, "researcher", return_to=f"{workspace_path()}/airlock")
    open(portal, f"{workspace_path()}/airlock/new")
    portal.driver.find_element(by().ID, "type-import").click()
    fill(portal, "title", "Admissions extract")
    fill(portal, "businessJustification", "Linked admissions data the study's approval covers")
    click(portal, "form.airlock-new button[type=submit]")
    wait_until(portal, lambda: re.fullmatch(r"/workspaces/[0-9a-f-]{36}/airlock/[0-9a-f-]{36}", portal.path()), "the draft's page")
    STATE["request"] = portal.path()
    folder = tempfile.mkdtemp(prefix="enclave-upload-")
    files = {"admissions.csv": "ward,admissions\nA,120\nB,87\nC,64\n", "codebook.txt": "ward: hospital ward\nadmissions: count\n"}
    for name, text in files.items():
        with builtins.open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    # Choosing two files starts their uploads, each with its progress bar; the page then reloads to list them.
    portal.driver.find_element(by().ID, "airlock-files").send_keys("\n".join(os.path.join(folder, name) for name in files))
    def uploaded():
        items = portal.driver.find_elements(by().CSS_SELECTOR, "#airlock-upload-list li")
        pending = [item for item in items if "upload-done" not in (item.get_attribute("class") or "") and "All files" not in item.text]
        failed = portal.driver.find_elements(by().CSS_SELECTOR, "li.upload-failed")
        check(not failed, f"an upload failed: {[item.text for item in failed]}")
        return not pending and all(name in body_text(portal) for name in files)
    wait_until(portal, uploaded, "both uploads to finish", timeout=60)
    time.sleep(1)
    open(portal, STATE["request"])
    for name in files:
        check(name in portal.driver.page_source, f"{name} is not listed on the request page")
    screenshot(portal, "airlock-draft")
    click(portal, "#submit-request")
    wait_for_text(portal, "review", timeout=60, reload=True)
    screenshot(portal, "airlock-submitted")
    log("two files uploaded through the page and the import submitted")


def step_airlock_manager_previews_and_approves(portal):
    sign_in(portal, "airlock_manager", return_to="/airlock")
    wait_for_text(portal, "Admissions extract", timeout=60, reload=True)
    screenshot(portal, "airlock-home")
    open(portal, STATE["request"])
    click(portal, "a[href*='admissions.csv/preview']")
    wait_until(portal, lambda: portal.driver.find_elements(by().CSS_SELECTOR, "table td"), "the CSV preview table")
    check("120" in portal.driver.find_element(by().TAG_NAME, "table").text, "the preview table shows the CSV's cells")
    screenshot(portal, "airlock-preview")
    open(portal, STATE["request"])
    portal.driver.find_element(by().ID, "decision-approve").click()
    fill(portal, "explanation", "Aggregated counts only; matches the approved data specification")
    click(portal, "#record-review")
    wait_for_text(portal, "pproved", timeout=60, reload=True)
    screenshot(portal, "airlock-approved")
    log("the airlock manager previewed the CSV as a table and approved")


def step_researcher_sees_the_imported_files(portal):
    sign_in(portal, "researcher", return_to=STATE["request"])
    wait_for_text(portal, "pproved", timeout=60, reload=True)
    for name in ("admissions.csv", "codebook.txt"):
        check(name in portal.driver.page_source, f"{name} is not shown to the researcher after approval")
    screenshot(portal, "airlock-imported")
    log("the researcher sees the approved import's files")


def step_admin_deletes_the_workspace(portal):
    sign_in(portal, "admin", return_to=f"{workspace_path()}/delete")
    press(portal, "Disable workspace")
    # Disabling is an operation (it disables the service too); deleting is refused while one runs, so retry.
    deadline = time.time() + DEPLOY_TIMEOUT
    while True:
        open(portal, f"{workspace_path()}/delete")
        if portal.driver.find_elements(by().NAME, "_confirm"):
            fill(portal, "_confirm", WORKSPACE_NAME)
            press(portal, "Delete workspace")
            wait_until(portal, lambda: portal.driver.execute_script("return document.readyState") == "complete", "the reply")
            if not page_error(portal) and "/delete" not in portal.path():
                break
        check(time.time() < deadline, f"the workspace could not be deleted: {page_error(portal)!r}")
        time.sleep(2)
    # Deleting takes the isolation down; the workspace then leaves the home page (or shows as deleted).
    def gone():
        open(portal, "/workspaces")
        source = portal.driver.page_source
        return STATE["workspace"] not in source or "deleted" in body_text(portal)
    wait_until(portal, gone, "the workspace to be deleted", timeout=DEPLOY_TIMEOUT)
    log("the admin disabled and deleted the workspace through its delete page")


STEPS = [
    step_admin_creates_a_restricted_workspace,
    step_admin_assigns_roles,
    step_owner_adds_jupyterlab_and_connects,
    step_researcher_uploads_an_import,
    step_airlock_manager_previews_and_approves,
    step_researcher_sees_the_imported_files,
    step_admin_deletes_the_workspace,
]

if __name__ == "__main__":
    sys.exit(run(STEPS, roles=("admin", "owner", "researcher", "airlock_manager"), description=__doc__))
