"""The tracker's pure decisions (`Schedule`, `Sweeps`): tables of inputs and decisions, no
event loop, no I/O. Time is a plain object whose readings the test sets.
"""

from __future__ import annotations

import random

import attrs
import pytest

from twelvelabs_async import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    DecodeError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from twelvelabs_async.tracking import BatchPolicy, PollPolicy, StatusChange, Strategy
from twelvelabs_async.tracking._schedule import Schedule, classify, names_object
from twelvelabs_async.tracking._state import Priority
from twelvelabs_async.tracking._sweeps import EVEN_SPACING, FINDS_PER_PAGE, SweepPlan, Sweeps

TERMINAL = frozenset({"done", "broken"})
ACTIVE = ("uploading", "processing")
FINAL = ("done", "broken")


class Now:
    """A clock that reads what the test set: `mono` (monotonic) and `wall` (epoch)."""

    def __init__(self, mono: float = 100.0, wall: float = 1_700_000_000.0) -> None:
        self.mono = mono
        self.wall = wall

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def schedule(
    *,
    strategy: Strategy = "per_task",
    on_error: str = "raise",
    webhooks: bool = False,
    policy: PollPolicy | None = None,
    now: Now | None = None,
) -> Schedule:
    return Schedule(
        policy or PollPolicy(),
        strategy=strategy,
        on_error=on_error,  # type: ignore[arg-type]
        expect_webhooks=webhooks,
        terminal=TERMINAL,
        clock=now or Now(),
        rng=random.Random(1),
    )


def api(cls: type, status: int) -> Exception:
    return cls(f"{status}", status_code=status)


# --- classify ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "about_one", "on_error", "verdict"),
    [
        (api(ServerError, 503), True, "raise", "transient"),
        (api(RateLimitError, 429), False, "raise", "transient"),
        (APIConnectionError("reset"), True, "collect", "transient"),
        (DecodeError("cut off"), False, "collect", "transient"),
        (api(NotFoundError, 404), True, "collect", "drop"),
        (api(BadRequestError, 400), True, "collect", "drop"),
        (api(NotFoundError, 404), True, "raise", "fatal"),
        (api(NotFoundError, 404), False, "collect", "fatal"),  # a list page, not one object
        (api(AuthenticationError, 401), True, "collect", "fatal"),
        (api(PermissionDeniedError, 403), True, "collect", "fatal"),
        (RuntimeError("a bug"), True, "collect", "fatal"),
        (InvalidInputError("bad"), True, "collect", "fatal"),
    ],
)
def test_classify_decides_retry_drop_or_stop(
    error: Exception, about_one: bool, on_error: str, verdict: str
) -> None:
    """Transient errors are retried; per-object API errors dropped when collecting; else stop."""
    assert classify(error, about_one=about_one, on_error=on_error) == verdict  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (api(NotFoundError, 404), True),
        (api(ServerError, 500), True),
        (api(AuthenticationError, 401), False),
        (api(PermissionDeniedError, 403), False),
        (RuntimeError("x"), False),
    ],
)
def test_only_api_errors_about_the_object_carry_its_id(error: Exception, named: bool) -> None:
    """A 404 names the object it is about; 401/403 and non-API errors do not."""
    assert names_object(error) is named


# --- the registry -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "first_due"), [("per_task", 100.0), ("auto", 100.0), ("sweep", 103.0)]
)
def test_new_ids_are_due_now_or_after_the_grace_while_sweeping(
    strategy: Strategy, first_due: float
) -> None:
    """A new id is polled at once, or, when sweeping, after `unseen_grace` (3 s)."""
    s = schedule(strategy=strategy)
    assert s.add(["a", "b"]) == ["a", "b"]
    assert [s.entries[i].due for i in "ab"] == [first_due, first_due]
    assert s.counts["unknown"] == 2


def test_add_skips_pending_known_and_dropped_ids() -> None:
    """Ids pending, known to the caller (yielded, held) or dropped are not tracked again."""
    s = schedule()
    s.add(["a"])
    s.drop("d", NotFoundError("gone", status_code=404))
    assert s.add(["a", "b", "c", "d", "b"], known=["c"]) == ["b"]
    assert sorted(s.entries) == ["a", "b"]


def test_next_poll_returns_due_ids_in_order_and_marks_them_in_flight() -> None:
    """Only due ids come out, earliest first; an id in flight is not handed out twice."""
    now = Now()
    s = schedule(now=now)
    s.add(["a", "b"])
    s.queue.schedule(s.entries["b"], 99.0)
    first = s.next_poll()
    assert first is not None
    assert first.task_id == "b"
    assert first.in_flight
    second = s.next_poll()
    assert second is not None
    assert second.task_id == "a"
    assert s.next_poll() is None
    assert s.next_due() is None  # both in flight


# --- observations -----------------------------------------------------------------------------


def test_observe_reports_changes_only_and_moves_the_counts() -> None:
    """The first sighting and each new status give a StatusChange; a repeat gives None."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    assert s.observe(entry, "uploading", 5.0) == StatusChange("a", None, "uploading")
    assert s.observe(entry, "uploading", None) is None
    assert s.observe(entry, "done", None) == StatusChange("a", "uploading", "done")
    assert entry.created == 5.0
    assert {k: v for k, v in s.counts.items() if v} == {"done": 1}


def test_a_poll_of_an_id_no_longer_tracked_is_ignored() -> None:
    """An answer for an id dropped meanwhile changes nothing (and resets the failure streak)."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    s.failure_streak = 3
    s.drop("a", NotFoundError("gone", status_code=404))
    assert s.polled(entry) is False
    assert s.failure_streak == 0


