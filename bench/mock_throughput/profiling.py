"""Where a server's time goes: py-spy samples during a wrk run, attributed to owners and subtrees.

py-spy records raw stacks (pausing the process for each sample). Each sample goes to one owner
(the innermost frame of a known package; stdlib helpers bill their caller; logging, PyJWT and
jsonschema take everything below them) and to every subtree one of its frames belongs to (they
overlap); the shares are scaled by the rounds' median CPU us per request. Stacks not rooted in
the main module (torn reads) are counted and dropped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import BenchError
from bench.mock_throughput.servers import Server
from bench.mock_throughput.wrk import Wrk, busiest_process

# Owners, tried on each sample's frames from the innermost outwards: the first frame whose
# file matches one of them takes the sample. Frames of unlisted modules (re, typing,
# functools, ...) thus bill their caller. Umbrellas win over everything below them.
UMBRELLAS = (
    ("logging (stdlib logging, JSON log formatter, scrubbing)", r"^(logging/|service/logs\.py)"),
    ("PyJWT (decode, verify HS256)", r"^jwt/"),
    ("jsonschema (+ referencing)", r"^(jsonschema|referencing|jsonschema_specifications)/"),
)
OWNERS = (
    ("json (encode/decode)", r"^json/"),
    ("vcrpy matchers/request", r"^vcr/"),
    ("requests (session, prepare, send)", r"^requests/"),
    ("urllib3 (HTTPResponse over BytesIO)", r"^urllib3/"),
    ("spacegate mocks/ (cassette adapter, scenario picker)", r"^mocks/"),
    ("spacegate Confluence client (+ paging, spaces)", r"^service/confluence/"),
    ("spacegate handler + auth", r"^service/(handler|auth)\.py"),
    ("spacegate validation (validation, problems)", r"^service/(validation|problems)\.py"),
    (
        "spacegate middlewares (request context, body guard, CORS, errors)",
        r"^(service/(request_context|body_guard|cors|error_table|errors)\.py|starlette/middleware/)",
    ),
    ("minimal app (bearer function, handler)", r"^bench/minimal_connexion/"),
    ("Connexion security", r"^connexion/(security|middleware/security)"),
    (
        "Connexion validation (validators, URI parsing)",
        r"^connexion/(validators|middleware/request_validation|uri_parsing)",
    ),
    (
        "Connexion routing (+ Starlette routing)",
        r"^(connexion/middleware/routing|starlette/routing)",
    ),
    (
        "Connexion handler call + response (decorators, jsonifier)",
        r"^connexion/(decorators|frameworks|operations|jsonifier|context|middleware/context)",
    ),
    ("Connexion middleware plumbing (other)", r"^connexion/"),
    ("Starlette (requests, responses, datastructures)", r"^starlette/"),
    ("ASGI server's Python side (uvicorn + httptools, granian)", r"^(uvicorn|httptools|granian)/"),
    ("asyncio/anyio plumbing", r"^(asyncio|anyio|uvloop|sniffio)/"),
)
# Subtrees: a sample counts in each one any of whose frames (function and file) matches, so
# they overlap; each names a call whose callees are all its own work, never the downstream app.
SUBTREES = (
    ("bearer check (Connexion verify_fn, all below)", r"^\S*verify_fn \(connexion/security\.py"),
    (
        "  of which the verify function (PyJWT and checks)",
        r"^(TokenVerifier\.verify \(service/auth\.py|verify_token \(bench/)",
    ),
    (
        "request validation (validators, Connexion's or spacegate's)",
        r"\((connexion/validators/|service/validation\.py|connexion/uri_parsing\.py)",
    ),
    ("  jsonschema, all", r"\((jsonschema|referencing)/"),
    (
        "  jsonschema validators built per request",
        r"(^\S*__attrs_post_init__ \(jsonschema/|<attrs generated methods jsonschema)",
    ),
    (
        "operation handler, all below it",
        r"(^|\.)list_spaces \((service/handler|bench/minimal_connexion/app)\.py",
    ),
    ("  Confluence client list_spaces", r"^ConfluenceClient\.list_spaces \("),
    ("    requests Session.send", r"^Session\.send \(requests/sessions\.py"),
    ("    cassette adapter send", r"^Replay\.send \(mocks/"),
    ("inspect.signature (Connexion, per request)", r"^signature \(inspect\.py"),
    (
        "response building (Connexion response decorator helpers)",
        r"^\S+Decorator\.(?!__call__)\S+ \(connexion/decorators/response\.py",
    ),
    ("logging (access line, formatter)", r"\((logging/|service/logs\.py)"),
)
_ROOT = "_run_module_as_main (<frozen runpy>"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):\d+\)$")


def frames_of(stack: str) -> list[tuple[str, str]]:
    """(frame text, file) from the root to the leaf; py-spy's raw lines are root first."""
    found = []
    for text in stack.split(";"):
        match = _FRAME.match(text.strip())
        found.append((text.strip(), match.group("file") if match else ""))
    return found


