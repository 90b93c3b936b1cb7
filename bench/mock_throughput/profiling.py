"""Where a server's time goes: py-spy samples during a wrk run, attributed to owners and layers.

py-spy records raw stacks (pausing the process for each sample). Each sample goes to one owner
(the innermost frame of a known package; stdlib helpers bill their caller; logging, PyJWT and
jsonschema take everything below them) and to one layer of the request path (the innermost
frame of a layer: the layers add up to the whole); the shares are scaled by the rounds' median
CPU us per request. Stacks not rooted in the main module (torn reads, and samples of threads
running no Python code) are counted and dropped.
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
# Layers of the request path (docs/design.md#the-request-path), from the server inwards: each
# sample goes to the innermost frame that belongs to a layer, so the layers add up to the
# whole and a layer's figure is its own work (what it calls in other layers is theirs). A
# frame belongs to a layer by its file, or for a few by its function; frames of no layer
# (Starlette's routers, re, typing, urllib, ...) bill the layer that called them.
LAYERS = (
    (
        "ASGI server: its Python side, serve's corrections",
        r"\((granian|uvicorn|httptools)/|\(service/server\.py",
    ),
    ("Connexion's entry (ConnexionMiddleware)", r"\(connexion/(middleware/main|apps/abstract)\.py"),
    ("Starlette's ServerErrorMiddleware", r"\(starlette/middleware/errors\.py"),
    (
        "mock: ScenarioPicker, journal",
        r"^(ScenarioPicker|Recorder)\S* \(mocks/|\(mocks/(journal|playback|latency)\.py",
    ),
    ("RequestContext (request id, in flight)", r"\(service/request_context\.py"),
    ("CORS", r"\((starlette/middleware/cors|service/cors)\.py"),
    (
        "Connexion's ExceptionMiddleware",
        r"\(starlette/(middleware/exceptions|_exception_handler)\.py"
        r"|\(connexion/middleware/exceptions\.py",
    ),
    (
        "Swagger UI middlewares (pass-through)",
        r"\((connexion/middleware/swagger_ui|mocks/swagger_ui)\.py",
    ),
    ("Connexion routing", r"\(connexion/middleware/routing\.py"),
    ("Connexion per-operation dispatch (RoutedMiddleware)", r"\(connexion/middleware/abstract\.py"),
    (
        "Connexion security middleware",
        r"\(connexion/(middleware/security|security)\.py|^VerifyingBearer",
    ),
    (
        "auth: bearer verification, tenant check (PyJWT)",
        r"\(service/auth\.py|^verify_token \(bench/",
    ),
    ("BodyGuard (body read, 408/413/415)", r"\(service/body_guard\.py"),
    (
        "Connexion request validation middleware",
        r"\(connexion/(middleware/request_validation|validators/|uri_parsing)",
    ),
    (
        "validation: spacegate's validators, URL and mock rules",
        r"\(service/(validation|problems|url_rule|confluence/urlpolicy)\.py"
        r"|^(scenario_rule|delay_rule) ",
    ),
    (
        "Connexion lifespan and context middlewares",
        r"\(connexion/middleware/(lifespan|context)\.py",
    ),
    (
        "Connexion operation (parameter, response decorators)",
        r"\(connexion/(apps/asynchronous|decorators/)",
    ),
    ("handler (listSpaces)", r"\(service/handler\.py|^list_spaces \(bench/"),
    (
        "Confluence client (paging, retries, deadline)",
        r"\(service/confluence/(client|paging|spaces|readahead|window|retry|errors|page_threads)\.py",
    ),
    ("cassette adapter (mocks/adapter.py and below)", r"\(mocks/adapter\.py"),
    (
        "answer body (listing_body, Starlette Response)",
        r"\((service/listing_body|starlette/responses)\.py",
    ),
    ("logging (access line)", r"\((logging/|service/logs\.py|service/json_text\.py)"),
)
NO_LAYER = "event loop and the rest (no frame of a layer)"
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
    layers: Counter[str] = Counter()
    files: Counter[str] = Counter()
    compiled_umbrellas = [(n, re.compile(p)) for n, p in UMBRELLAS]
    compiled_owners = [(n, re.compile(p)) for n, p in OWNERS]
    compiled_layers = [(n, re.compile(p)) for n, p in LAYERS]
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
        layer = NO_LAYER
        for text, _ in reversed(frames):
            layer = next((n for n, p in compiled_layers if p.search(text)), NO_LAYER)
            if layer != NO_LAYER:
                break
        layers[layer] += count
        if paths:
            files[paths[-1] or frames[-1][0]] += count
    return dict(owners), dict(layers), dict(files)


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
    owners, layers, files = attribute(samples)

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
        "layers": scaled(layers, (*(name for name, _ in LAYERS), NO_LAYER)),
        "leaf_files": dict(list(scaled(files).items())[:15]),
    }
