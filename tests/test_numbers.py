"""Numbers that are not numbers: NaN, infinities, wrong types and huge ints are refused, typed,
before any request, by every numeric option of the client, the trackers, the lists, the request
bodies, the simulator and the command line.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest
from aioresponses import aioresponses

from tests._tracker_fake import FakeAPI
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    AsyncTwelveLabs,
    ConfigurationError,
    InvalidInputError,
    ResponseFormat,
    SegmentDefinition,
    TimeRange,
)
from twelvelabs_async._validate import check_number, is_number
from twelvelabs_async.cli import main
from twelvelabs_async.testing import Faults, ManualClock, Simulator, SimulatorConfig, Webhooks
from twelvelabs_async.tracking import BatchPolicy, PollPolicy

NAN, INF = math.nan, math.inf
HUGE = 10**400
"""An int no float can hold."""
VIDEO = "https://cdn.example.com/v.mp4"


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "integer", "number"),
    [
        (0, False, True),
        (2.5, False, True),
        (-1e308, False, True),
        (NAN, False, False),
        (INF, False, False),
        (-INF, False, False),
        (HUGE, False, False),
        (True, False, False),
        ("1", False, False),
        (None, False, False),
        (3, True, True),
        (3.0, True, False),
        (NAN, True, False),
    ],
)
def test_a_number_is_finite_and_never_a_bool(value: object, integer: bool, number: bool) -> None:
    """`is_number`: a finite int or float (an int when `integer`); NaN, inf, bools are not."""
    assert is_number(value, integer=integer) is number


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        (NAN, {"low": 0}, "x must be a finite number >= 0, got nan"),
        (INF, {"low": 0}, "x must be a finite number >= 0, got inf"),
        (-INF, {}, "x must be a finite number, got -inf"),
        ("3", {"above": 0}, "x must be a number > 0, got '3'"),
        (0, {"above": 0, "unit": "seconds"}, "x must be a number of seconds > 0, got 0"),
        (1, {"low": 0, "below": 1}, "x must be a number >= 0 and < 1, got 1"),
        (2, {"low": 0, "high": 1}, "x must be a number between 0 and 1, got 2"),
        (1.5, {"integer": True, "low": 1}, "x must be an integer >= 1, got 1.5"),
        (-1, {"low": 0, "hint": "pass None for no limit"}, "got -1; pass None for no limit"),
        (HUGE, {"high": 5}, "x must be a number <= 5 and that fits a float, got 1000000000"),
        (HUGE, {"integer": True}, "x must be an integer that fits a float, got 1000000000"),
        pytest.param(
            10**5000,
            {},
            "a number that fits a float, got <int too large to show>",
            id="5000-digits",
        ),
    ],
)
def test_check_number_says_what_was_expected(
    value: object, bounds: dict[str, Any], message: str
) -> None:
    """A refusal names the option, the form and bounds expected, and the value (cut short)."""
    with pytest.raises(InvalidInputError) as info:
        check_number(value, "x", **bounds)
    assert message in str(info.value)
    assert len(str(info.value)) < 160


@pytest.mark.parametrize("value", [0, 0.5, 1])
def test_check_number_accepts_finite_numbers_in_bounds(value: float) -> None:
    """Finite numbers within the bounds pass."""
    check_number(value, "x", low=0, high=1)


# --- the client ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": NAN}, "timeout must be a finite number >= 0.001, got nan"),
        ({"timeout": INF}, "timeout must be a finite number >= 0.001, got inf"),
        ({"timeout": -INF}, "timeout must be a finite number >= 0.001, got -inf"),
        ({"timeout": HUGE}, "timeout must be a number >= 0.001 and that fits a float, got 1000"),
        ({"max_retries": NAN}, "max_retries must be an integer >= 0, got nan"),
        ({"max_retries": INF}, "max_retries must be an integer >= 0, got inf"),
        ({"max_connections": INF}, "max_connections must be an integer >= 1, got inf"),
    ],
)
def test_client_numbers_must_be_finite(kwargs: dict[str, Any], message: str) -> None:
    """timeout=nan would disable the per-request timeout and inf overflow later: refused now."""
    with pytest.raises(ConfigurationError) as info:
        AsyncTwelveLabs(API_KEY, base_url=BASE_URL, **kwargs)
    assert message in str(info.value)


# --- call arguments -------------------------------------------------------------------------------

Call = Callable[[AsyncTwelveLabs], object]


def track(**kwargs: Any) -> Call:
    """`tasks.track(["t1"], **kwargs)`."""
    return lambda c: c.analyze.tasks.track(["t1"], **kwargs)


def wait(**kwargs: Any) -> Call:
    """`tasks.wait("t1", **kwargs)`."""
    return lambda c: c.analyze.tasks.wait("t1", **kwargs)


def batch(**kwargs: Any) -> Call:
    """`batches.track("b1", **kwargs)`."""
    return lambda c: c.analyze.batches.track("b1", **kwargs)


def policy(**kwargs: Any) -> Call:
    """`tasks.track` with `PollPolicy(**kwargs)`."""
    return lambda c: c.analyze.tasks.track(["t1"], poll_policy=PollPolicy(**kwargs))


def create(**kwargs: Any) -> Call:
    """`tasks.create` of a video with `kwargs`."""
    return lambda c: c.analyze.tasks.create(video=VIDEO, **kwargs)


def segments(*time_range: float, **kwargs: Any) -> Call:
    """A segmentation task (with `kwargs`), its one definition with the time range given."""
    ranges = (TimeRange(*time_range),) if time_range else ()
    definition = SegmentDefinition("s", "scenes", time_ranges=ranges)
    return create(
        analysis_mode="time_based_metadata",
        response_format=ResponseFormat.segments(definition),
        **kwargs,
    )


async def invoke(call: Call, client: AsyncTwelveLabs) -> None:
    """Make the call, awaiting it when it is a coroutine."""
    result = call(client)
    if inspect.isawaitable(result):
        await result


def listing(kind: str) -> Callable[..., Call]:
    """`tasks.list(**kwargs)` or `batches.list(**kwargs)`."""
    return lambda **kwargs: lambda c: getattr(c.analyze, kind).list(**kwargs)


REFUSED: list[tuple[Callable[..., Call], dict[str, tuple[object, ...]]]] = [
    (track, {"timeout": (NAN, -INF, "60"), "cancel_timeout": (0, INF, "10"), "buffer": (NAN,)}),
    (track, {"max_rate": (INF, "5"), "max_in_flight": (INF,)}),
    (wait, {"timeout": (NAN, "60"), "poll_interval": (NAN, INF), "max_poll_interval": (INF,)}),
    (policy, {"growth": (NAN, "2"), "jitter": (NAN,), "sweep_interval": (NAN,)}),
    (policy, {"unseen_grace": (NAN,), "min_interval": (INF,), "max_interval": (INF,)}),
    (batch, {"timeout": (NAN, "60"), "poll_interval": (NAN,), "max_poll_interval": (INF,)}),
    (batch, {"max_retries": (NAN,), "buffer": (INF,)}),
    (listing("tasks"), {"page_limit": (NAN,)}),
    (listing("batches"), {"page_limit": (INF,)}),
    (segments, {"max_segment_duration": (INF,)}),
]
"""Calls, and the values each of their numeric options must refuse."""


@pytest.mark.parametrize(
    ("name", "call"),
    [
        *((name, make(**{name: value})) for make, options in REFUSED
          for name, values in options.items() for value in values),
        ("start_time", create(prompt="p", start_time=INF)),
        ("end_time", create(prompt="p", start_time=0, end_time=INF)),
        ("temperature", create(prompt="p", temperature=NAN)),
        ("time_ranges[0].start_time", segments(NAN, 5)),
        ("time_ranges[0].end_time", segments(0, INF)),
    ],
)  # fmt: skip
async def test_call_arguments_must_be_finite_numbers(
    poller: AsyncTwelveLabs, mock_api: aioresponses, name: str, call: Call
) -> None:
    """Each numeric argument refuses NaN, infinities and strings with InvalidInputError naming
    it, before any request.
    """
    with pytest.raises(InvalidInputError) as info:
        await invoke(call, poller)
    assert name in str(info.value)
    assert mock_api.requests == {}


def test_batch_policy_refuses_nan() -> None:
    """BatchPolicy is checked on its own too."""
    with pytest.raises(InvalidInputError, match="poll_interval"):
        BatchPolicy(poll_interval=NAN)


async def test_an_infinite_deadline_waits_like_none(
    poller: AsyncTwelveLabs, mock_api: aioresponses, clock: FakeClock
) -> None:
    """timeout=math.inf means no deadline, for track() and wait() alike."""
    api = FakeAPI(mock_api, clock)
    api.add("t1", 50)
    task = await poller.analyze.tasks.wait("t1", timeout=INF)
    assert task.status == "ready"
    async with poller.analyze.tasks.track(["t1"], timeout=INF) as tracker:
        assert [t.task_id async for t in tracker] == ["t1"]


# --- the simulator and the command line -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("duration", lambda: SimulatorConfig(duration=(NAN, 1.0))),
        ("duration", lambda: SimulatorConfig(duration=(1.0, INF))),
        ("duration max", lambda: SimulatorConfig(duration=(5.0, 1.0))),
        ("duration", lambda: SimulatorConfig(duration=5.0)),  # type: ignore[arg-type]
        ("queued_fraction", lambda: SimulatorConfig(queued_fraction=NAN)),
        ("pending_fraction", lambda: SimulatorConfig(pending_fraction=INF)),
        ("queued_fraction + pending_fraction", lambda: SimulatorConfig(queued_fraction=0.7,
                                                                       pending_fraction=0.7)),
        ("failure_rate", lambda: SimulatorConfig(failure_rate=NAN)),
        ("rpm", lambda: SimulatorConfig(rpm=0)),
        ("rpm", lambda: SimulatorConfig(rpm=NAN)),  # type: ignore[arg-type]
        ("seed", lambda: SimulatorConfig(seed=NAN)),  # type: ignore[arg-type]
        ("video_duration", lambda: SimulatorConfig(video_duration=(-1.0, 5.0))),
        ("error_5xx", lambda: Faults(error_5xx=NAN)),
        ("latency_seconds", lambda: Faults(latency_seconds=(0.0, INF))),
        ("drop", lambda: Webhooks("http://h/x", drop=NAN)),
        ("delay", lambda: Webhooks("http://h/x", delay=(0.0, NAN))),
        ("max_attempts", lambda: Webhooks("http://h/x", max_attempts=0)),
        ("retry_delay", lambda: Webhooks("http://h/x", retry_delay=INF)),
        ("timeout", lambda: Webhooks("http://h/x", timeout=0)),
        ("port", lambda: Simulator(port=70_000)),
    ],
)  # fmt: skip
def test_simulator_settings_must_be_finite_and_in_range(
    name: str, make: Callable[[], object]
) -> None:
    """Each refused setting is a ConfigurationError (also a ValueError) naming it."""
    with pytest.raises(ConfigurationError) as info:
        make()
    assert name in str(info.value)


async def test_simulator_calls_refuse_non_finite_numbers() -> None:
    """seed_tasks and ManualClock.advance refuse NaN like every other call."""
    sim = Simulator()
    with pytest.raises(InvalidInputError, match="duration"):
        await sim.seed_tasks(1, duration=(0.0, NAN))
    with pytest.raises(InvalidInputError, match="failure_rate"):
        await sim.seed_tasks(1, failure_rate=INF)
    with pytest.raises(InvalidInputError, match="time only moves forward"):
        ManualClock().advance(NAN)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "--duration", "nan", "1"], "--duration: 'nan' is not a finite number"),
        (["simulate", "--duration", "1", "inf"], "--duration: 'inf' is not a finite number"),
        (["simulate", "--webhook-delay", "0", "nan"], "'nan' is not a finite number"),
        (["simulate", "--fault-reset", "nan"], "not a probability"),
        (["simulate", "--rpm", "0"], "rpm must be an integer >= 1, got 0"),
        (["simulate", "--port", "70000"], "port must be an integer between 0 and 65535"),
        (["tasks", "watch", "t1", "--timeout", "nan"], "--timeout: 'nan' is not a finite"),
        (["tasks", "create", "--video-url", VIDEO, "--prompt", "p", "--timeout", "x"],
         "--timeout: 'x' is not a number"),
        (["demo", "--max-duration", "inf"], "--max-duration: 'inf' is not a finite number"),
    ],
)  # fmt: skip
def test_cli_number_flags_refuse_what_is_not_a_finite_number(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flag given nan, inf or out of range is a usage error (exit 2) saying so, nothing starts."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err