def attribute(samples: Counter[str]) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    owners: Counter[str] = Counter()
    subtrees: Counter[str] = Counter()
    files: Counter[str] = Counter()
    compiled_umbrellas = [(n, re.compile(p)) for n, p in UMBRELLAS]
    compiled_owners = [(n, re.compile(p)) for n, p in OWNERS]
    compiled_subtrees = [(n, re.compile(p)) for n, p in SUBTREES]
    for stack, count in samples.items():
        frames = frames_of(stack)
        paths = [f for _, f in frames]
        owner = next(
            (n for n, p in compiled_umbrellas if any(p.search(f) for f in paths)),
            None,
        )
        if owner is None:
            for path in reversed(paths):
                owner = next((n for n, p in compiled_owners if p.search(path)), None)
                if owner is not None:
                    break
        owners[owner or "other (event loop in C, interpreter start-up, unknown)"] += count
        for name, pattern in compiled_subtrees:
            if any(pattern.search(text) for text, _ in frames):
                subtrees[name] += count
        if paths:
            files[paths[-1] or frames[-1][0]] += count
    return dict(owners), dict(subtrees), dict(files)


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile(
    server: Server,
    wrk: Wrk,
    spy: str,
    *,
    seconds: int,
    rate: int,
    folder: Path,
    cost: float,
    keep_in: Path | None = None,
) -> dict[str, Any]:
    """py-spy during a wrk run; shares of the samples times `cost` (CPU us per request).

    `keep_in` keeps py-spy's raw (collapsed) stacks, e.g. for a flame graph.
    """
    raw = folder / f"profile-{server.target.key}.txt"
    recorder = subprocess.Popen(
        [
            *(spy, "record", "--pid", str(busiest_process(server.pid)), "--rate", str(rate)),
            *("--duration", str(seconds), "--format", "raw", "-o", str(raw)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = wrk.drive(server, seconds + 2)  # covers py-spy's attach and whole window
    _, errors = recorder.communicate(timeout=60)
    if recorder.returncode != 0 or not raw.exists():
        raise BenchError(f"py-spy failed ({recorder.returncode}): {errors[-1500:]}")
    if keep_in is not None:
        keep_in.mkdir(parents=True, exist_ok=True)
        shutil.copy(raw, keep_in / raw.name)
    samples: Counter[str] = Counter()
    torn = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not (stack and count.isdigit()):
            continue
        if stack.startswith(_ROOT):
            samples[stack] += int(count)
        else:  # a stack read while it changed: not rooted in the main module
            torn += int(count)
    total = sum(samples.values())
    if not total:
        raise BenchError(f"py-spy recorded no usable stack of {server.target.label}")
    owners, subtrees, files = attribute(samples)

    def scaled(counts: dict[str, int], order: tuple[str, ...] = ()) -> dict[str, dict[str, float]]:
        names = [n for n in order if n in counts]
        names += sorted((n for n in counts if n not in names), key=lambda n: -counts[n])
        return {
            name: {"pct": 100 * counts[name] / total, "us_per_request": cost * counts[name] / total}
            for name in names
        }

    return {
        "samples": total,
        "samples_dropped_torn": torn,
        "expected_samples_if_always_busy": seconds * rate,
        "run": vars(run),
        "scaled_by_cpu_us_per_request": cost,
        "owners": scaled(owners),
        "subtrees": scaled(subtrees, tuple(name for name, _ in SUBTREES)),
        "leaf_files": dict(list(scaled(files).items())[:15]),
    }
