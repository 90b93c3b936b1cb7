"""A stand-in Confluence for tests: real HTTP on 127.0.0.1, standard library only.

Usage::

    from tests.confluence_standin import StandIn, VALID_TOKEN

    with StandIn(page_delay=0.0) as confluence:      # port=0: an ephemeral port
        confluence.cloud_root        # http://127.0.0.1:PORT/wiki/rest/api
        confluence.dc_root           # http://127.0.0.1:PORT/rest/api
        confluence.dc_context_root   # http://127.0.0.1:PORT/confluence/rest/api
        requests.get(f"{confluence.url}/wiki/api/v2/spaces", auth=("many", VALID_TOKEN))
        confluence.expected_spaces("many", flavor="v2")   # what a full listing must yield
        confluence.requests          # RecordedRequest(method, path_with_query, headers, username,
                                     #                 in_flight, status, at)
        confluence.most_in_flight("spaces-5000")  # the most requests of one user at once
        confluence.clear()           # forget requests, reset the personas' counters

Or from a shell: ``python -m tests.confluence_standin --port 8090 [--page-delay 0.05]``.

``expected_spaces(username, flavor)`` gives ``{"id": str, "key", "name", "type", "status",
"webui"}`` items in that flavor's order (v2 by id, v1/dc by key; webui ``/display/KEY`` on dc).
Personas that fail return the spaces behind the failure (``v2-gone``: what v1 lists);
``runaway`` raises ValueError. ``requests`` is a snapshot of the latest 10,000 requests; their
``headers`` are a dict under lower-case names that looks names up case-insensitively and hides
``Authorization`` from its repr. ``page_delay`` (seconds before every 200) can be changed on a
running stand-in.

Paths (the path decides the flavor; anything else is Confluence's XML 404, any method but GET
a JSON 405):

====================================  ======  ==================================================
``/wiki/api/v2/spaces``               v2      cursor paging, by id, limit 25 (max 250), ``Link``
``/wiki/rest/api/space``              v1      start/limit, by key, limit 25 (max 500)
``/rest/api/space``                   dc      like v1, webui ``/display/KEY``, pages of 25 at most
``/confluence/rest/api/space``        dc      the same under a context path
====================================  ======  ==================================================

Authentication is Basic ``username:VALID_TOKEN``. The username (or an email's local part:
``html@standin.example``) picks a persona; another token
(or none) is refused as Confluence does: 403 JSON on Cloud paths, Tomcat's HTML 401 on Data
Center paths. Unknown usernames act as ``three``.

Personas (all flavors unless said):

- listings: ``three`` (KB, IT, HR), ``empty``, ``many`` (10,000), ``over-a-thousand`` (1,234), ``personal-and-archived``,
  ``unicode``, ``big-page`` (one ~20 MB page), ``v1-forms`` (63 spaces, v1/dc pages of at most
  10 whose ``next`` cycles through ``/rest/...``, ``rest/...`` and an absolute URL), ``odd-words`` (``type`` and ``status``
  never seen, or not words at all: ``draft``, ``CURRENT``, ``in review``, ``Ärchived``, ``__``, empty).
- APIs gone: ``v2-gone`` (v2 JSON 404), ``v1-gone`` (v1 and dc 410 text), ``both-gone``.
- auth layer, whatever the token: ``legacy-401`` (text), ``dc-html-401`` (HTML),
  ``basic-disabled`` (403 JSON).
- throttling: ``rate-limited-once`` / ``unavailable-once`` (first page: fail, succeed, fail...
  counted per persona and flavor), ``rate-limited`` (huge Retry-After),
  ``rate-limited-short``, ``garbage-retry-after``, ``unavailable`` (503 HTML).
- time: ``slow`` (30 s before the status line), ``slow-body`` (valid JSON whose last 120 bytes
  drip at 2 bytes/s).
- not the API: ``html`` (200 login page), ``wrong-shape`` (``{"items": []}``), ``bad-space``
  (an item without ``key``).
- paging traps (forced pages of 1): ``cycle``, ``runaway`` (endless), ``next-other-host``,
  ``base-other-host`` (``_links.base`` on http://evil.example).
- redirects: ``redirect-other-host`` (302 to the same path on ``localhost``, or ``127.0.0.1``
  when the request came through ``localhost``), ``redirect-same-host`` (one 301 adding
  ``redirected=1``).
- any size: ``spaces-<N>`` (N generated spaces, N up to 1,000,000), with modifiers after ``+``:
  ``page-<K>`` (v1/dc pages of up to K), ``undercount`` (v1/dc ``next`` links whose ``start``
  advances by half of what the page served), ``throttle-at-<S>`` (429s for
  ``THROTTLE_SECONDS`` from the request for the page at position S, once until ``clear()``),
  ``fail-at-<S>`` (that page always 503), ``delay-<MS>`` (this persona's page delay),
  ``no-v2`` (v2 answers 404: a Cloud root is listed through v1), e.g.
  ``spaces-20000+page-50+undercount`` (see ``datasets.Sized``).

Concurrency: ``in_flight`` of each recorded request, and ``most_in_flight(username)``, count the
requests of one username being answered at once (from the request line to the last byte).
"""

from .datasets import FLAVORS, PERSONAS, Flavor, Sized
from .server import THROTTLE_SECONDS, VALID_TOKEN, RecordedRequest, StandIn

__all__ = [
    "FLAVORS",
    "PERSONAS",
    "THROTTLE_SECONDS",
    "VALID_TOKEN",
    "Flavor",
    "RecordedRequest",
    "Sized",
    "StandIn",
]