def test_finish_stops_tracking_once_and_learns_the_duration() -> None:
    """Finishing removes the id and records created->ended; finishing again is a no-op."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    assert s.finish(entry, 1000.0, 1012.5) is True
    assert s.finish(entry, 1000.0, 1012.5) is False
    assert "a" not in s.entries
    assert len(s.durations) == 1
    assert s.durations.quantile(0.5) == 12.5


@pytest.mark.parametrize(
    ("strategy", "webhooks", "reason", "low", "high"),
    [
        ("per_task", False, "poll", 0.8, 1.2),  # min_interval 1 s, +-20 %
        ("sweep", False, "safety_net", 24.0, 30.0),  # max_interval, jittered down only
        ("per_task", True, "safety_net", 48.0, 60.0),  # webhooks: sweeps every 30 s, polls 60
    ],
)
def test_reschedule_polls_adaptively_or_as_a_safety_net(
    strategy: Strategy, webhooks: bool, reason: str, low: float, high: float
) -> None:
    """Per-task polling starts at min_interval; sweeps or webhooks leave a slow safety net."""
    s = schedule(strategy=strategy, webhooks=webhooks)
    s.add(["a"])
    entry = s.entries["a"]
    s.polled(entry)
    s.reschedule(entry)
    assert entry.reason == reason
    assert low <= entry.due - 100.0 <= high


def test_a_wrong_flag_is_counted_as_wasted() -> None:
    """A poll that shows a flagged object still running counts one wasted retrieve."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    entry.candidate = True
    s.still_running(entry)
    assert s.stats.wasted == 1
    assert entry.candidate is False


@pytest.mark.parametrize(
    ("object_id", "status", "in_flight", "told", "due"),
    [
        ("a", "done", False, True, 100.0),  # terminal news about a pending id: retrieve now
        ("a", "broken", True, True, None),  # counted, but its poll is already under way
        ("a", "processing", False, False, None),  # not terminal
        ("zzz", "done", False, False, None),  # not tracked
    ],
)
def test_an_event_schedules_a_retrieve_only_when_it_can_end_a_pending_id(
    object_id: str, status: str, in_flight: bool, told: bool, due: float | None
) -> None:
    """told() schedules a webhook retrieve now for terminal news of a pending, idle id."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    s.queue.schedule(entry, 500.0)
    entry.in_flight = in_flight
    assert s.told(object_id, status) is told
    assert s.stats.webhooks == (1 if told else 0)
    if due is not None:
        assert (entry.due, entry.reason) == (due, "webhook")
    else:
        assert entry.due == 500.0


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "streak", "cap"),
    [(1, 1, 1.0), (2, 2, 2.0), (3, 3, 4.0), (8, 1, 4.0), (8, 8, 30.0)],
)
def test_failure_backoff_grows_past_four_intervals_only_in_an_outage(
    failures: int, streak: int, cap: float
) -> None:
    """One object's failures back off to 4 s while others succeed; an outage goes to 30 s."""
    delays = []
    for seed in range(200):
        s = schedule()
        s.rng = random.Random(seed)
        s.failure_streak = streak
        delays.append(s.retry_at(failures) - 100.0)
    assert max(delays) <= cap
    assert max(delays) > 0.8 * cap
    assert min(delays) >= 0.5  # never sooner than half of min_interval


