"""Swagger UI in a real browser: headless Chromium tries the operation out against the mock.

In mock mode the page opens already authorized for the demo tenant, with every scenario in
the `prefer` drop-down (mocks/swagger_ui.py); Authorize by hand still works, for another tenant.

Chromium is the system's (Debian's `chromium`, which `.ci/run` installs), driven by playwright
from PyPI through `executable_path`; playwright's own browser downloads are never used. Where no
Chromium is found these tests fail and say how to get one: they are not skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Response,
    Route,
    expect,
    sync_playwright,
)

from mocks.swagger_ui import DEMO_TENANT
from service.settings import DEV_JWT_SECRET, Settings
from tests.support.scenario_folders import serve_mock_of, shipped_scenarios_copy
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
# Not the demo tenant, so the test sees that authorizing by hand and filling x-tenantid take
# effect: left at the page's own, the header would not match the token and the answer be 403.
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = find_chromium()
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def scenarios_folder(tmp_path: Path) -> Path:
    """A copy of the shipped scenarios that a test may write into."""
    return shipped_scenarios_copy(tmp_path / "scenarios")


@pytest.fixture
def mock_of_folder(scenarios_folder: Path) -> Iterator[RunningService]:
    """The mock serving `scenarios_folder`. The hook for the browser test of a hand-written
    scenario: write its file into `scenarios_folder` while this serves, reload the page, pick
    it from the drop-down (see test_the_drop_down_is_the_folders_scenarios)."""
    with serve_mock_of(scenarios_folder) as service:
        yield service


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


@dataclass
class Session:
    """One browser context on the service: its page, and what the page asked for."""

    page: Page
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@contextmanager
def ui_session(browser: Browser, service: RunningService) -> Iterator[Session]:
    """A fresh browser context; afterwards, the page reached nothing beyond 127.0.0.1, raised
    no error, and loaded Swagger UI from the service itself."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    context.set_default_timeout(TIMEOUT_MS)
    session = Session(page=context.new_page())

    def refuse(route: Route) -> None:
        session.refused.append(route.request.url)
        route.abort()

    context.on("request", lambda request: session.requested.append(request.url))
    context.route(lambda url: not is_local(url), refuse)
    session.page.on("pageerror", lambda error: session.page_errors.append(str(error)))
    try:
        yield session
    finally:
        context.close()
    assert not session.refused, f"Swagger UI reached beyond 127.0.0.1: {session.refused}"
    assert session.requested, "the browser made no requests at all"
    assert all(is_local(url) for url in session.requested), session.requested
    assert f"{service.url}/ui/swagger-ui-bundle.js" in session.requested  # served by the service
    assert not session.page_errors, session.page_errors


def open_ui(page: Page, url: str) -> None:
    page.goto(f"{url}/ui/")
    expect(page.locator(".information-container .title")).to_contain_text("spacegate")


def expect_authorized(page: Page) -> None:
    # The padlocks close: the operation will be sent with the bearer token.
    expect(page.locator(".auth-wrapper .btn.authorize.locked")).to_be_visible()


def log_out(page: Page) -> None:
    page.locator(".auth-wrapper .btn.authorize").click()
    dialog = page.locator(".modal-ux")
    expect(dialog.locator(".auth-container h6")).to_have_text("Authorized")
    dialog.get_by_role("button", name="Logout").click()
    dialog.locator(".close-modal").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".auth-wrapper .btn.authorize.unlocked")).to_be_visible()


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
    expect_authorized(page)


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


def offered(page: Page) -> list[str]:
    """The keys of the `prefer` drop-down, in order."""
    select = param_row(page, "prefer").locator("select.examples-select-element")
    return select.locator("option").evaluate_all("options => options.map(o => o.value)")


def bearer_tenant(response: Response) -> str:
    token = response.request.headers["authorization"].removeprefix("Bearer ")
    return jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"])["tenant_id"]


def play(page: Page, scenario: str, status: int) -> tuple[object, list[str]]:
    """Pick `scenario` in the `prefer` drop-down and Execute: the answer shown, once it is."""
    prefer = param_row(page, "prefer")
    prefer.locator("select.examples-select-element").select_option(scenario)
    expect(prefer.locator("input")).to_have_value(f"example={scenario}")
    response = execute(page)
    assert response.request.headers.get("prefer") == f"example={scenario}"
    assert response.status == status
    body, headers = shown(page, status)
    assert "x-spacegate-mode: mock" in headers
    return body, headers


