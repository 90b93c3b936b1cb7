"""One slow or greedy client harms no one else: `python -m service serve` over raw sockets.

Every test talks to the real serve process (granian and its worker), configured only through
SPACEGATE_* variables, with short limits so that the limits show quickly: head size and header
count, slow heads and bodies, the connection bound, the worker-thread queue and the deadline,
abandoned requests, and what /healthz says about all that.
"""

from __future__ import annotations

import json
import resource
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.serving import serving
from service.server import MAX_HEADERS
from service.settings import DEV_JWT_SECRET
from tests.confluence_standin import VALID_TOKEN, StandIn
from tests.support.processes import ROOT, environment, live_environment, process_tree
from tests.support.tokens import OTHER_TENANT, TENANT, TEST_SECRET, mint

OPERATION = "/v2/confluence/space-listing"
CLIENT_TIMEOUT = 1.0  # SPACEGATE_CLIENT_TIMEOUT_SECONDS of the mock server below
MAX_CONNECTIONS = 16
MAX_HEADER_BYTES = 12288


@dataclass
class Served:
    url: str
    pid: int
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def access_lines(self) -> list[dict[str, Any]]:
        lines = [json.loads(x) for x in self.log.read_text().splitlines() if x.startswith("{")]
        return [line for line in lines if line["logger"] == "spacegate.access"]

    def healthz(self) -> dict[str, Any]:
        return requests.get(self.url + "/healthz", timeout=10).json()


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("limits") / "serve.log"
    env = environment(
        SPACEGATE_CLIENT_TIMEOUT_SECONDS=str(CLIENT_TIMEOUT),
        SPACEGATE_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        SPACEGATE_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
    )
    with serving("mock", env=env, log=log, cwd=ROOT) as served:
        yield Served(served.url, served.pid, log)