def test_a_failed_poll_waits_for_the_backoff_and_any_pause() -> None:
    """A transient failure reschedules after its backoff, never before a rate-limit pause."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    s.poll_failed(entry, not_before=150.0)
    assert (entry.failures, s.failure_streak, s.stats.retries) == (1, 1, 1)
    assert entry.due == 150.0
    s.poll_failed(entry, not_before=0.0)
    assert 100.5 <= entry.due <= 102.0


@pytest.mark.parametrize(("streak", "low", "high"), [(0, 0.125, 0.25), (2, 0.125, 0.25)])
def test_a_flagged_objects_failed_retrieve_comes_back_sooner_on_a_healthy_server(
    streak: int, low: float, high: float
) -> None:
    """A quarter of the backoff for an object known to be done, while others succeed."""
    s = schedule()
    s.add(["a"])
    entry = s.entries["a"]
    entry.candidate = True
    s.failure_streak = streak
    s.poll_failed(entry, not_before=0.0)
    assert low <= entry.due - 100.0 <= high


def test_a_flagged_objects_retrieve_backs_off_fully_in_an_outage() -> None:
    """Past a few failures of everything in a row, a flagged object waits like the rest."""
    delays = []
    for seed in range(50):
        s = schedule()
        s.rng = random.Random(seed)
        s.add(["a"])
        entry = s.entries["a"]
        entry.candidate = True
        s.failure_streak = 5
        entry.failures = 4
        s.poll_failed(entry, not_before=0.0)
        delays.append(entry.due - 100.0)
    assert max(delays) > 4.0


def test_under_a_rate_limit_the_safety_net_takes_a_fifth_of_the_rate_at_most() -> None:
    """2,000 ids at 10 requests a second: a safety-net poll each 1,000 s, not each 30 s."""
    s = schedule(strategy="sweep")
    s.add([f"id{i}" for i in range(2000)])
    assert s.safety_interval == 30.0
    s.rate = 10.0
    assert s.safety_interval == pytest.approx(1000.0)
    s.rate = 1000.0  # a rate that does not bind leaves it as it was
    assert s.safety_interval == 30.0
    polls = schedule(strategy="per_task")
    polls.rate = 0.1
    assert polls.safety_interval == 30.0  # no safety net without sweeps or webhooks


def test_drop_records_the_error_and_forgets_the_id() -> None:
    """A dropped id leaves the counts and the entries, and its error is kept."""
    s = schedule(on_error="collect")
    s.add(["a", "b"])
    s.observe(s.entries["a"], "processing", None)
    error = NotFoundError("gone", status_code=404)
    s.drop("a", error)
    assert s.errors == {"a": error}
    assert list(s.entries) == ["b"]
    assert {k: v for k, v in s.counts.items() if v} == {"unknown": 1}


# --- rate limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "delays", "throttled"),
    [
        # bare 429s back off 0.5, 1, 2 s (each after the last pause); another answer resets
        ([(0, 429, {}), (1, 429, {}), (2, 429, {})], [0.5, 1.0, 2.0], 3.5),
        ([(0, 429, {}), (1, 200, {}), (0, 429, {})], [0.5, 0.0, 0.5], 1.0),
        # bare 429s during a pause were in flight when it began: one step for the burst
        ([(0, 429, {}), (0.1, 429, {}), (0.1, 429, {}), (1, 429, {})], [0.5, 0, 0, 1.0], 1.5),
        # the server's delay wins, and a shorter pause never shortens a longer one
        ([(0, 429, {"Retry-After": "10"}), (0, 429, {"Retry-After": "3"})], [10.0, 0.0], 10.0),
        # an overlapping longer pause extends it by the difference only
        ([(0, 429, {"Retry-After": "10"}), (5, 429, {"Retry-After": "8"})], [10.0, 8.0], 13.0),
        # a reset already past is no pause at all: back off instead
        ([(0, 429, {"X-Ratelimit-Reset": "1600000000"})], [0.5], 0.5),
        # ... as after a wait asked for that is negative or not a plain number
        ([(0, 429, {"Retry-After": "-5"})], [0.5], 0.5),
        ([(0, 429, {"X-Ratelimit-Reset": "1_700_000_010"})], [0.5], 0.5),
        # ... and after an exhausted budget whose reset is past: never a pause of nothing
        ([(0, 200, {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1600000000"})], [0.5], 0.5),
        # an exhausted budget pauses until its reset, even on a 200
        ([(0, 200, {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1700000004"})], [4.0], 4),
        ([(0, 200, {"X-Ratelimit-Remaining": "7", "X-Ratelimit-Reset": "1700000004"})], [0.0], 0),
    ],
)
def test_responses_decide_the_pauses_of_every_request(
    answers: list[tuple[float, int, dict[str, str]]], delays: list[float], throttled: float
) -> None:
    """What each response (after `wait` seconds) means for pacing: the pause it starts."""
    now = Now()
    s = schedule(now=now)
    paused_until = float("-inf")
    got = []
    for wait, status, headers in answers:
        now.advance(wait)
        pause = s.on_response(status, headers, paused_until)
        paused_until = pause.until
        got.append(pause.delay)
    assert got == delays
    assert s.stats.throttles == sum(1 for d in delays if d > 0)
    assert s.stats.throttled_seconds == pytest.approx(throttled)


# --- sweeps -----------------------------------------------------------------------------------


def sweeps(s: Schedule, *, list_items: bool = False) -> Sweeps:
    return Sweeps(s, active=ACTIVE, final=FINAL, page_limit=50, yield_list_items=list_items)


def test_auto_switches_to_sweeping_when_a_sweep_costs_less_than_the_polls() -> None:
    """120 ids polled every second cost 120 req/s; a sweep of 4 pages wins, and is kept."""
    s = schedule(strategy="auto")
    s.add([f"t{i}" for i in range(120)])
    plan = sweeps(s)
    assert plan.choose_mode({}) is True
    assert s.sweeping is True


def test_auto_goes_back_to_polls_and_spreads_them_over_one_interval() -> None:
    """With two ids left, per-object polls are cheaper: each is due within min_interval."""
    now = Now()
    s = schedule(strategy="auto", now=now)
    s.add(["a", "b"])
    s.sweeping = True
    for entry in s.entries.values():
        entry.interval = 1.0
        s.queue.schedule(entry, 500.0)
    plan = sweeps(s)
    assert plan.choose_mode({}) is False
    assert all(100.0 <= e.due <= 101.0 and e.reason == "poll" for e in s.entries.values())


@pytest.mark.parametrize(
    ("created", "finished", "list_items", "final"),
    [
        (None, {}, False, False),  # a creation time unknown: final sweeps cannot stop
        (1.0, {}, False, True),  # 120 running, nothing finished: 2 final pages against 4
        (1.0, {"done": 1000}, False, False),  # 21 final pages: reading the running is cheaper
        (1.0, {"done": 1000}, True, True),  # list items need the final lists
    ],
)
def test_the_plan_reads_the_cheaper_lists(
    created: float | None, finished: dict[str, int], list_items: bool, final: bool
) -> None:
    """A final sweep when allowed and cheaper (or yielding list items), else an active one."""
    s = schedule(strategy="sweep")
    s.add([f"t{i}" for i in range(120)])
    for entry in s.entries.values():
        entry.created = 5.0
        entry.status = "processing"
    s.entries["t7"].created = created
    plan = sweeps(s, list_items=list_items).plan(finished)
    assert plan.final is final
    # Every id was seen processing: the uploading list, earlier, can show none of them.
    assert plan.statuses == (FINAL if final else ("processing",))
    assert plan.cutoff == (1.0 if final else None)  # reaching back to the oldest id


@attrs.frozen
class Seen:
    """An object as a list shows it (a `Listed`): its full form is its id."""

    id: str
    status: str
    created: float | None = 7.0

    def full(self) -> str:
        return self.id


def find(object_id: str, status: str) -> Seen:
    return Seen(object_id, status)


def test_a_complete_active_sweep_flags_the_ids_it_did_not_see() -> None:
    """Seen running: safety-net poll; unseen: retrieve now; in flight or added later: left."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["running", "gone", "busy"])
    s.entries["busy"].in_flight = True
    now.advance(1.0)
    s.add(["late"])
    plan = sweeps(s)
    changes = plan.apply_active({"running": find("running", "processing")}, True, started=100.5)
    assert changes == [StatusChange("running", None, "processing")]
    assert (s.entries["running"].reason, s.entries["gone"].reason) == ("safety_net", "sweep")
    assert s.entries["gone"].due == 101.0
    assert s.entries["gone"].candidate
    assert s.stats.candidates == 1
    assert not s.entries["busy"].candidate
    assert not s.entries["late"].candidate


