"""Swagger UI in mock mode: already authorized, every scenario in the `prefer` drop-down.

    GET /ui/                    Swagger UI's page, set up for the mock (below)
    GET /ui/mock-openapi.json   the contract as the page shows it: a copy, made per request

The page is Swagger UI's standard one (the assets are Connexion's, from swagger-ui-bundle)
with three differences:

- it loads `/ui/mock-openapi.json`, a copy of `openapi.yaml` whose `prefer` examples are the
  scenarios the mock serves at that moment (5xx included, so a page reload shows a scenario
  added since), and whose `x-tenantid` example is the demo tenant;
- when the document is shown, it asks `POST /mock/token` for a token of the demo tenant and
  authorizes with it (`preauthorizeApiKey`), so Try it out works at once;
- its top bar offers a second document, the mock's own API (`/mock/*`, mocks/mock_api.py).

Why a copy and not the document rewritten in the browser: which scenarios exist is the
server's knowledge, and a document is what Swagger UI (any version) builds its drop-down
from, so the page needs no Swagger UI internals, only two documented options (`url`,
`onComplete`) and one documented method. The copy is served only here, in mock mode:
`/openapi.json` and `/openapi.yaml` stay the contract as written, for every other tool, and
live mode's Swagger UI is Connexion's, unchanged.
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mocks.mock_api import MOCK_API_JSON_PATH
from mocks.token_endpoint import MAX_TTL_SECONDS, TOKEN_PATH

__all__ = ["DEMO_TENANT", "UI_INDEX_PATHS", "UI_SPEC_PATH", "MockSwaggerUI", "ui_document"]

# The tenant the README's examples use, and the contract's example of x-tenantid.
DEMO_TENANT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
UI_INDEX_PATHS = frozenset({"/ui/", "/ui/index.html"})
UI_SPEC_PATH = "/ui/mock-openapi.json"

Described = Mapping[str, Any]  # one scenario as GET /mock/scenarios describes it


def _header_parameters(document: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    """Every header parameter called `name`, in components and inline in operations."""
    candidates: list[Any] = list(document.get("components", {}).get("parameters", {}).values())
    for path_item in document.get("paths", {}).values():
        candidates += path_item.get("parameters", [])
        for operation in path_item.values():
            if isinstance(operation, dict):
                candidates += operation.get("parameters", [])
    for parameter in candidates:
        if (
            isinstance(parameter, dict)
            and parameter.get("in") == "header"
            and str(parameter.get("name", "")).lower() == name
        ):
            yield parameter


_ABOUT_THE_COPY = f"""**Mock mode.** This page shows a copy of the contract made for the mock's \
Swagger UI: it is authorized for the demo tenant `{DEMO_TENANT}` (a token from \
`POST {TOKEN_PATH}`), and `prefer` offers every scenario. The contract as written is \
[/openapi.json](../openapi.json).

