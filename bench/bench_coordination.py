"""Many worker processes, one API budget (issue 11): 2,000 tasks tracked by 1 or 4 processes.

Every case runs against a fresh simulator process limited to 3,000 requests per minute, seeded
like bench_tracker (`--seed 0`, N tasks created at one moment t0, finishing uniformly over
2-30 s, 10 % failed), and, when coordinated, one private `redis-server` on a loopback port
(`_redis.py`, the tests' server), each case in its own namespace:

- (a) one process tracking every task: the baseline;
- (b) 4 processes tracking a quarter each, uncoordinated (today's behaviour);
- (c) the same 4, coordinated: `AsyncTwelveLabs(..., coordinator=RedisCoordinator(...))`;
- (d) (c) with the process holding the sweep lease (`Keys.lease("task")` names its member,
  `<pid>-<hex>`) killed with SIGKILL at t0 + 10 s (a third of the longest task): the others
  must deliver all of theirs;
- (e) (c) with `redis-server` killed at t0 + 10 s and started again on its port 2 s later;
- (f) webhooks: process A serves `webhook_handler(..., coordinator=)`, process B runs one
  `client.analyze.tasks.wait()` per task; the benchmark posts each task's signed event to A
  just after the simulator made it terminal, once every wait() of B is running (has polled its
  task once), and measures B's wait returning minus the post.

The simulator runs in its own process (this file with `--simulator`), which also samples when
it answered list requests (every 10 ms) so that the gap in sweeping around the kill can be
measured where the requests arrive. Workers are this file with `--worker track` (a tracker),
`--worker hook` (A) or `--worker waiter` (B); each reports what it delivered (with
`time.time()`, the simulator's clock on this machine) and every exception that reached its
code. API keys are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import Table
from _procs import read_lines, stop

HERE = Path(__file__).resolve().parent
TERMINAL = frozenset({"ready", "failed", "canceled"})
SEED = 0
FAILURE_RATE = 0.1
RPM = 3_000
REDIS_DOWN = 2.0
"""Seconds redis-server stays down in (e)."""
GAP_WINDOW = 10.0
"""Seconds after the kill over which (d)'s longest gap between list answers is taken."""
SAMPLE = 0.01
"""Seconds between the simulator's looks at its count of list answers."""
SECRET = "bench-coordination-secret"
"""The webhook signing secret of (f): a benchmark's, not a credential."""
WEBHOOK_EVENTS = 200
POST_AFTER = 0.02
"""Seconds after a task's terminal time when (f) posts its event."""
READY_WITHIN = 10.0
"""Seconds (f)'s B waits for every wait() to have polled its task once before it says so."""


@dataclass(frozen=True)
class Scenario:
    tasks: int
    duration: tuple[float, float]

    @property
    def cut(self) -> float:
        """Seconds after t0 when a worker stops, done or not."""
        return 2 * self.duration[1] + 30

    @property
    def fault_at(self) -> float:
        """Seconds after t0 when (d) kills the sweeping process and (e) stops redis-server:
        a third of the longest task (10 s at 2-30 s), while most tasks are still running."""
        return self.duration[1] / 3


FULL = Scenario(2_000, (2.0, 30.0))
QUICK = Scenario(300, (2.0, 8.0))


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    processes: int
    coordinated: bool
    fault: str | None = None  # "kill" | "restart"


ONE = Case("a", "(a) 1 process, all tasks", 1, False)
FOUR = Case("b", "(b) 4 processes, uncoordinated", 4, False)
COORDINATED = Case("c", "(c) 4 processes, coordinated", 4, True)
KILLED = Case("d", "(d) coordinated, sweeping process killed (SIGKILL)", 4, True, "kill")
RESTARTED = Case("e", "(e) coordinated, redis-server restarted", 4, True, "restart")
CASES = (ONE, FOUR, COORDINATED, KILLED, RESTARTED)