def test_an_incomplete_active_sweep_flags_nothing() -> None:
    """A sweep that missed a list cannot infer anything from an id's absence."""
    s = schedule(strategy="sweep")
    s.add(["gone"])
    sweeps(s).apply_active({}, False, started=200.0)
    assert not s.entries["gone"].candidate


def test_a_flag_overrides_a_failure_backoff_but_not_a_due_retrieve() -> None:
    """Flagging again moves a backed-off retrieve to now; one already due is left as is."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["a"])
    entry = s.entries["a"]
    plan = sweeps(s)
    plan.flag(entry)
    s.queue.schedule(entry, 130.0)  # its retrieve failed: backed off
    now.advance(5.0)
    plan.flag(entry)
    assert entry.due == 105.0
    version = entry.version
    plan.flag(entry)
    assert entry.version == version
    assert s.stats.candidates == 1


@pytest.mark.parametrize("list_items", [False, True])
def test_a_final_sweep_flags_or_finishes_what_ended(list_items: bool) -> None:
    """Found on a final list: flagged for a retrieve, or returned to finish from the item."""
    s = schedule(strategy="sweep")
    s.add(["ok", "bad", "run"])
    found = {"ok": find("ok", "done"), "bad": find("bad", "broken"), "run": find("run", "x")}
    finish = sweeps(s, list_items=list_items).apply_final(found, False, started=200.0)
    if list_items:
        assert sorted(e.task_id for e, _ in finish) == ["bad", "ok"]
        assert not s.entries["ok"].candidate
    else:
        assert finish == []
        assert s.entries["ok"].candidate
        assert s.entries["bad"].candidate
    assert not s.entries["run"].candidate  # a status that is not terminal proves nothing


def test_a_complete_final_sweep_defers_safety_polls_within_two_horizons() -> None:
    """Ids on no final list wait longer for their safety poll, but at most 2 x 30 s."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["quiet"])
    entry = s.entries["quiet"]
    s.queue.schedule(entry, 110.0, "safety_net")
    now.advance(50.0)  # at 150: a deferral would go to ~174-180, capped at 100 + 60
    sweeps(s).apply_final({}, True, started=149.0)
    assert entry.due == 160.0