def test_opens_authorized_with_every_scenario_to_pick(browser, mock):
    scenarios = requests.get(mock.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    with ui_session(browser, mock) as session:
        page = session.page
        open_ui(page, mock.url)
        # No Authorize click: the page asked POST /mock/token for the demo tenant itself.
        expect_authorized(page)
        assert f"{mock.url}/mock/token" in session.requested
        try_it_out(page)
        expect(param_row(page, "x-tenantid").locator("input")).to_have_value(DEMO_TENANT)
        prefer = param_row(page, "prefer")
        examples = prefer.locator("select.examples-select-element")
        expect(examples).to_have_value("none")
        names = [s["name"] for s in scenarios]
        assert [k for k in offered(page) if k in names] == names  # every one, 5xx included
        assert {s["status"] for s in scenarios} >= {500, 502, 504}

        response = execute(page)
        assert response.status == 200
        assert response.request.headers["x-tenantid"] == DEMO_TENANT
        assert bearer_tenant(response) == DEMO_TENANT
        assert "prefer" not in response.request.headers
        body, headers = shown(page, 200)
        assert [(s["key"], s["name"]) for s in body["spaces"]] == SEED_SPACES
        assert "x-spacegate-mode: mock" in headers

        # 5xx scenarios, which the contract's own examples leave out.
        body, _ = play(page, "confluence-down", 502)
        assert body["code"] == "confluence_bad_gateway"
        body, _ = play(page, "timeout", 504)
        assert body["code"] == "confluence_timeout"


def test_authorize_by_hand_for_another_tenant(browser, mock):
    token = mint(TENANT, secret=DEV_JWT_SECRET)
    with ui_session(browser, mock) as session:
        page = session.page
        open_ui(page, mock.url)
        expect_authorized(page)
        log_out(page)
        authorize(page, token)
        try_it_out(page)
        param_row(page, "x-tenantid").locator("input").fill(TENANT)
        prefer = param_row(page, "prefer")
        # The first example, "none", leaves the header empty, and Swagger UI then sends no
        # prefer at all.
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
            s["url"].startswith("https://acme.atlassian.net/wiki/spaces/") for s in body["spaces"]
        )

        body, _ = play(page, "credentials-rejected", 403)
        assert body["code"] == "confluence_credentials_rejected"

        body, headers = play(page, "rate-limited", 429)
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


def test_the_drop_down_is_the_folders_scenarios(browser, scenarios_folder):
    """A scenario the contract never heard of, in the mock's folder, is offered and plays."""
    ours = (
        (scenarios_folder / "empty.yaml")
        .read_text()
        .replace("A user who can see no space at all", "Our own team's empty site")
    )
    (scenarios_folder / "our-own.yaml").write_text(ours)
    with serve_mock_of(scenarios_folder) as service, ui_session(browser, service) as session:
        page = session.page
        open_ui(page, service.url)
        expect_authorized(page)
        try_it_out(page)
        assert "our-own" in offered(page)
        body, _ = play(page, "our-own", 200)
        assert body == {"spaces": []}


HAND_WRITTEN = """\
description: Three spaces of our own
flavour: cloud
page_size: 2
spaces:
  - {key: ENG, name: Engineering, type: global, status: current}
  - {key: "~jane", name: Jane Doe, type: personal, status: current}
  - {key: OLD, name: Old Stuff, type: global, status: archived}
"""


def test_a_hand_written_scenario_added_while_serving_is_offered_after_a_page_reload(
    browser, scenarios_folder, mock_of_folder
):
    """The frontend loop: the page is open, a scenario file is written, the page reloaded."""
    with ui_session(browser, mock_of_folder) as session:
        page = session.page
        open_ui(page, mock_of_folder.url)
        expect_authorized(page)
        try_it_out(page)
        assert "our-spaces" not in offered(page)
        written = scenarios_folder / ".our-spaces.yaml.tmp"
        written.write_text(HAND_WRITTEN)
        written.rename(scenarios_folder / "our-spaces.yaml")
        deadline = time.monotonic() + 10
        while "our-spaces" not in scenario_names(mock_of_folder):
            assert time.monotonic() < deadline, "the mock never picked the new file up"
            time.sleep(0.1)
        open_ui(page, mock_of_folder.url)  # the page anew (a reload would keep the open operation)
        expect_authorized(page)
        try_it_out(page)
        assert "our-spaces" in offered(page)
        body, _ = play(page, "our-spaces", 200)
        assert body["spaces"] == [
            {"key": "ENG", "name": "Engineering", "type": "global", "status": "current",
             "id": body["spaces"][0]["id"], "url": body["spaces"][0]["url"]},
            {"key": "~jane", "name": "Jane Doe", "type": "personal", "status": "current",
             "id": body["spaces"][1]["id"], "url": body["spaces"][1]["url"]},
            {"key": "OLD", "name": "Old Stuff", "type": "global", "status": "archived",
             "id": body["spaces"][2]["id"], "url": body["spaces"][2]["url"]},
        ]  # fmt: skip
        assert body["spaces"][1]["url"].endswith("/spaces/~jane")


def scenario_names(service: RunningService) -> list[str]:
    listed = requests.get(service.url + "/mock/scenarios", timeout=5).json()["scenarios"]
    return [scenario["name"] for scenario in listed]


def test_slowed_down_then_seen_in_the_journal_through_the_mocks_own_document(browser, mock):
    """The frontend loop in the browser: slow Confluence down, then read the journal in the
    mock's own API, the second document of the top bar."""
    with ui_session(browser, mock) as session:
        page = session.page
        open_ui(page, mock.url)
        expect_authorized(page)
        try_it_out(page)
        param_row(page, "prefer").locator("input").fill("example=many, delay=100")
        response = execute(page)
        assert response.status == 200
        assert response.request.headers["prefer"] == "example=many, delay=100"
        request_id = response.headers["x-request-id"]

        page.locator(".topbar select").select_option(label="spacegate mock: its own API (/mock/*)")
        expect(page.locator(".information-container .title")).to_contain_text("own API")
        operation = page.locator(".opblock-get").filter(has_text="/mock/requests")
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator('tr[data-param-name="request_id"] input').fill(request_id)
        with page.expect_response(lambda r: "/mock/requests" in r.url) as answered:
            operation.locator(".btn.execute").click()
        assert answered.value.status == 200
        [entry] = answered.value.json()["requests"]
    assert entry["scenario"] == "many"
    assert entry["latency_ms"] == 100
    assert len(entry["confluence"]) == 5
    assert entry["duration_ms"] >= 500  # five pages, 100 ms each
    assert entry["headers"]["authorization"] == "Bearer ***"
