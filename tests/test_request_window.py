"""The parts of parallel paging that need no server: a listing's request window (with real
threads), the offset link, and the page threads' borrowing."""

from __future__ import annotations

import threading
import time

import pytest

from service.confluence.page_threads import PageThreads
from service.confluence.paging import OffsetLink
from service.confluence.window import RequestWindow, Ticket, WindowClosed

FAR = 1e12  # a deadline that never comes


def hold_slot(window: RequestWindow, ticket: Ticket, entered: list[int], leave: threading.Event):
    def run() -> None:
        with window.slot(ticket, time.monotonic() + 10) as acquired:
            assert acquired
            entered.append(ticket.position)
            leave.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def a_window_held_by_page_0():
    """A window of one slot, held by page 0's thread until `leave` is set."""
    window = RequestWindow(1)
    entered: list[int] = []
    leave = threading.Event()
    holder = hold_slot(window, Ticket(0), entered, leave)
    wait_for(lambda: entered == [0])
    return window, entered, leave, holder


def wait_for(condition, seconds: float = 5.0) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up
        time.sleep(0.005)


def test_a_free_slot_goes_to_the_page_that_comes_first():
    window, entered, leave, first = a_window_held_by_page_0()
    waiting = []
    for count, position in enumerate((7, 3, 5), 1):  # queued in this order
        waiting.append(hold_slot(window, Ticket(position), entered, leave))
        wait_for(lambda count=count: len(window._waiting) == count)
    leave.set()  # ...and served in Confluence's
    for thread in [first, *waiting]:
        thread.join(10)
    assert entered == [0, 3, 5, 7]


def test_never_more_slots_in_use_than_the_size():
    window = RequestWindow(3)
    busy = 0
    most = 0
    lock = threading.Lock()

    def fetch(position: int) -> None:
        nonlocal busy, most
        with window.slot(Ticket(position), FAR):
            with lock:
                busy += 1
                most = max(most, busy)
            time.sleep(0.01)
            with lock:
                busy -= 1

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 3


def test_throttling_halves_the_window_and_successes_grow_it_back():
    window = RequestWindow(4)
    sizes = []
    for _ in range(3):
        assert window.back_off(Ticket(0), 0.0, 10.0, throttled=True)
        sizes.append(window.size)
    assert sizes == [2, 1, 1]
    grown = []
    for _ in range(1 + 2 + 3):  # one success per slot before each step
        window.succeeded()
        grown.append(window.size)
    assert grown == [2, 2, 3, 3, 3, 4]
    for _ in range(10):
        window.succeeded()
    assert window.size == 4  # never past the configured concurrency


def test_waits_of_pages_throttled_together_are_charged_once():
    together = RequestWindow(4)
    assert together.back_off(Ticket(0), 1.0, 10.0, throttled=True)
    assert together.back_off(Ticket(1), 1.0, 10.0, throttled=True)
    assert together.waited == pytest.approx(1.0, abs=0.05)
    # Waits that are not Confluence's "later" (a reset connection) add up.
    apart = RequestWindow(4)
    assert apart.back_off(Ticket(0), 1.0, 10.0, throttled=False)
    assert apart.back_off(Ticket(1), 1.0, 10.0, throttled=False)
    assert apart.waited == pytest.approx(2.0)


def test_the_budget_refuses_a_wait_it_cannot_take_and_charges_nothing():
    window = RequestWindow(1)
    assert window.back_off(Ticket(0), 0.6, 1.0, throttled=False)
    assert not window.back_off(Ticket(0), 0.6, 1.0, throttled=False)
    assert window.waited == pytest.approx(0.6)


def test_after_a_429_other_pages_wait_until_retry_after_has_passed():
    window = RequestWindow(4)
    throttled, other = Ticket(0), Ticket(1)
    started = time.monotonic()
    assert window.back_off(throttled, 0.3, 10.0, throttled=True)
    with window.slot(throttled, FAR):  # the page that waited its own Retry-After goes
        pass
    with window.slot(other, FAR):
        waited = time.monotonic() - started
    assert waited >= 0.3


def test_resumed_ends_the_hold_of_a_page_whose_sleep_returned_at_once():
    window = RequestWindow(4)
    throttled = Ticket(0)
    assert window.back_off(throttled, 30.0, 60.0, throttled=True)
    window.resumed(throttled)
    with window.slot(Ticket(1), time.monotonic() + 1) as acquired:
        assert acquired


def test_the_deadline_ends_a_wait_for_a_slot():
    window, _entered, leave, holder = a_window_held_by_page_0()
    with window.slot(Ticket(1), time.monotonic() + 0.1) as acquired:
        assert acquired is False
    leave.set()
    holder.join(10)


def test_cancelled_pages_and_a_closed_window_send_nothing():
    window = RequestWindow(2)
    dropped = Ticket(3)
    window.cancel(dropped)
    with pytest.raises(WindowClosed), window.slot(dropped, FAR):
        pass
    window.close()
    with pytest.raises(WindowClosed), window.slot(Ticket(0), FAR):
        pass


@pytest.mark.parametrize(
    ("url", "start", "moved"),
    [
        (
            "https://c.example/rest/api/space?next=true&limit=25&start=25",
            25,
            "https://c.example/rest/api/space?next=true&limit=25&start=100",
        ),
        ("https://c.example/x?start=5&limit=2#f", 5, "https://c.example/x?start=100&limit=2#f"),
        ("https://c.example/ctx/x?a=1&start=007&b", 7, "https://c.example/ctx/x?a=1&start=100&b"),
    ],
)
def test_an_offset_link_changes_only_its_start(url: str, start: int, moved: str):
    link = OffsetLink.of(url)
    assert link is not None
    assert link.start == start
    assert link.at(100) == moved


@pytest.mark.parametrize(
    "url",
    [
        "https://c.example/x",
        "https://c.example/x?cursor=abc",
        "https://c.example/x?start=1&start=2",
        "https://c.example/x?start=-1",
        "https://c.example/x?start=1e3",
        "https://c.example/x?starts=1",
        "https://c.example/x#start=1",
    ],
)
def test_a_link_without_one_decimal_start_is_followed_as_written(url: str):
    assert OffsetLink.of(url) is None


def test_page_threads_are_borrowed_only_when_free():
    threads = PageThreads(2)
    release = threading.Event()
    try:
        first = threads.try_submit(lambda: release.wait(10))
        second = threads.try_submit(lambda: release.wait(10))
        assert first is not None
        assert second is not None
        assert threads.busy == 2
        assert threads.try_submit(lambda: True) is None  # never waits for a thread
        release.set()
        assert first.result(10)
        assert second.result(10)
        wait_for(lambda: threads.busy == 0)
        third = threads.try_submit(lambda: "again")
        assert third is not None
        assert third.result(10) == "again"
    finally:
        release.set()
        threads.close()