def test_a_sweep_moves_only_safety_polls_that_come_within_half_an_interval() -> None:
    """Seen running, or on no final list: a safety poll 10 s away moves out; 20 s away stays."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["near", "far", "seen near", "seen far"])
    for object_id, due in (("near", 110.0), ("far", 120.0), ("seen near", 110.0)):
        s.queue.schedule(s.entries[object_id], due, "safety_net")
    s.queue.schedule(s.entries["seen far"], 120.0, "safety_net")
    plan = sweeps(s)
    plan.apply_final({}, True, started=100.0)  # half the 30-s safety interval: 115
    assert s.entries["near"].due > 110.0
    assert s.entries["far"].due == 120.0
    seen = {i: find(i, "processing") for i in ("seen near", "seen far")}
    plan.apply_active(seen, True, started=100.0)
    assert s.entries["seen near"].due > 110.0
    assert s.entries["seen far"].due == 120.0


def test_sweeps_keep_a_beat_but_rest_as_long_as_they_ran() -> None:
    """The next sweep is due a sweep interval after the start, or as long after the end as
    the next sweep will take (this one's time, for as many pages), whichever is later.
    """
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["a"])
    plan = sweeps(s)
    plan.running = True
    now.advance(0.2)
    plan.ended(started=100.0)
    assert (plan.running, plan.next) == (False, 101.0)
    now.advance(4.8)  # a 5-s sweep
    plan.ended(started=100.2)
    assert plan.next == pytest.approx(105.0 + 4.8)
    assert plan.due() is False
    now.advance(10.0)
    assert plan.due() is True


def test_a_sweep_of_many_pages_waits_until_it_can_find_enough() -> None:
    """Past one round of pages, sweeps are spaced so that each page of the next sweep finds
    FINDS_PER_PAGE objects: at the rate sweeps find them, or that of the safety net.
    """
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(3000)])
    plan = Sweeps(
        s, active=ACTIVE, final=FINAL, page_limit=50, yield_list_items=False, free_pages=16
    )
    # The next sweep reads the running lists: 60 pages of "processing", one of "uploading".
    assert plan.cost(False, {}) == 61
    now.advance(1.0)
    plan.ended(started=100.0, pages=61)  # found nothing yet
    # pace as if the 3,000 ids must finish within the 30-s safety interval
    assert plan.next == pytest.approx(100.0 + FINDS_PER_PAGE * (61 - 16) / (3000 / 30))
    for entry in list(s.entries.values())[:1000]:
        plan.flag(entry)  # this sweep found 1,000 finished (no longer on the running lists)
    assert plan.cost(False, {}) == 41
    now.advance(0.2)
    plan.ended(started=101.0, pages=61)  # a 0.2-s sweep
    assert plan.next == 101.0 + EVEN_SPACING  # finding plenty: an even beat
    plan.list_read("processing", 100_000)  # others' objects make the next sweep dear
    now.advance(1.0)
    plan.ended(started=102.0, pages=61)
    assert plan.next == 102.0 + s.safety_interval / 2  # never more than half the safety net


def test_after_a_dear_sweep_a_cheap_one_waits_only_as_long_as_it_takes() -> None:
    """The next sweep's estimated pages, not the last one's, set the rest and the spacing.

    A run's first sweep reads the running lists (creation times unknown): 3,000 ids, 61
    pages, 2 s. The next reads the terminal lists, short this early: 2 pages, at the same
    pace, so it is due soon after the dear one ended, not 2 s after.
    """
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(3000)])
    plan = Sweeps(
        s, active=ACTIVE, final=FINAL, page_limit=50, yield_list_items=False, free_pages=16
    )
    assert plan.plan({}).final is False
    now.advance(2.0)
    for entry in s.entries.values():
        entry.created, entry.status = 5.0, "processing"  # what the sweep showed
    plan.ended(started=100.0, pages=61)
    assert plan.plan({}).final is True  # 2 pages against 61
    assert plan.next == pytest.approx(102.0 + 2.0 * 2 / 61)


@pytest.mark.parametrize(
    ("strategy", "reason", "priority"),
    [
        ("per_task", "poll", Priority.POLL),
        ("per_task", "sweep", Priority.FINISH),
        ("per_task", "webhook", Priority.FINISH),
        ("per_task", "safety_net", Priority.SAFETY),
        ("sweep", "poll", Priority.SAFETY),
        ("sweep", "sweep", Priority.FINISH),
    ],
)
def test_a_poll_is_as_urgent_as_its_reason(
    strategy: Strategy, reason: str, priority: Priority
) -> None:
    """A retrieve of what ended goes first; a first poll while sweeps find goes last."""
    s = schedule(strategy=strategy)
    s.sweeping = strategy == "sweep"
    s.add(["a"])
    s.put(s.entries["a"], 105.0, reason)
    assert (s.entries["a"].priority, s.entries["a"].reason) == (priority, reason)


def test_under_a_rate_limit_the_next_sweep_waits_for_the_retrieves_it_flagged() -> None:
    """A sweep that flagged 40 objects at 10 requests a second: the next one 4 s after it."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["a"])
    plan = sweeps(s)
    plan.plan({})
    s.stats.candidates += 40  # what the sweep flagged
    now.advance(0.5)
    plan.ended(started=100.0)
    assert plan.next == 101.0  # no limit: the usual beat
    s.rate = 10.0
    plan.plan({})
    s.stats.candidates += 40
    plan.ended(started=100.0)
    assert plan.next == pytest.approx(100.5 + 4.0)


def test_under_a_rate_limit_no_sweep_runs_while_every_pending_id_is_flagged() -> None:
    """A sweep would only show what is known: it waits until an id is not flagged."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["a", "b"])
    plan = sweeps(s)
    for entry in s.entries.values():
        plan.flag(entry)
    assert s.flagged == 2
    assert plan.due() is True  # unlimited: sweeps keep their beat
    s.rate = 5.0
    assert (plan.due(), plan.next_at()) == (False, None)
    s.still_running(s.entries["a"])  # a wrong flag: "a" may finish later, a sweep would see it
    assert s.flagged == 1
    assert plan.due() is True
    plan.flag(s.entries["a"])
    s.finish(s.entries["a"], None, None)
    s.drop("b", NotFoundError("gone", status_code=404))
    assert s.flagged == 0


# --- the batch tracker's policy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "found_new", "after"),
    [(5.0, True, 5.0), (20.0, True, 5.0), (5.0, False, 7.5), (50.0, False, 60.0)],
)
def test_a_batch_is_looked_at_sooner_after_news_and_later_without(
    interval: float, found_new: bool, after: float
) -> None:
    """Items found: back to poll_interval; nothing new: half as long again, up to the max."""
    assert BatchPolicy().next_interval(interval, found_new=found_new) == after


@pytest.mark.parametrize(
    ("failures", "error", "low", "high"),
    [
        (1, api(ServerError, 503), 2.5, 5.0),  # equal jitter on poll_interval
        (3, api(ServerError, 503), 10.0, 20.0),
        (5, APIConnectionError("reset"), 30.0, 60.0),  # capped at max_poll_interval
        (6, api(ServerError, 503), None, None),  # max_retries (5) used up
        (1, api(NotFoundError, 404), None, None),  # not transient
    ],
)
def test_batch_retries_back_off_until_the_budget_is_spent(
    failures: int, error: Exception, low: float | None, high: float | None
) -> None:
    """A transient failure waits an equal-jittered backoff; past max_retries, none."""
    delay = BatchPolicy().retry_delay(failures, error, now=0.0, rng=random.Random(3))
    if low is None:
        assert delay is None
    else:
        assert delay is not None
        assert low <= delay <= high


def test_a_batch_retry_honours_the_servers_delay() -> None:
    """A 429 with Retry-After: 12 waits 12 s plus at most 1 s of jitter."""
    error = RateLimitError("429", status_code=429, headers={"Retry-After": "12"})
    delay = BatchPolicy().retry_delay(1, error, now=0.0, rng=random.Random(3))
    assert delay is not None
    assert 12.0 <= delay <= 13.0


@pytest.mark.parametrize(
    "kwargs",
    [{"poll_interval": 0}, {"poll_interval": 10, "max_poll_interval": 5}, {"max_retries": -1}],
)
def test_a_batch_policy_out_of_range_is_an_invalid_input_error(kwargs: dict[str, float]) -> None:
    """BatchPolicy refuses bounds that cannot work, naming the option."""
    with pytest.raises(InvalidInputError, match=next(iter(kwargs))):
        BatchPolicy(**kwargs)  # type: ignore[arg-type]


# --- a sweep read for other processes (coordinated) ------------------------------------------


def test_a_sweep_for_other_processes_reaches_back_to_their_oldest_object() -> None:
    """Their oldest creation time extends a final sweep's cutoff; one unknown forbids it."""
    s = schedule(strategy="sweep")
    s.add([f"t{i}" for i in range(120)])
    for entry in s.entries.values():
        entry.created = 5.0
        entry.status = "processing"
    plan = sweeps(s)
    plan.elsewhere_oldest = 2.0
    assert plan.plan({}).cutoff == 2.0
    plan.elsewhere_unknown = True
    assert plan.plan({}).final is False


def test_statuses_heard_from_another_processs_sweep_act_as_this_ones_own() -> None:
    """Ended (or missing from the running lists): retrieve now; running: the poll moves out."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["ended", "missing", "running"])
    plan = sweeps(s)
    for entry in s.entries.values():
        s.queue.schedule(entry, now.mono + 50.0)
    plan.heard(s.entries["ended"], "done")
    plan.heard(s.entries["missing"], None)
    change = plan.heard(s.entries["running"], "processing")
    assert s.entries["ended"].due == now.mono
    assert s.entries["ended"].reason == "sweep"
    assert s.entries["missing"].due == now.mono
    assert s.entries["ended"].candidate
    assert not s.entries["running"].candidate
    assert s.entries["running"].due > now.mono
    assert change is not None
    assert change.new == "processing"


def test_a_sweep_left_to_another_process_is_asked_for_again_an_interval_on() -> None:
    """No pacing of a sweep that read nothing: retrieves flagged meanwhile do not delay it."""
    now = Now()
    s = schedule(strategy="sweep", now=now, policy=PollPolicy())
    s.rate = 1.0  # slow: a real sweep would wait for the 40 flagged retrieves first
    s.add([f"t{i}" for i in range(50)])
    plan = sweeps(s)
    plan.running = True
    for entry in list(s.entries.values())[:40]:
        plan.heard(entry, "done")
    plan.swept_elsewhere(now.mono)
    assert not plan.running
    assert plan.next == now.mono + s.policy.sweep_interval


def test_what_a_sweep_found_for_other_processes_counts_toward_its_spacing() -> None:
    """A costly sweep that found many objects for others is not spaced as if it found none."""
    now = Now()

    def spacing(elsewhere_found: int) -> float:
        s = schedule(strategy="sweep", now=now)
        s.add([f"t{i}" for i in range(100)])
        for entry in s.entries.values():
            entry.status = "processing"
        plan = sweeps(s)
        plan.free_pages = 1
        plan.list_read("processing", 4900)  # the next sweep reads 100 pages
        for found in (0, elsewhere_found):  # the first sweep only starts the find rate's clock
            now.advance(1.0)
            started = now.mono
            plan.plan({})
            plan.found_elsewhere(found)
            plan.ended(started, pages=100)
        return plan.next - started

    assert spacing(400) < spacing(0)


def test_an_event_during_a_poll_makes_a_running_answer_retrieve_again_at_once() -> None:
    """Told it ended while a poll was on its way: a 'running' answer (read before) is not
    believed for long: the object is retrieved again now, as the event asked.
    """
    now = Now()
    s = schedule(strategy="per_task", now=now)
    s.add(["t"])
    entry = s.entries["t"]
    entry.in_flight = True
    assert s.told("t", "done")
    entry.in_flight = False
    s.still_running(entry)
    assert entry.due == now.mono
    assert entry.reason == "webhook"
    s.still_running(entry)  # the next running answer is an ordinary one again
    assert entry.due > now.mono


def test_a_status_heard_during_a_poll_is_kept_for_its_answer() -> None:
    """Another process's sweep says it ended while a poll was on its way: a running answer
    is followed by a retrieve at once.
    """
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add(["t"])
    entry = s.entries["t"]
    entry.in_flight = True
    sweeps(s).heard(entry, "done")
    entry.in_flight = False
    s.still_running(entry)
    assert entry.due == now.mono
    assert entry.reason == "sweep"


# --- sweeps: the tail of detection latency (issue 12, 20,000 tasks) ----------------------------


def seen_running(s: Schedule, status: str = "processing", created: float = 5.0) -> None:
    """What a sweep showed of every id: running in `status`, created at `created`."""
    for entry in s.entries.values():
        entry.created, entry.status = created, status


def test_ids_flagged_or_being_retrieved_do_not_hold_back_a_final_sweep() -> None:
    """Creation times unknown only for flagged or in-flight ids: the final lists are read."""
    s = schedule(strategy="sweep")
    s.add([f"t{i}" for i in range(120)])
    seen_running(s)  # 3 pages of processing, 1 of uploading (where "busy" may be)
    s.add(["gone", "busy"])
    plan = sweeps(s)
    plan.flag(s.entries["gone"])
    s.entries["busy"].in_flight = True
    assert plan.plan({}) == SweepPlan(FINAL, final=True, cutoff=5.0)
    s.entries["busy"].in_flight = False  # its retrieve failed: still nothing known of it
    assert plan.plan({}).final is False


def test_nothing_known_but_flags_is_no_cutoff_for_a_final_sweep() -> None:
    """With no creation time known at all, a final sweep could not stop: an active one."""
    s = schedule(strategy="sweep")
    s.add(["gone"])
    plan = sweeps(s)
    plan.flag(s.entries["gone"])
    assert plan.plan({}) == SweepPlan(ACTIVE[-1:], final=False, cutoff=None)


@pytest.mark.parametrize(
    ("statuses", "lists"),
    [
        (["processing", "processing"], ("processing",)),
        (["uploading", "processing"], ACTIVE),
        ([None, "processing"], ACTIVE),  # not seen yet: on any list
        (["validating", "processing"], ACTIVE),  # a status of no active list
    ],
)
def test_an_active_sweep_skips_the_lists_no_tracked_id_can_be_on(
    statuses: list[str | None], lists: tuple[str, ...]
) -> None:
    """Ids never go back in their lifecycle: lists before every id's last status are skipped."""
    s = schedule(strategy="sweep")
    s.add(["a", "b", "gone"])
    s.entries["a"].status, s.entries["b"].status = statuses
    s.entries["gone"].status = "uploading"
    plan = sweeps(s)
    plan.flag(s.entries["gone"])  # flagged: not looked for on the lists
    assert plan.plan({}).statuses == lists
    assert plan.cost(False, {}) == len(lists)


def test_costs_within_the_margin_keep_the_kind_of_the_last_sweep() -> None:
    """Final at 10 pages against active at 10 or 11 stays final; active at 9 switches."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(500)])  # 10 pages of processing
    seen_running(s)
    plan = sweeps(s)
    assert plan.plan({"done": 50}).final is True  # 1 + 1 final pages against 10
    assert plan.plan({"done": 500}).final is True  # 10 + 1 final pages: within 10 %
    assert plan.plan({"done": 550}).final is False  # 11 + 1: past the margin
    assert plan.plan({"done": 500}).final is False  # and back only past the margin too
    assert plan.plan({"done": 400}).final is True


def test_the_next_sweep_reads_the_kind_chosen_when_the_last_ended() -> None:
    """The kind the spacing was computed for is the one read, unless no longer allowed."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(500)])
    seen_running(s)
    plan = sweeps(s)
    assert plan.plan({}).final is True
    now.advance(0.1)
    plan.ended(started=100.0, pages=3)
    assert plan.plan({"done": 10_000}).final is True  # chosen at the end: final
    now.advance(0.1)
    plan.ended(started=100.1, pages=3)
    s.add(["new"])  # its creation time unknown: a final sweep cannot stop for it
    assert plan.plan({}).final is False


def test_a_change_of_kind_by_cost_starts_the_next_sweep_after_the_rest_only() -> None:
    """Final, then the final lists turn out dearer: the active sweep follows after the rest."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(500)])
    seen_running(s)  # 10 pages of processing
    plan = sweeps(s)
    assert plan.plan({}).final is True
    plan.list_sized("done", 5000)  # what it read: 100 pages, dearer than the running list
    now.advance(0.5)
    plan.ended(started=100.0, pages=50)
    assert plan.next == pytest.approx(100.5 + 0.5 / 50 * 10)  # 10 pages at its pace
    assert plan.plan({}).final is False
    now.advance(0.1)
    plan.ended(started=100.6, pages=10)
    assert plan.next == 101.6  # same kind: the beat


def test_ids_added_between_sweeps_do_not_bring_the_next_sweep_forward() -> None:
    """A new id forces an active sweep, then a final one: each a beat after the last."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(500)])
    seen_running(s)
    plan = sweeps(s)
    assert plan.plan({}).final is True
    s.add(["new"])  # its creation time unknown: the next sweep must be active
    now.advance(0.1)
    plan.ended(started=100.0, pages=3)
    assert plan.next == 101.0
    assert plan.plan({}).final is False
    seen_running(s)  # the active sweep showed it
    now.advance(0.1)
    plan.ended(started=101.0, pages=10)
    assert plan.next == 102.0
    assert plan.plan({}).final is True


def test_one_slow_sweep_does_not_set_the_pace_of_the_next_two_do() -> None:
    """The rest is at the faster pace of the last two sweeps."""
    now = Now()
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(500)])
    seen_running(s)
    plan = sweeps(s)
    plan.plan({"done": 10_000})  # active: 10 pages
    now.advance(0.1)
    plan.ended(started=100.0, pages=10)  # 0.01 s a page
    assert plan.next == 101.0
    plan.plan({"done": 10_000})
    now.advance(5.0)
    plan.ended(started=100.1, pages=10)  # 0.5 s a page (a cold cache)
    assert plan.next == pytest.approx(105.1 + 10 * 0.01)
    plan.plan({"done": 10_000})
    now.advance(5.0)
    plan.ended(started=105.1, pages=10)  # slow again: that is the pace now
    assert plan.next == pytest.approx(110.1 + 10 * 0.5)