"""
_PREFER = """RFC 7240 preferences: `example=<scenario>` plays that scenario, `code=<status>` \
the first scenario yielding that status at the request's root; with no preference the mock \
plays `default`; `delay=<milliseconds>` makes each of Confluence's answers that slow. The \
examples are every scenario this mock serves now, 5xx included (reload the page to see \
scenarios added since); `GET /mock/scenarios` lists them, and the sequences. Live mode \
ignores this header."""


def _summary(scenario: Described, usual_root: str) -> str:
    answers = f"answers {scenario['status']}"
    if scenario["root"] != usual_root:
        answers += f"; recorded at an instance_url ending in {scenario['root']}"
    return f"{scenario['description']} ({answers})"


def _prefer_examples(written: Mapping[str, Any], scenarios: Sequence[Described]) -> dict[str, Any]:
    """The written "no preference" example first, then every scenario by name, then the
    written examples that name no scenario (`code=403`)."""
    usual_root = next((s["root"] for s in scenarios if s["name"] == "default"), "")
    names = {s["name"] for s in scenarios}
    examples: dict[str, Any] = {k: v for k, v in written.items() if v.get("value") == ""}
    for scenario in scenarios:
        examples[scenario["name"]] = {
            "summary": _summary(scenario, usual_root),
            "value": f"example={scenario['name']}",
        }
    for key, example in written.items():
        value = str(example.get("value", ""))
        if value and not value.startswith("example=") and key not in names:
            examples[key] = example
    return examples


def ui_document(written: Mapping[str, Any], scenarios: Sequence[Described]) -> dict[str, Any]:
    """A copy of the contract `written` for the mock's Swagger UI: `prefer` offers every one
    of `scenarios`, `x-tenantid` the demo tenant. `written` itself is left as it is."""
    document = copy.deepcopy(dict(written))
    info = document.setdefault("info", {})
    info["description"] = _ABOUT_THE_COPY + str(info.get("description", ""))
    for prefer in _header_parameters(document, "prefer"):
        prefer["examples"] = _prefer_examples(prefer.get("examples", {}), scenarios)
        prefer.pop("example", None)
        # The written one explains why the contract's examples are only some scenarios.
        prefer["description"] = _PREFER
    for tenant in _header_parameters(document, "x-tenantid"):
        tenant.pop("examples", None)
        tenant["example"] = DEMO_TENANT
    return document


def _bearer_scheme(document: Mapping[str, Any]) -> str | None:
    schemes = document.get("components", {}).get("securitySchemes", {})
    return next(
        (
            name
            for name, scheme in schemes.items()
            if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
        ),
        None,
    )


def _script_value(value: object) -> str:
    # JSON is JavaScript; "<" escaped so that nothing in it can close the <script> element.
    return json.dumps(value).replace("<", "\\u003c")


_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>{title} (mock)</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css" />
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="./favicon-16x16.png" sizes="16x16" />
    <style>
      html {{ box-sizing: border-box; overflow-y: scroll; }}
      *, *:before, *:after {{ box-sizing: inherit; }}
      body {{ margin: 0; background: #fafafa; }}
    </style>
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script>
    window.onload = function () {{
      const mock = {mock};
      // Asked at once; the page authorizes with it when the document is shown.
      const token = fetch(mock.tokenUrl, {{
        method: "POST",
        headers: {{"content-type": "application/json"}},
        body: JSON.stringify({{tenant: mock.tenant, ttl: mock.ttl}}),
      }}).then(function (answer) {{
        return answer.json().then(function (body) {{
          if (!answer.ok) throw new Error(body.detail || answer.statusText);
          return body.access_token;
        }});
      }});
      const ui = SwaggerUIBundle({{
        urls: [
          {{url: mock.documentUrl, name: mock.title}},
          {{url: mock.mockApiUrl, name: "spacegate mock: its own API (/mock/*)"}},
        ],
        "urls.primaryName": mock.title,
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout",
        onComplete: function () {{
          if (!mock.scheme) return;
          token.then(
            function (value) {{ ui.preauthorizeApiKey(mock.scheme, value); }},
            function (error) {{
              console.warn("spacegate mock: no token, use Authorize by hand:", error.message);
            }}
          );
        }},
      }});
      window.ui = ui;
    }};
    </script>
  </body>
</html>
"""


def _page(written: Mapping[str, Any]) -> str:
    title = str(written.get("info", {}).get("title", "API"))
    setup = {
        "documentUrl": "." + UI_SPEC_PATH.removeprefix("/ui"),
        "title": title,
        "mockApiUrl": ".." + MOCK_API_JSON_PATH,
        "tokenUrl": ".." + TOKEN_PATH,
        "tenant": DEMO_TENANT,
        # A working day: a tab left open keeps working; a reload mints a new one.
        "ttl": MAX_TTL_SECONDS,
        "scheme": _bearer_scheme(written),
    }
    return _PAGE.format(title=html.escape(title), mock=_script_value(setup))


class MockSwaggerUI:
    """In front of Connexion's Swagger UI (MiddlewarePosition.BEFORE_SWAGGER): answers the
    page and the document copy; the assets and everything else go on to Connexion.

    `scenarios()` is asked on every load of the document, so it shows the current ones.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        written: Mapping[str, Any],
        scenarios: Callable[[], Sequence[Described]],
    ) -> None:
        self.app = app
        self.written = written
        self.scenarios = scenarios
        self.page = _page(written)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response | None = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            if scope["path"] in UI_INDEX_PATHS:
                response = HTMLResponse(self.page, headers={"Cache-Control": "no-cache"})
            elif scope["path"] == UI_SPEC_PATH:
                response = JSONResponse(
                    ui_document(self.written, self.scenarios()),
                    headers={"Cache-Control": "no-cache"},
                )
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
