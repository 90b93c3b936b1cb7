"""Re-record the shipped scenario cassettes with `python -m mocks record` against the stand-in.

    python -m tests.confluence_standin.record_shipped [--cassettes DIR] [--only NAME ...]

The shipped cassettes are real recordings of the record command against this stand-in, which
speaks Confluence's documented API; `timeout` and `server-error` are declared, not recorded
(a cassette cannot hold a transport failure), and are not touched here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.confluence_standin import VALID_TOKEN, StandIn

__all__ = ["SHIPPED", "Shipped", "record"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Shipped:
    scenario: str
    persona: str
    description: str
    root: str = "cloud"  # cloud, dc, or a path under the stand-in
    token: str = VALID_TOKEN

    def instance_url(self, confluence: StandIn) -> str:
        if self.root == "cloud":
            return confluence.cloud_root
        if self.root == "dc":
            return confluence.dc_root
        return confluence.url + self.root

    def web_url(self, confluence: StandIn) -> str:
        return confluence.url + ("" if self.root == "dc" else "/wiki")


SHIPPED: tuple[Shipped, ...] = (
    Shipped("default", "three", "The seed's spaces: KB, IT and HR (Cloud, v2 API)"),
    Shipped("empty", "empty", "A user who can see no space at all"),
    Shipped("many", "over-a-thousand", "1,234 spaces over five v2 cursor pages"),
    Shipped(
        "personal-and-archived",
        "personal-and-archived",
        "Global, personal (~) and archived spaces, and newer Cloud space types",
    ),
    Shipped(
        "data-center",
        "v1-forms",
        "Data Center: the v1 API at /rest/api, /display/ links, seven pages",
        root="dc",
    ),
    Shipped("v1-fallback", "v2-gone", "The v2 API answers 404; the v1 API lists the spaces"),
    Shipped(
        "credentials-rejected",
        "three",
        "Cloud refuses the API token with a 403 JSON answer",
        token="not-the-right-token",
    ),
    Shipped("legacy-401", "legacy-401", "An older site refuses basic auth with a text/plain 401"),
    Shipped(
        "wrong-root",
        "three",
        "instance_url is not the REST API root: Confluence answers 404 (XML)",
        root="/wiki",
    ),
    Shipped("rate-limited-then-ok", "rate-limited-once", "One 429, then the listing"),
    Shipped(
        "rate-limited",
        "rate-limited",
        "429 with a Retry-After far beyond the retry policy: answered at once",
    ),
    Shipped("confluence-down", "unavailable", "503 on every attempt"),
    Shipped("not-confluence", "html", "An HTML login page where the API should be"),
)


def record(confluence: StandIn, shipped: Shipped, cassettes: Path) -> str:
    """Run the record command for one scenario; its summary line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEGATE_")}
    env |= {
        "SPACEGATE_RECORD_API_TOKEN": shipped.token,
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mocks",
            "record",
            "--scenario",
            shipped.scenario,
            "--instance-url",
            shipped.instance_url(confluence),
            "--web-url",
            shipped.web_url(confluence),
            "--username",
            f"{shipped.persona}@confluence-standin.example",
            "--description",
            shipped.description,
            "--cassettes",
            str(cassettes),
            "--force",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"recording {shipped.scenario} failed: {result.stderr}")
    return result.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cassettes", type=Path, default=ROOT / "cassettes")
    parser.add_argument("--only", nargs="*", help="scenario names (default: all recorded ones)")
    args = parser.parse_args(argv)
    chosen = [s for s in SHIPPED if not args.only or s.scenario in args.only]
    with StandIn() as confluence:
        for shipped in chosen:
            confluence.clear()
            print(record(confluence, shipped, args.cassettes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