# --- the analysis (pure: no process, no clock) -----------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of the values; NaN when there are none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def longest_gap(times: Sequence[float], start: float, end: float) -> float:
    """The longest time without a list answer over `[start, end]`, from the answers' `times`.

    Each gap runs between two consecutive answers; the one spanning `start` (from the last
    answer before it) counts whole, and so does the one spanning `end`: a sweep that stopped
    at the kill and resumed after `end` is one long gap. `inf` when answers came before
    `start` and none after (sweeping never resumed); 0.0 when there were none at all.
    """
    ordered = sorted(times)
    before = [t for t in ordered if t <= start]
    after = [t for t in ordered if t > start]
    if not after:
        return math.inf if before else 0.0
    points = ([before[-1]] if before else []) + after
    longest = 0.0
    for previous, current in itertools.pairwise(points):
        if previous > end:
            break
        longest = max(longest, current - previous)
    return longest


def resumed_after(times: Sequence[float], at: float) -> float:
    """Seconds from `at` to the first list answer after it; `inf` when none came."""
    return min((t for t in times if t > at), default=math.inf) - at


# --- the simulator process --------------------------------------------------------------------


async def _simulator(args: argparse.Namespace) -> None:
    from twelvelabs_async.testing import SimulatorConfig, simulate

    config = SimulatorConfig(
        seed=SEED, duration=(args.duration[0], args.duration[1]), failure_rate=FAILURE_RATE,
        rpm=RPM,
    )  # fmt: skip
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    list_times: list[float] = []
    async with simulate(config) as sim:
        t0 = time.time()
        ids = await sim.seed_tasks(args.tasks)
        timeline = [
            {"task_id": i, "terminal_at": sim.terminal_at[i], "status": sim.final_status(i)}
            for i in ids
        ]
        seeded = json.dumps({"t0": t0, "tasks": timeline})
        await asyncio.to_thread(Path(args.timeline).write_text, seeded, "utf-8")
        print(f"TWELVELABS_BASE_URL={sim.base_url}", flush=True)
        print(f"TWELVELABS_API_KEY={sim.api_key}", flush=True)

        async def sample() -> None:
            seen = 0
            while True:
                count = sim.stats.count("list", 200)
                if count > seen:
                    seen = count
                    list_times.append(time.time())
                await asyncio.sleep(SAMPLE)

        sampler = asyncio.create_task(sample())
        await stop_event.wait()
        sampler.cancel()
        counts = sorted(sim.stats.requests.items())
        stats = {"requests": [[r, s, n] for (r, s), n in counts], "list_times": list_times}
        await asyncio.to_thread(Path(args.stats).write_text, json.dumps(stats), "utf-8")


# --- the worker processes ---------------------------------------------------------------------