# -- raw HTTP ----------------------------------------------------------------------------------


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw`, return what comes back until the server closes or the head is complete."""
    with connect(port) as sock:
        sock.sendall(raw)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def status_of(answer: bytes) -> int | None:
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else None


def operation_request(body: dict[str, Any], token: str, tenant: str = TENANT) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {OPERATION} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n"
        f"x-tenantid: {tenant}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def mock_body() -> dict[str, Any]:
    return {
        "instance_url": "https://acme.atlassian.net/wiki/rest/api",
        "web_url_instance": "https://acme.atlassian.net/wiki",
        "username": "jane.doe@acme.example",
        "api_token": "anything",
    }


def socket_count(pid: int) -> int:
    """Sockets open in serve and its workers."""
    count = 0
    for member in process_tree(pid):
        for fd in Path(f"/proc/{member}/fd").iterdir():
            try:
                count += fd.readlink().name.startswith("socket:")
            except OSError:
                continue
    return count


def rss_bytes(pid: int) -> int:
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (EOF or reset waiting to be read), without blocking."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


# -- the request head --------------------------------------------------------------------------


def test_a_64_mib_header_is_refused_at_once_before_any_auth_work(mock):
    """Four clients each offer a 64 MiB Authorization header: each is cut off after the limit
    (431 or a closed connection), the worker does not buffer them, the application never sees
    them, and a normal client is answered meanwhile and after."""
    offered = 64 * 1024 * 1024
    chunk = b"a" * (1024 * 1024)
    rss_before = rss_bytes(mock.pid)
    operation_lines_before = sum(line["path"] == OPERATION for line in mock.access_lines())
    outcomes: list[tuple[int, bytes]] = []

    def greedy() -> None:
        sent = 0
        with connect(mock.port) as sock:
            try:
                sock.sendall(f"POST {OPERATION} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ".encode())
                while sent < offered:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                answer = sock.recv(65536)
            except ConnectionResetError:
                answer = b""
        outcomes.append((sent, answer))

    senders = [threading.Thread(target=greedy) for _ in range(4)]
    for sender in senders:
        sender.start()
    normal = [requests.get(mock.url + "/healthz", timeout=10).status_code for _ in range(10)]
    for sender in senders:
        sender.join(timeout=60)
    assert normal == [200] * 10
    assert len(outcomes) == 4, "the greedy clients were still sending after a minute"
    for sent, answer in outcomes:
        assert sent < offered, "the server read a 64 MiB header to the end"
        assert answer == b"" or status_of(answer) == 431, answer[:200]
    assert rss_bytes(mock.pid) - rss_before < offered // 16
    assert sum(line["path"] == OPERATION for line in mock.access_lines()) == operation_lines_before
    assert requests.get(mock.url + "/healthz", timeout=10).status_code == 200


def test_the_head_size_limit_is_the_configured_one(mock):
    """A head of SPACEGATE_MAX_HEADER_BYTES is always read; the server reads in growing
    chunks and refuses a head still incomplete once its buffer is full, so a longer one may
    get in, but never one over twice the limit, however its bytes arrive."""

    def head_of(size: int) -> bytes:
        start = b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: "
        return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"

    def in_pieces(raw: bytes, size: int) -> bytes:
        with connect(mock.port) as sock:
            try:
                for start in range(0, len(raw), size):
                    sock.sendall(raw[start : start + size])
                    time.sleep(0.01)
                return sock.recv(65536)
            except (BrokenPipeError, ConnectionResetError):
                return b""

    assert len(head_of(MAX_HEADER_BYTES)) == MAX_HEADER_BYTES
    assert status_of(exchange(mock.port, head_of(MAX_HEADER_BYTES))) == 200
    assert status_of(in_pieces(head_of(MAX_HEADER_BYTES), 1000)) == 200
    too_big = head_of(2 * MAX_HEADER_BYTES + 1)
    assert status_of(exchange(mock.port, too_big)) == 431
    for piece in (1000, 5000, 9000):
        assert status_of(in_pieces(too_big, piece)) in (431, None)


def test_more_headers_than_the_bound_are_refused(mock):
    def with_headers(count: int) -> bytes:
        extra = b"".join(b"x-h%d: 1\r\n" % i for i in range(count - 1))
        return b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + extra + b"\r\n"

    assert status_of(exchange(mock.port, with_headers(MAX_HEADERS))) == 200
    assert status_of(exchange(mock.port, with_headers(MAX_HEADERS + 1))) == 431


def test_concurrent_requests_of_different_tenants_keep_their_own_context(mock):
    """Requests at once, half with a token of the tenant they name and half with another
    tenant's token: every one is judged by its own token (the server must not share per-request
    state such as scope["extensions"], where Connexion keeps the token's claims)."""
    own = mint(TENANT, secret=DEV_JWT_SECRET)
    foreign = mint(OTHER_TENANT, secret=DEV_JWT_SECRET)
    tokens = [own, foreign] * 60
    statuses: dict[int, int] = {}

    def call(index: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[index]}", "x-tenantid": TENANT}
        with requests.Session() as session:
            response = session.post(mock.url + OPERATION, json=mock_body(), headers=headers, timeout=30)
        statuses[index] = response.status_code

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [statuses[i] for i in range(len(tokens))] == [200, 403] * 60


def test_an_answer_given_before_the_body_was_read_never_strands_a_kept_alive_client(mock):
    """A 401 or 413 answered before the body was read closes the connection and says so, so a
    client reusing its connections (requests.Session) never loses its next request."""
    oversized = json.dumps({**mock_body(), "padding": "x" * 70_000}).encode()
    token = mint(TENANT, secret=DEV_JWT_SECRET)
    no_token = {"x-tenantid": TENANT, "content-type": "application/json"}
    too_large = {"Authorization": f"Bearer {token}", "x-tenantid": TENANT}
    valid = {**too_large, "content-type": "application/json"}
    seen: list[tuple[int, str | None]] = []
    with requests.Session() as session:
        for _ in range(20):
            for headers, data in ((no_token, oversized), (too_large, oversized)):
                answer = session.post(mock.url + OPERATION, data=data, headers=headers, timeout=10)
                seen.append((answer.status_code, answer.headers.get("connection")))
            answer = session.post(mock.url + OPERATION, json=mock_body(), headers=valid, timeout=10)
            seen.append((answer.status_code, answer.headers.get("connection")))
    assert seen == [(401, "close"), (413, "close"), (200, None)] * 20


# -- slow clients ------------------------------------------------------------------------------


def test_clients_dribbling_or_idle_are_closed_after_the_timeout(mock):
    """Slowloris: ten sockets send a request head one byte every 0.1 s, forever; two more
    send nothing; one sends a whole request and then idles. The server closes every one of
    them, the dribbling ones while they are still sending."""
    dribbling = [connect(mock.port) for _ in range(10)]
    idle = [connect(mock.port) for _ in range(2)]
    kept_alive = connect(mock.port)
    kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
    assert status_of(kept_alive.recv(65536)) == 200
    head = b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: " + b"a" * 100_000
    started = time.monotonic()
    closed_at: dict[socket.socket, float] = {}
    sent = dict.fromkeys(dribbling, 0)
    give_up = started + 10 * CLIENT_TIMEOUT
    everyone = [*dribbling, *idle, kept_alive]
    while len(closed_at) < len(everyone) and time.monotonic() < give_up:
        for sock in everyone:
            if sock in closed_at:
                continue
            if closed_by_server(sock):
                closed_at[sock] = time.monotonic() - started
            elif sock in sent:
                try:
                    sock.sendall(head[sent[sock] : sent[sock] + 1])
                    sent[sock] += 1
                except (BrokenPipeError, ConnectionResetError):
                    closed_at[sock] = time.monotonic() - started
        time.sleep(0.1)
    for sock in everyone:
        sock.close()
    assert set(closed_at) == set(everyone), "some slow clients were never closed"
    # closed by the timeout, not by anything sooner, and not later than a few timeouts
    assert all(0.5 * CLIENT_TIMEOUT <= t <= 5 * CLIENT_TIMEOUT for t in closed_at.values())
    assert all(count >= 5 for count in sent.values())  # they kept sending until closed
    assert requests.get(mock.url + "/healthz", timeout=10).status_code == 200


def test_a_body_dribbling_in_gets_408_and_a_closed_connection(mock):
    token = mint(TENANT, secret=DEV_JWT_SECRET)
    raw = operation_request(mock_body(), token)
    head, _, payload = raw.partition(b"\r\n\r\n")
    with connect(mock.port) as sock:
        sock.sendall(head + b"\r\n\r\n" + payload[:10])
        started = time.monotonic()
        answer = b""
        for byte in payload[10:]:
            if select.select([sock], [], [], 0)[0]:
                break  # an answer, or the connection closed
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.1)
        sock.settimeout(5)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        waited = time.monotonic() - started
    assert status_of(answer) == 408, answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "request_timeout"
    assert waited <= 5 * CLIENT_TIMEOUT


def test_connections_beyond_the_bound_wait_outside_the_process(mock):
    """1,000 idle sockets: serve's processes hold at most SPACEGATE_MAX_CONNECTIONS of them
    (the rest wait in the kernel's accept queue, costing no descriptor of ours); once they
    go, a normal client is served."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    before = socket_count(mock.pid)
    crowd: list[socket.socket] = []
    try:
        for _ in range(1000):
            try:
                crowd.append(socket.create_connection(("127.0.0.1", mock.port), timeout=2))
            except OSError:
                break  # the accept queue is full: refused, which is also fine
        time.sleep(0.5)
        held = socket_count(mock.pid) - before
    finally:
        for sock in crowd:
            sock.close()
    assert len(crowd) > 10 * MAX_CONNECTIONS
    assert held <= MAX_CONNECTIONS
    assert requests.get(mock.url + "/healthz", timeout=30).status_code == 200


# -- worker threads ----------------------------------------------------------------------------


def live_body(standin: StandIn, username: str) -> dict[str, Any]:
    return {
        "instance_url": standin.cloud_root,
        "web_url_instance": f"{standin.url}/wiki",
        "username": username,
        "api_token": VALID_TOKEN,
    }


def list_spaces(url: str, body: dict[str, Any], tenant: str) -> tuple[requests.Response, float]:
    headers = {"Authorization": f"Bearer {mint(tenant)}", "x-tenantid": tenant}
    started = time.monotonic()
    response = requests.post(url + OPERATION, json=body, headers=headers, timeout=120)
    return response, time.monotonic() - started


def wait_for(condition: Any, *, seconds: float = 20) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        time.sleep(0.05)


@contextmanager
def serving_live(standin: StandIn, folder: Path, *, threads: int, deadline: float) -> Iterator[Served]:
    """serve in live mode against `standin`, with few worker threads and a short deadline."""
    env = live_environment(
        standin.port,
        TEST_SECRET,
        SPACEGATE_WORKER_THREADS=str(threads),
        SPACEGATE_DEADLINE_SECONDS=str(deadline),
        SPACEGATE_CONNECT_TIMEOUT_SECONDS="1",
        SPACEGATE_READ_TIMEOUT_SECONDS=str(deadline),
    )
    log = folder / "serve.log"
    with serving("live", env=env, log=log, cwd=ROOT) as served:
        yield Served(served.url, served.pid, log)


def test_time_queued_for_a_worker_thread_counts_toward_the_deadline(tmp_path):
    """One worker thread, four listings of a Confluence that never answers in time: each is
    answered 504 by its own deadline, counted from its arrival, however long it queued;
    /healthz shows the thread busy and the others queued."""
    deadline = 2.0
    with StandIn() as standin, serving_live(standin, tmp_path, threads=1, deadline=deadline) as served:
        url = served.url
        results: list[tuple[requests.Response, float]] = []

        def call() -> None:
            results.append(list_spaces(url, live_body(standin, "slow"), TENANT))

        first = threading.Thread(target=call)
        first.start()
        wait_for(lambda: any(r.username == "slow" for r in standin.requests))
        queued = [threading.Thread(target=call) for _ in range(3)]
        for thread in queued:
            thread.start()
        seen: list[dict[str, Any]] = []
        while first.is_alive() or any(t.is_alive() for t in queued):
            seen.append(served.healthz())
            time.sleep(0.05)
        for thread in [first, *queued]:
            thread.join()
    assert [r.status_code for r, _ in results] == [504] * 4, [r.text for r, _ in results]
    assert {r.json()["code"] for r, _ in results} == {"confluence_timeout"}
    # Before, each queued request got a whole deadline once it had a thread: the third
    # waited three deadlines.
    assert max(elapsed for _, elapsed in results) < 1.5 * deadline
    busiest = max(seen, key=lambda h: h["worker_threads"]["queued"])
    assert busiest["worker_threads"] == {"size": 1, "busy": 1, "queued": 3}
    assert busiest["saturated"] is True
    assert busiest["requests_in_progress"] >= 5  # four listings and the healthz itself


def test_abandoned_requests_free_their_threads_for_other_tenants(tmp_path):
    """Two worker threads; eight endless listings sent and their connections closed at once.
    Another tenant's listing is then served about as fast as before, Confluence sees no
    further request of the abandoned listings, and each was logged as 499."""
    page_delay = 0.2
    deadline = 10.0
    with StandIn(page_delay=page_delay) as standin, serving_live(
        standin, tmp_path, threads=2, deadline=deadline
    ) as served:
        url = served.url
        other = live_body(standin, "three")
        alone = min(list_spaces(url, other, OTHER_TENANT)[1] for _ in range(2))

        def listings_started() -> int:  # first pages asked for: one per listing that ran
            return sum(
                r.username == "runaway" and "cursor" not in r.path_with_query
                for r in standin.requests
            )

        token = mint(TENANT)
        abandoned = [connect(served.port) for _ in range(8)]
        for sock in abandoned:
            sock.sendall(operation_request(live_body(standin, "runaway"), token))
        wait_for(lambda: listings_started() >= 2)
        time.sleep(5 * page_delay)  # the other six are queued by now
        crowd = served.healthz()
        for sock in abandoned:
            sock.close()

        response, crowded = list_spaces(url, other, OTHER_TENANT)
        assert response.status_code == 200
        runaway_pages = sum(r.username == "runaway" for r in standin.requests)
        time.sleep(5 * page_delay)
        assert sum(r.username == "runaway" for r in standin.requests) == runaway_pages
        assert listings_started() == 2  # the queued six never took a thread
        after = served.healthz()
    # Before, the other tenant waited for every abandoned listing's whole deadline.
    assert crowded < alone + deadline / 4
    statuses = [line["status"] for line in served.access_lines() if line["path"] == OPERATION]
    assert statuses.count(499) == 8
    assert crowd.get("worker_threads") == {"size": 2, "busy": 2, "queued": 6}
    assert crowd.get("saturated") is True
    assert after.get("worker_threads") == {"size": 2, "busy": 0, "queued": 0}
    assert after.get("saturated") is False
