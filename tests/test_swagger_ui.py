"""Swagger UI in a real browser: headless Chromium tries the operation out against the mock.

Chromium is the system's (Debian's `chromium`, which `.ci/run` installs), driven by playwright
from PyPI through `executable_path`; playwright's own browser downloads are never used. Where no
Chromium is found this test fails and says how to get one: it is not skipped.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, Response, Route, expect, sync_playwright

from service.settings import DEV_JWT_SECRET, Settings
from tests.support.servers import RunningService, serve
from tests.support.tokens import OTHER_TENANT, mint

pytestmark = pytest.mark.browser

# Without the background-networking flags Chromium dials Google (component updates, sync,
# variations); a closed network refuses those connections, and they have no place in a test.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000
OPERATION = "/v2/confluence/space-listing"
# Not the parameter's example value, so the test sees that filling x-tenantid takes effect:
# left at its example, the header would not match the token and the answer would be 403.
TENANT = OTHER_TENANT
SEED_SPACES = [("KB", "Knowledge Base"), ("IT", "IT Documentation"), ("HR", "HR Policies")]
HOW_TO_GET_CHROMIUM = (
    "This test drives Swagger UI in the system's headless Chromium. Install it - on "
    "Debian/Ubuntu `apt-get install chromium`, as .ci/run does - or set SPACEGATE_CHROMIUM "
    "to the path of a Chromium or Chrome executable."
)


def find_chromium() -> str:
    configured = os.environ.get("SPACEGATE_CHROMIUM")
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.fail(
                f"SPACEGATE_CHROMIUM={configured} is not an executable file. {HOW_TO_GET_CHROMIUM}"
            )
        return str(path)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "No Chromium found: SPACEGATE_CHROMIUM is unset and none of chromium, chromium-browser, "
        f"google-chrome is on PATH. {HOW_TO_GET_CHROMIUM}"
    )


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningService]:
    with serve(Settings(mode="mock").validated()) as service:
        yield service


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


def open_ui(page: Page, url: str) -> None:
    page.goto(f"{url}/ui/")
    expect(page.locator(".information-container .title")).to_contain_text("spacegate")


def authorize(page: Page, token: str) -> None:
    page.locator(".auth-wrapper .btn.authorize").click()
    dialog = page.locator(".modal-ux")
    expect(dialog.locator("h4")).to_contain_text("bearerAuth")
    dialog.locator(".auth-container input").fill(token)
    dialog.locator(".auth-btn-wrapper .btn.authorize").click()
    # Once authorized, the dialog says so and offers Logout in place of Authorize.
    expect(dialog.locator(".auth-container h6")).to_have_text("Authorized")
    expect(dialog.get_by_role("button", name="Logout")).to_be_visible()
    dialog.locator(".auth-btn-wrapper .btn-done").click()
    expect(dialog).to_have_count(0)
    # The padlocks close: the operation will be sent with the bearer token.
    expect(page.locator(".auth-wrapper .btn.authorize.locked")).to_be_visible()


def try_it_out(page: Page) -> None:
    operation = page.locator(".opblock-post").filter(has_text=OPERATION)
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    expect(operation.locator(".btn.execute")).to_be_visible()


def param_row(page: Page, name: str) -> Locator:
    return page.locator(f'tr[data-param-name="{name}"][data-param-in="header"]')


def execute(page: Page) -> Response:
    """Press Execute; the request Swagger UI sent, once the server has answered it."""
    with page.expect_response(
        lambda r: r.url.endswith(OPERATION) and r.request.method == "POST"
    ) as answered:
        page.locator(".btn.execute").click()
    return answered.value


def shown(page: Page, status: int) -> tuple[object, list[str]]:
    """Wait for Swagger UI's live response panel to show `status`; its body and header lines."""
    row = page.locator(".live-responses-table tbody tr.response")
    expect(row.locator(".response-col_status")).to_have_text(str(status))
    body = row.locator(".response-col_description .highlight-code code").inner_text()
    headers = [h.strip() for h in row.locator(".headerline").all_inner_texts()]
    return json.loads(body), headers


def test_try_it_out_against_the_mock(mock: RunningService) -> None:
    chromium = find_chromium()
    token = mint(TENANT, secret=DEV_JWT_SECRET)
    requested: list[str] = []
    refused: list[str] = []
    page_errors: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.url)
        route.abort()

    def seen(request: Request) -> None:
        requested.append(request.url)

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1600})
            context.set_default_timeout(TIMEOUT_MS)
            context.on("request", seen)
            context.route(lambda url: not is_local(url), refuse)
            page = context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))

            open_ui(page, mock.url)
            authorize(page, token)
            try_it_out(page)
            param_row(page, "x-tenantid").locator("input").fill(TENANT)
            prefer = param_row(page, "prefer")
            # The contract's examples for `prefer` are offered as a list; the first, "none",
            # leaves the header empty, and Swagger UI then sends no prefer at all.
            examples = prefer.locator("select.examples-select-element")
            expect(examples).to_have_value("none")
            expect(prefer.locator("input")).to_have_value("")

            response = execute(page)
            sent = response.request.headers
            assert sent["authorization"] == f"Bearer {token}"
            assert sent["x-tenantid"] == TENANT
            assert "prefer" not in sent
            assert response.status == 200
            body, headers = shown(page, 200)
            assert [(s["key"], s["name"]) for s in body["spaces"]] == SEED_SPACES
            assert "x-spacegate-mode: mock" in headers
            # The request body is the contract's example, untouched: an acme.atlassian.net root.
            assert all(
                s["url"].startswith("https://acme.atlassian.net/wiki/spaces/")
                for s in body["spaces"]
            )

            examples.select_option("credentials-rejected")
            expect(prefer.locator("input")).to_have_value("example=credentials-rejected")
            response = execute(page)
            assert response.request.headers.get("prefer") == "example=credentials-rejected"
            assert response.status == 403
            body, headers = shown(page, 403)
            assert body["code"] == "confluence_credentials_rejected"
            assert "x-spacegate-mode: mock" in headers

            examples.select_option("rate-limited")
            response = execute(page)
            assert response.request.headers.get("prefer") == "example=rate-limited"
            assert response.status == 429
            body, headers = shown(page, 429)
            assert body["code"] == "confluence_rate_limited"
            retry_after = [h for h in headers if h.startswith("retry-after:")]
            assert len(retry_after) == 1
            assert 1 <= int(retry_after[0].partition(":")[2]) <= 3600

            # Back to "none": the header is dropped again and the mock plays "default".
            examples.select_option("none")
            expect(prefer.locator("input")).to_have_value("")
            response = execute(page)
            assert "prefer" not in response.request.headers
            body, _ = shown(page, 200)
            assert [(s["key"], s["name"]) for s in body["spaces"]] == SEED_SPACES

            context.close()
        finally:
            browser.close()

    assert not refused, f"Swagger UI reached beyond 127.0.0.1: {refused}"
    assert requested, "the browser made no requests at all"
    assert all(is_local(url) for url in requested), requested
    assert f"{mock.url}/ui/swagger-ui-bundle.js" in requested  # served by the service itself
    assert not page_errors, page_errors