@dataclass
class Report:
    """What a worker did: kept when it is cut at its deadline."""

    delivered: dict[str, tuple[float, str]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    member: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _error(report: Report, exc: BaseException) -> None:
    """An exception that reached user code: counted, and its traceback on stderr."""
    report.errors[type(exc).__name__] += 1
    traceback.print_exception(exc, file=sys.stderr)


@contextlib.asynccontextmanager
async def _client(settings: dict[str, Any], report: Report) -> Any:
    """The worker's client, with a RedisCoordinator when the settings name a Redis."""
    from twelvelabs_async import AsyncTwelveLabs

    async with contextlib.AsyncExitStack() as stack:
        options: dict[str, Any] = {}
        if settings.get("redis_url"):
            from twelvelabs_async.coordination import RedisCoordinator

            coordinator = RedisCoordinator.from_url(
                settings["redis_url"], namespace=settings["namespace"], rpm=RPM
            )
            options["coordinator"] = await stack.enter_async_context(coordinator)
            report.member = coordinator.member
        client = AsyncTwelveLabs(settings["api_key"], base_url=settings["base_url"], **options)
        yield await stack.enter_async_context(client)


async def _track(settings: dict[str, Any], report: Report) -> None:
    async with _client(settings, report) as client:
        tracker = client.analyze.tasks.track(settings["ids"])
        try:
            async with tracker:
                async for task in tracker:
                    report.delivered[task.task_id] = (time.time(), str(task.status))
        except Exception as exc:
            _error(report, exc)
        finally:
            for exc in tracker.errors.values():
                _error(report, exc)
            s = tracker.stats
            report.stats = {
                "requests": dict(s.requests),
                "throttles": s.throttles,
                "sweeps": s.sweeps,
                "found_by": dict(s.found_by),
            }


async def _wait_all(settings: dict[str, Any], report: Report) -> None:
    """Process B of (f): one `wait()` per task, all at once."""
    async with _client(settings, report) as client:

        async def one(task_id: str) -> None:
            try:
                task = await client.analyze.tasks.wait(task_id, timeout=settings["timeout"])
            except Exception as exc:
                _error(report, exc)
                return
            report.delivered[task_id] = (time.time(), str(task.status))

        polled = _FirstPolls(settings["ids"])
        waits = asyncio.gather(*(one(t) for t in settings["ids"]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(polled.all.wait(), READY_WITHIN)
        polled.close()
        print("waiting", flush=True)  # every wait() has polled its task once
        await waits


class _FirstPolls(logging.Handler):
    """Sets `all` once every id has been retrieved once, read from the client's DEBUG request
    log (`twelvelabs_async`); `close()` puts the logger back as it was."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(logging.DEBUG)
        self.pending = set(ids)
        self.all = asyncio.Event()
        self.logger = logging.getLogger("twelvelabs_async")
        self.level_before = self.logger.level
        self.logger.addHandler(self)
        self.logger.setLevel(logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        path = str(getattr(record, "path", ""))
        if getattr(record, "status", None) == 200 and path.startswith("/analyze/tasks/"):
            self.pending.discard(path.rsplit("/", 1)[-1])
            if not self.pending:
                self.all.set()

    def close(self) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)
        super().close()


async def _hook(settings: dict[str, Any]) -> None:
    """Process A of (f): an aiohttp app whose webhook route shares each event."""
    from aiohttp import web

    from twelvelabs_async import webhooks
    from twelvelabs_async.coordination import RedisCoordinator

    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    coordinator = RedisCoordinator.from_url(
        settings["redis_url"], namespace=settings["namespace"], rpm=RPM
    )
    async with coordinator:
        app = web.Application()
        handler = webhooks.webhook_handler(SECRET, lambda event: None, coordinator=coordinator)
        app.router.add_post("/webhooks", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"url=http://127.0.0.1:{port}/webhooks", flush=True)
        await stop_event.wait()
        await runner.cleanup()


def worker_main(mode: str) -> int:
    """A worker: import, say `ready`, read its settings on stdin, run, write its report.

    A watchdog thread writes the report and ends the process at the deadline.
    """
    import twelvelabs_async  # noqa: F401  (imported before the clock starts)

    print("ready", flush=True)
    settings = json.loads(sys.stdin.readline())
    report = Report()
    written = threading.Lock()

    def write(cut: bool) -> bool:
        if not written.acquire(blocking=False):
            return False
        data = {
            "cut": cut,
            "pid": os.getpid(),
            "member": report.member,
            "errors": dict(report.errors),
            "delivered": dict(report.delivered),
            "stats": report.stats,
        }
        Path(settings["out"]).write_text(json.dumps(data), "utf-8")
        return True

    def watchdog() -> None:
        time.sleep(max(0.0, settings["deadline"] - time.time()))
        if write(cut=True):
            os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        if mode == "hook":
            asyncio.run(_hook(settings))
        elif mode == "waiter":
            asyncio.run(_wait_all(settings, report))
        else:
            asyncio.run(_track(settings, report))
    except Exception as exc:  # outside the tracker: setting up, closing
        _error(report, exc)
    write(cut=False)
    return 0


# --- the benchmark process --------------------------------------------------------------------


def coordinator_wired() -> bool:
    """Whether `AsyncTwelveLabs` takes `coordinator=` (issue 11's wiring)."""
    from twelvelabs_async import AsyncTwelveLabs

    return "coordinator" in inspect.signature(AsyncTwelveLabs).parameters


@contextlib.contextmanager
def _process(args: list[str], log: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWELVELABS_")}
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "bench_coordination.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
    try:
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def _simulator_process(tmp: Path, scenario: Scenario) -> Iterator[dict[str, Any]]:
    """The simulator, started and seeded; yields its address, t0 and timeline, and, after the
    block, its `stats` (requests by route and status, list answer times)."""
    files = {"timeline": tmp / "timeline.json", "stats": tmp / "stats.json"}
    args = [
        "--simulator", "--tasks", str(scenario.tasks),
        "--duration", str(scenario.duration[0]), str(scenario.duration[1]),
        "--timeline", str(files["timeline"]), "--stats", str(files["stats"]),
    ]  # fmt: skip
    info: dict[str, Any] = {}
    with _process(args, tmp / "sim.log") as sim:
        found = read_lines(
            sim, ("TWELVELABS_BASE_URL", "TWELVELABS_API_KEY"), "simulator", tmp / "sim.log"
        )
        seeded = json.loads(files["timeline"].read_text("utf-8"))
        info.update(
            base_url=found["TWELVELABS_BASE_URL"],
            api_key=found["TWELVELABS_API_KEY"],
            t0=seeded["t0"],
            timeline={e["task_id"]: e for e in seeded["tasks"]},
        )
        yield info
    info["stats"] = json.loads(files["stats"].read_text("utf-8"))  # written on SIGINT


def _send(proc: subprocess.Popen[str], settings: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(settings) + "\n")
    proc.stdin.flush()


def _tracebacks(logs: Sequence[Path]) -> int:
    return sum(log.read_text(errors="replace").count("Traceback (most recent") for log in logs)


@dataclass
class Outcome:
    """One case, seen from the workers and the simulator."""

    case: Case
    t0: float
    timeline: dict[str, dict[str, Any]]
    reports: list[dict[str, Any]]
    expected: set[str]
    requests: Counter[tuple[str, int]]
    list_times: list[float]
    tracebacks: int
    fault: dict[str, Any] = field(default_factory=dict)

    @property
    def delivered(self) -> dict[str, tuple[float, str]]:
        return {k: (v[0], v[1]) for r in self.reports for k, v in r["delivered"].items()}

    @property
    def latencies(self) -> list[float]:
        """Detection latency of every expected task; `inf` for one never delivered."""
        got = self.delivered
        return sorted(
            got[i][0] - self.timeline[i]["terminal_at"] if i in got else math.inf
            for i in self.expected
        )

    @property
    def delivered_expected(self) -> int:
        return len(self.expected & set(self.delivered))

    @property
    def wrong_status(self) -> int:
        return sum(s != self.timeline[i]["status"] for i, (_t, s) in self.delivered.items())

    @property
    def errors(self) -> int:
        return sum(sum(r["errors"].values()) for r in self.reports)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def throttled(self) -> int:
        return sum(n for (_r, s), n in self.requests.items() if s == 429)

    @property
    def wall(self) -> float:
        return max((t for t, _ in self.delivered.values()), default=math.nan) - self.t0


def _lease_holder(redis_url: str, namespace: str) -> str | None:
    import redis

    from twelvelabs_async.coordination import Keys

    with redis.Redis.from_url(redis_url, socket_timeout=1) as r:
        value = r.get(Keys(namespace).lease("task"))
    return None if value is None else value.decode()


def _inject(
    case: Case, redis_server: Any, namespace: str, t0: float, after: float, pids: set[int]
) -> dict[str, Any]:
    """At t0 + `after`: kill the sweeping worker (d) or restart redis-server (e); what was done
    and when (seconds after t0)."""
    time.sleep(max(0.0, t0 + after - time.time()))
    if case.fault == "restart":
        at = time.time()
        redis_server.kill()
        time.sleep(REDIS_DOWN)
        redis_server.start()
        return {"stopped_at": at - t0, "back_at": time.time() - t0}
    deadline = time.time() + 10
    while time.time() < deadline:  # the lease may be free between two sweeps: look again
        holder = _lease_holder(redis_server.url, namespace)
        pid = int(holder.split("-", 1)[0]) if holder else None
        if pid in pids:
            at = time.time()
            os.kill(pid, signal.SIGKILL)
            return {"killed_pid": pid, "member": holder, "killed_at": at - t0}
        time.sleep(0.05)
    raise RuntimeError(
        f"{case.label}: no worker held the sweep lease for 10 s after t0 + {after:g} s"
    )


def run_case(case: Case, scenario: Scenario, redis_server: Any) -> Outcome:
    """One case against a fresh simulator; every process always stopped."""
    namespace = f"bench-{case.key}-{os.getpid()}-{time.time_ns()}"
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-coord-")))
        logs = [tmp / f"worker-{i}.log" for i in range(case.processes)]
        workers = [stack.enter_context(_process(["--worker", "track"], log)) for log in logs]
        for worker, log in zip(workers, logs, strict=True):
            read_lines(worker, ("ready",), "worker", log)
        with _simulator_process(tmp, scenario) as sim:
            ids = list(sim["timeline"])
            deadline = sim["t0"] + scenario.cut
            shares = [ids[i :: case.processes] for i in range(case.processes)]
            for i, worker in enumerate(workers):
                _send(worker, {
                    "base_url": sim["base_url"], "api_key": sim["api_key"], "ids": shares[i],
                    "redis_url": redis_server.url if case.coordinated else None,
                    "namespace": namespace, "deadline": deadline,
                    "out": str(tmp / f"out-{i}.json"),
                })  # fmt: skip
            fault: dict[str, Any] = {}
            if case.fault:
                pids = {w.pid for w in workers}
                fault = _inject(case, redis_server, namespace, sim["t0"], scenario.fault_at, pids)
            for worker in workers:
                if worker.pid == fault.get("killed_pid"):
                    worker.wait()
                    continue
                code = worker.wait(deadline - time.time() + 60)
                if code != 0:
                    raise RuntimeError(f"{case.label}: a worker exited with {code}")
        killed = fault.get("killed_pid")
        reports = []
        expected: set[str] = set()
        for i, worker in enumerate(workers):
            if worker.pid == killed:
                continue
            reports.append(json.loads((tmp / f"out-{i}.json").read_text("utf-8")))
            expected.update(shares[i])
        stats = sim["stats"]
        return Outcome(
            case=case,
            t0=sim["t0"],
            timeline=sim["timeline"],
            reports=reports,
            expected=expected,
            requests=Counter({(r, s): n for r, s, n in stats["requests"]}),
            list_times=stats["list_times"],
            tracebacks=_tracebacks([log for i, log in enumerate(logs) if workers[i].pid != killed]),
            fault=fault,
        )


async def _post_events(url: str, timeline: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Post each task's signed event just after its terminal time; when each was sent."""
    import aiohttp

    from twelvelabs_async.webhooks import sign

    sent: dict[str, float] = {}
    types = {"ready": "analyze.task.ready", "failed": "analyze.task.failed"}
    async with aiohttp.ClientSession() as session:

        async def post(task_id: str, entry: dict[str, Any]) -> None:
            await asyncio.sleep(max(0.0, entry["terminal_at"] + POST_AFTER - time.time()))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry["terminal_at"]))
            body = json.dumps({
                "id": f"evt_{task_id}", "type": types.get(entry["status"], "analyze.task.canceled"),
                "created_at": stamp,
                "data": {"id": task_id, "status": entry["status"], "created_at": stamp,
                         "custom_id": None},
            }).encode()  # fmt: skip
            headers = {"TL-Signature": sign(body, SECRET), "Content-Type": "application/json"}
            sent[task_id] = time.time()
            async with session.post(url, data=body, headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"the webhook route answered {resp.status}")

        await asyncio.gather(*(post(t, e) for t, e in timeline.items()))
    return sent


def run_webhooks(scenario: Scenario, redis_server: Any) -> dict[str, Any]:
    """(f): events posted to process A complete `wait()`s in process B."""
    namespace = f"bench-f-{os.getpid()}-{time.time_ns()}"
    small = Scenario(min(WEBHOOK_EVENTS, scenario.tasks), scenario.duration)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-coord-")))
        logs = {name: tmp / f"{name}.log" for name in ("hook", "waiter")}
        hook = stack.enter_context(_process(["--worker", "hook"], logs["hook"]))
        waiter = stack.enter_context(_process(["--worker", "waiter"], logs["waiter"]))
        for proc, name in ((hook, "hook"), (waiter, "waiter")):
            read_lines(proc, ("ready",), name, logs[name])
        with _simulator_process(tmp, small) as sim:
            deadline = sim["t0"] + small.cut
            common = {
                "base_url": sim["base_url"], "api_key": sim["api_key"],
                "redis_url": redis_server.url, "namespace": namespace, "deadline": deadline,
            }  # fmt: skip
            _send(hook, {**common, "out": str(tmp / "hook.json")})
            url = read_lines(hook, ("url",), "webhook process", logs["hook"])["url"]
            ids = list(sim["timeline"])
            _send(waiter, {**common, "ids": ids, "timeout": small.cut, "out": str(tmp / "b.json")})
            read_lines(waiter, ("waiting",), "waiting process", logs["waiter"])
            ready_after = round(time.time() - sim["t0"], 2)
            sent = asyncio.run(_post_events(url, sim["timeline"]))
            code = waiter.wait(deadline - time.time() + 60)
            if code != 0:
                raise RuntimeError(f"(f): the waiting process exited with {code}")
        stop(hook)
        report = json.loads((tmp / "b.json").read_text("utf-8"))
        tracebacks = _tracebacks(list(logs.values()))
    returned = {k: v[0] for k, v in report["delivered"].items()}
    latencies = [returned[t] - sent[t] for t in sent if t in returned]
    return {
        "events": len(sent),
        "returned": len(returned),
        "errors": sum(report["errors"].values()) + tracebacks,
        "latencies": sorted(latencies),
        "before_post": sum(x < 0 for x in latencies),
        "requests": sim["stats"]["requests"],
        "ready_after": ready_after,
        # each event's latency by when it was posted (s after t0), for a look at the tail
        "by_time": sorted(
            (round(sent[t] - sim["t0"], 3), round(returned[t] - sent[t], 4))
            for t in sent
            if t in returned
        ),
    }


def _seconds(value: float) -> float | str:
    return round(value, 3) if math.isfinite(value) else "not delivered"


def _row(o: Outcome, base: Outcome) -> dict[str, Any]:
    p99, p99_base = percentile(o.latencies, 99), percentile(base.latencies, 99)
    share = o.throttled / max(1, o.total)
    return {
        "case": o.case.label,
        "delivered": f"{o.delivered_expected:,}/{len(o.expected):,}",
        "requests (simulator)": o.total,
        "vs (a)": round(o.total / base.total, 3),
        "list pages": sum(n for (r, _s), n in o.requests.items() if r == "list"),
        "retrieves": sum(n for (r, _s), n in o.requests.items() if r == "retrieve"),
        "429s": o.throttled,
        "429 share": f"{share:.2%}",
        "p50 latency s": _seconds(percentile(o.latencies, 50)),
        "p99 latency s": _seconds(p99),
        "p99 vs (a)": round(p99 / p99_base, 3) if math.isfinite(p99) else "-",
        "errors": o.errors + o.tracebacks,
        "wall s": round(o.wall, 2),
    }


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(*, quick: bool) -> list[Table]:
    from _redis import start_server

    scenario = QUICK if quick else FULL
    wired = coordinator_wired()
    cases = CASES if wired else (ONE, FOUR)
    outcomes: dict[str, Outcome] = {}
    hooks: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-coord-redis-") as redis_dir:
        server = start_server(Path(redis_dir))
        try:
            for case in cases:
                print(f"  running: {case.label} ...", file=sys.stderr, flush=True)
                outcomes[case.key] = run_case(case, scenario, server)
            if wired:
                print("  running: (f) webhooks across processes ...", file=sys.stderr, flush=True)
                hooks = run_webhooks(scenario, server)
        finally:
            server.kill()
    return _tables(scenario, outcomes, hooks, wired)


def _tables(
    scenario: Scenario, outcomes: dict[str, Outcome], hooks: dict[str, Any] | None, wired: bool
) -> list[Table]:
    base = outcomes["a"]
    n = scenario.tasks
    rows = [_row(o, base) for o in outcomes.values()]
    notes = [
        f"{n:,} tasks created at t0 by a fresh simulator process per case (`--seed {SEED}`), "
        f"finishing uniformly over {scenario.duration[0]:g}-{scenario.duration[1]:g} s, "
        f"{FAILURE_RATE:.0%} failed; the simulator allows {RPM:,} requests per minute",
        "4 processes: each tracks every 4th task id with `client.analyze.tasks.track(ids)`; "
        f"coordinated: `RedisCoordinator.from_url(url, namespace=..., rpm={RPM})` passed as "
        "`coordinator=`, one private redis-server for the run, one namespace per case",
        "requests (simulator) = every request the simulator answered, 429s included; latency "
        "= delivery time in the worker minus the simulator's terminal time",
        "errors = exceptions that reached the workers' code plus tracebacks on their stderr",
        f"client processes and simulator share this machine's {os.cpu_count()} CPUs",
    ]
    if not wired:
        notes.append("(c)-(f) not run: `AsyncTwelveLabs` has no `coordinator=` in this tree yet")
    targets: list[tuple[str, str, str, bool]] = []
    for o in outcomes.values():
        targets.append((
            f"{o.case.label}: every task delivered, right status",
            f"{o.delivered_expected:,}/{len(o.expected):,}, {o.wrong_status} wrong",
            "all, 0 wrong", o.delivered_expected == len(o.expected) and o.wrong_status == 0,
        ))  # fmt: skip
    faults_rows = []
    if "c" in outcomes:
        c = outcomes["c"]
        share = c.throttled / max(1, c.total)
        p99, p99_base = percentile(c.latencies, 99), percentile(base.latencies, 99)
        targets += [
            ("(c) total requests vs (a)", f"{c.total:,} vs {base.total:,} "
             f"({c.total / base.total:.3f}x)", "<= 1.15x", c.total <= 1.15 * base.total),
            ("(c) 429 answers", f"{c.throttled:,} of {c.total:,} ({share:.2%})", "<= 1 %",
             share <= 0.01),
            ("(c) p99 detection vs (a)", f"{p99:.2f} s vs {p99_base:.2f} s "
             f"({p99 / p99_base:.2f}x)", "<= 1.25x", p99 <= 1.25 * p99_base),
        ]  # fmt: skip
    if "d" in outcomes:
        d = outcomes["d"]
        killed = d.t0 + d.fault["killed_at"]
        gap = longest_gap(d.list_times, killed, killed + GAP_WINDOW)
        reference = outcomes["c"].t0 + d.fault["killed_at"]
        calm = longest_gap(outcomes["c"].list_times, reference, reference + GAP_WINDOW)
        targets += [
            ("(d) sweeping gap around the kill", f"{gap:.2f} s (resumed "
             f"{resumed_after(d.list_times, killed):.2f} s after the kill; in (c) at the same "
             f"time: {calm:.2f} s)", "<= 5 s", gap <= 5.0),
            ("(d) no error in the survivors", f"{d.errors + d.tracebacks}", "0",
             d.errors + d.tracebacks == 0),
        ]  # fmt: skip
        faults_rows.append({
            "case": d.case.label,
            "fault at s": round(d.fault["killed_at"], 2),
            "what": f"SIGKILL to the lease holder (pid {d.fault['killed_pid']}); its "
                    f"{len(d.timeline) - len(d.expected):,} tasks are not counted",
            "longest sweep gap s": round(gap, 2),
            "resumed after s": round(resumed_after(d.list_times, killed), 2),
            "delivered": f"{d.delivered_expected:,}/{len(d.expected):,}",
            "errors": d.errors + d.tracebacks,
        })  # fmt: skip
    if "e" in outcomes:
        e = outcomes["e"]
        errors = e.errors + e.tracebacks
        targets.append(("(e) no exception in user code across the restart", f"{errors}", "0",
                        errors == 0))  # fmt: skip
        gap = longest_gap(e.list_times, e.t0 + e.fault["stopped_at"], e.t0 + e.fault["back_at"])
        faults_rows.append({
            "case": e.case.label,
            "fault at s": round(e.fault["stopped_at"], 2),
            "what": f"redis-server killed, started again on its port "
                    f"{e.fault['back_at'] - e.fault['stopped_at']:.1f} s later",
            "longest sweep gap s": round(gap, 2),
            "resumed after s": round(resumed_after(e.list_times, e.t0 + e.fault["stopped_at"]), 2),
            "delivered": f"{e.delivered_expected:,}/{len(e.expected):,}",
            "errors": errors,
        })  # fmt: skip
    tables = [
        Table(
            title=f"Many workers, one budget: {n:,} tasks, {RPM:,} rpm, 1 or 4 processes",
            columns=list(rows[0]),
            rows=rows,
            notes=notes,
            meta={
                "details": {
                    o.case.label: {
                        "sim_requests": {f"{r} {s}": k for (r, s), k in sorted(o.requests.items())},
                        "worker_errors": [r["errors"] for r in o.reports],
                        "tracebacks": o.tracebacks,
                        "fault": o.fault,
                        "tracker_stats": [r["stats"] for r in o.reports],
                    }
                    for o in outcomes.values()
                },
                "cdf_file": "coordination-latency-cdf.png",
                "latency_cdf": {
                    o.case.label: [round(x, 4) for x in o.latencies if math.isfinite(x)]
                    for o in outcomes.values()
                },
            },
        )
    ]
    if faults_rows:
        tables.append(
            Table(
                title="Coordinated, with a fault mid-run",
                columns=list(faults_rows[0]),
                rows=faults_rows,
                notes=[
                    "longest sweep gap = the longest time between two list answers the "
                    f"simulator gave (sampled every {SAMPLE * 1000:g} ms), over the "
                    f"{GAP_WINDOW:g} s after the kill (d) or while redis-server was down "
                    "(e); a gap spanning either end counts whole (so it includes the time "
                    "between the last list answer and the fault)",
                    "resumed after = from the fault to the first list answer after it",
                    "(d)'s survivors track only their own tasks: the killed process's are lost "
                    "with it, as a user's would be",
                ],
            )
        )
    if hooks is not None:
        lat = hooks["latencies"]
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        tables.append(
            Table(
                title="A webhook posted to process A completes a wait() in process B",
                columns=[
                    "events",
                    "waits returned",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "over 100 ms",
                    "returned before the post",
                    "errors",
                ],
                rows=[
                    {
                        "events": hooks["events"],
                        "waits returned": hooks["returned"],
                        "p50 ms": round(p50 * 1000, 1),
                        "p99 ms": round(p99 * 1000, 1),
                        "max ms": round(max(lat, default=math.nan) * 1000, 1),
                        "over 100 ms": sum(x > 0.1 for x in lat),
                        "returned before the post": hooks["before_post"],
                        "errors": hooks["errors"],
                    }
                ],
                notes=[
                    f"{hooks['events']} tasks finishing over {scenario.duration[0]:g}-"
                    f"{scenario.duration[1]:g} s; B runs one `client.analyze.tasks.wait(id)` per "
                    "task; each task's event, signed with `webhooks.sign`, is posted to A's "
                    f"`webhook_handler(..., coordinator=)` {POST_AFTER * 1000:g} ms after the "
                    "simulator made it terminal, from when B's waits are all running (each has "
                    "polled its task once: B's DEBUG request log says so; an event due earlier "
                    f"is posted then), {hooks.get('ready_after', '-')} s after t0",
                    "latency = B's wait returned minus the post sent (`time.time()`, one machine); "
                    "a wait that found its task by its own polling before the post counts "
                    "negative",
                ],
                meta={"latency_by_post_time": hooks["by_time"], "sim_requests": hooks["requests"]},
            )
        )
        targets += [
            ("(f) every wait returned", f"{hooks['returned']}/{hooks['events']}, "
             f"{hooks['errors']} errors", "all, 0 errors",
             hooks["returned"] == hooks["events"] and hooks["errors"] == 0),
            ("(f) p99 webhook in A to wait() returned in B", f"{p99 * 1000:.1f} ms",
             "<= 100 ms", p99 <= 0.1),
        ]  # fmt: skip
    tables.append(
        Table(
            title="Targets (issue 11): many processes, one budget",
            columns=["target", "measured", "required", "result"],
            rows=[
                {"target": t, "measured": m, "required": r, "result": _verdict(ok)}
                for t, m, r, ok in targets
            ],
        )
    )
    return tables


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the processes of bench_coordination")
    parser.add_argument("--worker", choices=("track", "hook", "waiter"))
    parser.add_argument("--simulator", action="store_true")
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--duration", type=float, nargs=2)
    parser.add_argument("--timeline")
    parser.add_argument("--stats")
    cli = parser.parse_args()
    if cli.simulator:
        asyncio.run(_simulator(cli))
        raise SystemExit(0)
    raise SystemExit(worker_main(cli.worker))
