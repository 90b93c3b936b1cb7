"""The valid request body, in the two forms the tests and benchmarks send.

- `standin_body(confluence, "many")`: real Confluence values for the stand-in (live mode);
- `EXAMPLE_BODY`: openapi.yaml's first example, which the mock's `default` cassette answers.
"""

from __future__ import annotations

from typing import Any

from tests.confluence_standin import VALID_TOKEN, StandIn

EXAMPLE_BODY: dict[str, str] = {
    "instance_url": "https://acme.atlassian.net/wiki/rest/api",
    "web_url_instance": "https://acme.atlassian.net/wiki",
    "username": "jane.doe@acme.example",
    "api_token": "ATATT3xFfGF0-example-token",
}


def standin_body(
    confluence: StandIn, username: str = "three", *, root: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A body the stand-in answers: its Cloud root (or `root`), the persona `username`."""
    return {
        "instance_url": root or confluence.cloud_root,
        "web_url_instance": f"{confluence.url}/wiki",
        "username": username,
        "api_token": VALID_TOKEN,
        **fields,
    }