def paying_sweeps(now: Now, *, found: int, rate: float | None = None) -> tuple[Schedule, Sweeps]:
    """3,000 ids seen processing (61 pages a sweep), after one sweep that found `found`."""
    s = schedule(strategy="sweep", now=now)
    s.add([f"t{i}" for i in range(3000)])
    seen_running(s)
    s.rate = rate
    plan = Sweeps(
        s, active=ACTIVE, final=FINAL, page_limit=50, yield_list_items=False, free_pages=16
    )
    plan.plan({"done": 10**6})
    for entry in list(s.entries.values())[:found]:
        plan.flag(entry)
    for entry in list(s.entries.values())[:found]:
        s.finish(entry, None, None)
    now.advance(0.2)
    plan.ended(started=100.0, pages=61)
    return s, plan


def test_sweeps_that_pay_for_their_pages_keep_an_even_beat() -> None:
    """Finding 1,000 in 61 pages: the next dear sweep (40 pages, all of processing) comes
    EVEN_SPACING beats after, whatever it costs, not when it could find FINDS_PER_PAGE a page.
    """
    now = Now()
    _, plan = paying_sweeps(now, found=1000)
    assert plan.cost(False, {}) == 40
    assert plan.next == pytest.approx(100.0 + EVEN_SPACING)
    # 50 pages (others' objects too): 34 past a round, still paid for by the 67 a second
    # the safety net assumes (2 a page over 1.2 s): even.
    plan.list_read("processing", 500)
    plan.plan({"done": 10**6})
    now.advance(1.2)
    plan.ended(started=101.2, pages=40)
    assert plan.next == pytest.approx(101.2 + EVEN_SPACING)


