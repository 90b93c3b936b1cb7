"""Benchmark (issue 3): mock-mode throughput against Stoplight Prism and a minimal Connexion app.

    python -m bench.mock_throughput [--duration S] [--connections 50] [--repeats N] [--json]

Run from the repository root. In ONE run, never driving two servers at once:

1. start-up: spawns ``python -m service serve --mode mock --port P --workers 1`` at INFO (the
   default) and at WARNING, the minimal Connexion app and Prism, ``--startup-spawns`` times
   each, interleaved, and times process spawn -> first 200 of the operation (polled every 5 ms).
2. scenarios: on a freshly started spacegate, one request per scenario of ``GET
   /mock/scenarios`` with ``Prefer: example=<name>`` (``instance_url`` ending with the
   scenario's ``root``), then two more; each status must be the scenario's ``status``.
3. throughput: six servers, one worker each, all on 127.0.0.1, each checked first to answer
   200 with its expected body, then driven one after another by ``wrk -t2 -c50 -d<S>s
   --latency --timeout 5s -s <script>`` with the same POST (bearer token, ``x-tenantid``,
   content-type, the ``default`` scenario's JSON body), after a warm-up each: ``--repeats``
   rounds, the order rotated every round, medians reported (and checked again after each run).

   - spacegate INFO: its normal JSON access line per request, stderr to a file;
   - spacegate WARNING: the same with ``SPACEGATE_LOG_LEVEL=WARNING`` (no access line);
   - Prism default: ``prism mock openapi.yaml -h 127.0.0.1 -p P`` (its default ``info``
     logging: ~10 lines, ~600 bytes per request), stdout to a file;
   - Prism silent: the same with ``-v silent``;
   - minimal: ``python -m bench.minimal_connexion`` (Connexion's default validation, PyJWT
     HS256, an async handler answering the seed's three spaces, no access log);
   - bare: ``python -m bench.minimal_connexion.bare``, a raw ASGI app on the same uvicorn:
     the machine's ceiling during this run, to compare runs on different days;
   - with ``--compare-with DIR`` (another checkout, e.g. ``git worktree add DIR <commit>``):
     spacegate INFO started in DIR, so running DIR's code: before and after in one run,
     profiled too.

   Prism is ``bench/node_modules/.bin/prism`` (what ``npx prism`` runs from ``bench/``, minus
   npx's own process), pinned in ``bench/package.json``: ``cd bench && npm ci``. Without it the
   Prism rows are skipped with the reason. The server's CPU time (``/proc/<pid>/stat`` of the
   process and its workers: ``serve`` answers from a granian worker process) is read
   around every run: CPU us per request is the cost measure least disturbed by wrk and other
   processes sharing the two cores; ``others %`` is what everything else on the machine used.
4. one connection: the same servers, rounds and checks with ``wrk -t1 -c1``: the latency one
   client sees (p50), without queueing.
5. profile: ``py-spy record --format raw`` (pausing the process for each sample; the busiest
   process of the server's tree, so serve's worker) on spacegate
   INFO and on the minimal app during one more wrk run each, after the timed rounds. Samples
   go to the layers of the request path (the innermost frame of a layer: ASGI server, each
   middleware, auth, validation, handler, client, adapter, answer body, logging; they add up
   to the whole) and to owners (the innermost frame of a known package; stdlib helpers bill
   their caller; logging, PyJWT and jsonschema take everything below them), scaled by the
   rounds' median CPU us per request. Stacks not rooted in the main module (torn reads, and
   threads running no Python code) are counted and dropped.
6. memory: once the others are stopped, a fresh spacegate INFO driven at c=50 in steps of
   ``--memory-step`` seconds until ``--memory-requests`` (100,000) were answered, its worker's
   RSS read after each step; flat when the growth after the first tenth is at most
   max(5 MiB, 5 %).

Every Python server gets a fresh random ``SPACEGATE_JWT_SECRET`` and no other ``SPACEGATE_*``
variable from the caller's environment. Everything reported comes from this one run; with
``--json`` the JSON goes to stdout and the table to stderr.

Modules: `servers` (the servers under test: start, check, stop), `wrk` (driving one with wrk
and measuring its CPU), `profiling` (py-spy and the attribution of samples), `report` (the
verdict and the table), `memory` (the memory run), `__main__` (the driver: the phases in
order).
"""
