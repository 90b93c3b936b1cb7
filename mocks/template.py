"""`python -m mocks new NAME`: a commented hand-written scenario that serves as it is."""

from __future__ import annotations

from pathlib import Path

from mocks.scenario_folder import SUFFIXES

__all__ = ["TEMPLATE", "write_template"]

TEMPLATE = """\
# A mock scenario written by hand: Confluence's answers, made up. Pick it per request with
#   Prefer: example={name}
# spacegate's real handler and Confluence client run over it, so paging, retries and errors
# behave as in live mode; GET /mock/scenarios shows the status spacegate answers.
# Every field: README.md, "Scenarios written by hand".

# One line, shown by GET /mock/scenarios.
description: Three spaces of our own

# cloud: the v2 API (and v1 when v2 answers 404) | cloud-v1: v2 is gone, v1 lists |
# data-center: v1 at /rest/api. Call it with an instance_url ending in /wiki/rest/api
# (cloud, cloud-v1) or /rest/api (data-center), on any host.
flavour: cloud

# Spaces per Confluence page, so that paging really happens (leave it out for Confluence's
# own: 250 on Cloud, 25 on Data Center).
page_size: 2

# Confluence's latency per page, in milliseconds (left out: SPACEGATE_MOCK_LATENCY_MS).
# latency_ms: 300

# In the order Confluence lists them. key and name are required; type is global and status
# current unless said; id (a number) is made up when left out.
spaces:
  - {{key: ENG, name: Engineering, type: global, status: current}}
  - {{key: "~jane", name: Jane Doe, type: personal, status: current}}
  - {{key: OLD, name: Old Stuff, type: global, status: archived, id: 98400}}

# Confluence failing before it lists the spaces (or instead of them: leave out spaces and
# times, and it fails every time).
# upstream:
#   status: 429        # 403 | 404 | 429 | 503 | html (a login page) | timeout
#                      # | connection-refused | error (spacegate's 500)
#   retry_after: 2     # seconds, sent as Retry-After (429 and 503 only)
#   times: 1           # fails this many times, then lists the spaces
"""


def write_template(folder: Path, name: str) -> Path:
    """`folder/NAME.yaml` from the template; FileExistsError if the name is taken."""
    for suffix in SUFFIXES:
        taken = folder / f"{name}{suffix}"
        if taken.exists():
            raise FileExistsError(f"{taken} exists: the scenario '{name}' is taken")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.yaml"
    with target.open("x", encoding="utf-8") as out:  # "x": never over a file made meanwhile
        out.write(TEMPLATE.format(name=name))
    return target