def test_sweeps_that_find_little_are_spaced_to_find_enough_per_page() -> None:
    """Finding 20 in 61 pages does not pay: the next waits to find FINDS_PER_PAGE a page."""
    now = Now()
    s, plan = paying_sweeps(now, found=20)
    assert plan.cost(False, {}) == 60
    rate = len(s.entries) / s.safety_interval  # as if all must end within the safety net
    assert plan.next == pytest.approx(100.0 + FINDS_PER_PAGE * (60 - 16) / rate)


def test_a_next_sweep_that_cannot_pay_is_not_evenly_spaced() -> None:
    """Others' objects make the next sweep 2,000 pages: spaced by what it can find."""
    now = Now()
    s, plan = paying_sweeps(now, found=1000)
    plan.list_read("processing", 100_000)
    plan.plan({"done": 10**6})
    now.advance(0.2)
    plan.ended(started=101.2, pages=61)
    assert plan.next == 101.2 + s.safety_interval / 2


def test_under_a_rate_limit_sweeps_are_never_evenly_spaced() -> None:
    """Under a limit, pages take from the retrieves: spaced to find enough, as if unpaid."""
    now = Now()
    s, plan = paying_sweeps(now, found=1000, rate=10_000.0)
    rate = len(s.entries) / s.safety_interval
    assert plan.next == pytest.approx(100.0 + FINDS_PER_PAGE * (40 - 16) / rate)


def test_an_active_sweep_read_for_other_processes_reads_the_lists_theirs_may_be_on() -> None:
    """This process's objects all seen on the last list: it alone would skip the others, but
    another process's objects may be on any of them, until seen on the last one too.
    """
    s = schedule(strategy="sweep")
    s.add([f"t{i}" for i in range(10)])
    for entry in s.entries.values():
        entry.status = ACTIVE[-1]
    plan = sweeps(s)
    assert plan.plan({}).statuses == ACTIVE[-1:]
    plan.elsewhere = 5  # of which one may still be on the first list
    assert plan.plan({}).statuses == ACTIVE
    plan.elsewhere_first = len(ACTIVE) - 1  # all of theirs seen on the last one too
    assert plan.plan({}).statuses == ACTIVE[-1:]
