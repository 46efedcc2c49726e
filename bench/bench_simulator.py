"""The simulator's throughput for `GET /analyze/tasks/{id}`, in its own process, on this machine.

The simulator runs as `python -m twelvelabs_async simulate --port 0` in a subprocess (its own
interpreter, as the tracker benchmarks will run it); the load comes from this process, through
a keep-alive pool, first with raw aiohttp and then through our client
(`AsyncTwelveLabs.analyze.tasks.retrieve`). Each load keeps `CONCURRENCY` requests in flight,
warms up, then counts the requests answered in a fixed window (and in `SLICES` parts of it: on
a machine shared with other work the best slice shows the capacity). CPU seconds per 1,000
requests are measured on both sides: this process with `time.process_time()`, the simulator
from `/proc/<pid>/stat` (Linux only; `-` elsewhere). The subprocess is always stopped: SIGINT,
then SIGKILL after a timeout. Its API key is read from its output but never printed.

Three simulator runs, seeded with the same tasks but different durations:
- all in progress (`--duration 3600 3600`): no task finishes during the run;
- mixed (`--duration -600 600`): a negative draw means the task finished already, so about
  half the tasks are terminal from the start and the share grows by only elapsed/1200;
- all terminal (`--duration 0 0`).
The simulator renders a task's body once per status it is seen in, so in every run the first
request for a task renders it and the later ones (until its status changes) are served cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from _harness import Table
from _procs import cpu_of, read_lines, stop

from twelvelabs_async import AsyncTwelveLabs

TARGET = 2_000.0
"""Requests/s the simulator must sustain so that it never bottlenecks the tracker benchmarks."""
SEED_TASKS = 2_000
CONCURRENCY = 64
SLICES = 5
SCENARIOS: tuple[tuple[str, tuple[float, float]], ...] = (
    ("all in progress", (3600.0, 3600.0)),
    ("mixed", (-600.0, 600.0)),
    ("all terminal", (0.0, 0.0)),
)
COLUMNS = [
    "tasks",
    "load",
    "req/s",
    "best slice req/s",
    "client CPU s / 1k req",
    "simulator CPU s / 1k req",
    "simulator req / CPU s",
    "terminal share",
    "errors",
]
_TERMINAL = frozenset({"ready", "failed", "canceled"})


@dataclass
class _Sim:
    """A running simulator subprocess: where it listens, its key (never printed), its ids."""

    proc: subprocess.Popen[str]
    base_url: str
    api_key: str
    ids: list[str]


@contextlib.contextmanager
def _simulator(duration: tuple[float, float], seed_tasks: int) -> Iterator[_Sim]:
    """Start `python -m twelvelabs_async simulate` and always stop it: SIGINT, then kill."""
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        ids_file = Path(tmp) / "ids.txt"
        stderr_file = Path(tmp) / "stderr.txt"
        cmd = [
            sys.executable, "-m", "twelvelabs_async", "simulate",
            "--port", "0", "--seed", "0",
            "--duration", str(duration[0]), str(duration[1]),
            "--seed-tasks", str(seed_tasks), "--ids-file", str(ids_file),
        ]  # fmt: skip
        with stderr_file.open("w") as stderr:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            lines = read_lines(
                proc, ("TWELVELABS_BASE_URL", "TWELVELABS_API_KEY"), "simulator", stderr_file
            )
            ids = ids_file.read_text("utf-8").split()  # one id a line
            assert len(ids) == seed_tasks, f"the simulator seeded {len(ids)} tasks"
            yield _Sim(proc, lines["TWELVELABS_BASE_URL"], lines["TWELVELABS_API_KEY"], ids)
        finally:
            stop(proc)


@dataclass
class _Load:
    """What one load run counted."""

    requests: int
    seconds: float
    best_slice_rps: float
    client_cpu: float
    sim_cpu: float | None
    statuses: Counter[str]
    errors: Counter[str]


async def _drive(
    one: Callable[[str], Awaitable[str | None]],
    ids: list[str],
    sim_pid: int,
    *,
    warmup: float,
    window: float,
) -> _Load:
    """Keep CONCURRENCY calls of `one(task_id)` in flight; count those done inside the window.

    `one` returns the task's status when it knows it (None otherwise) and raises on failure.
    The window is also cut in SLICES, whose best rate shows the capacity on a busy machine.
    """
    done = 0
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    stop = False
    counting = False
    cursor = 0

    async def worker() -> None:
        nonlocal done, cursor
        while not stop:
            task_id = ids[cursor % len(ids)]
            cursor += 1
            try:
                status = await one(task_id)
            except Exception as exc:
                errors[type(exc).__name__] += 1
                await asyncio.sleep(0.01)  # an error must not turn into a busy loop
                continue
            if counting:
                done += 1
                if status is not None:
                    statuses[status] += 1

    workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    try:
        await asyncio.sleep(warmup)
        counting = True
        cpu0, sim0, t0 = time.process_time(), cpu_of(sim_pid), time.perf_counter()
        marks = [(t0, done)]
        for _ in range(SLICES):
            await asyncio.sleep(window / SLICES)
            marks.append((time.perf_counter(), done))
        cpu1, sim1, t1 = time.process_time(), cpu_of(sim_pid), time.perf_counter()
    finally:
        stop = True
        await asyncio.gather(*workers, return_exceptions=True)
    best = max((n1 - n0) / (s1 - s0) for (s0, n0), (s1, n1) in itertools.pairwise(marks))
    sim_cpu = sim1 - sim0 if sim0 is not None and sim1 is not None else None
    requests = marks[-1][1] - marks[0][1]
    return _Load(requests, t1 - t0, best, cpu1 - cpu0, sim_cpu, statuses, errors)


async def _raw(sim: _Sim, *, warmup: float, window: float) -> _Load:
    """Raw aiohttp: one session, a keep-alive pool of CONCURRENCY connections."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=CONCURRENCY)
    headers = {"x-api-key": sim.api_key, "Accept": "application/json"}
    base = f"{sim.base_url}/analyze/tasks/"
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(task_id: str) -> None:
            async with session.get(base + task_id) as resp:
                body = await resp.read()
                if resp.status != 200 or not body:
                    raise RuntimeError(f"HTTP {resp.status}")

        return await _drive(one, sim.ids, sim.proc.pid, warmup=warmup, window=window)


async def _ours(sim: _Sim, *, warmup: float, window: float) -> _Load:
    """Our client, no retries (a failure must show), its own pool of CONCURRENCY connections."""
    async with AsyncTwelveLabs(
        sim.api_key, base_url=sim.base_url, max_connections=CONCURRENCY, max_retries=0
    ) as client:

        async def one(task_id: str) -> str:
            return str((await client.analyze.tasks.retrieve(task_id)).status)

        return await _drive(one, sim.ids, sim.proc.pid, warmup=warmup, window=window)


def _row(tasks: str, load: str, result: _Load) -> dict[str, Any]:
    per_1k = 1000 / result.requests if result.requests else float("nan")
    seen = sum(result.statuses.values())
    terminal = sum(n for s, n in result.statuses.items() if s in _TERMINAL)
    sim_cpu = None if result.sim_cpu is None else result.sim_cpu * per_1k
    return {
        "tasks": tasks,
        "load": load,
        "req/s": result.requests / result.seconds,
        "best slice req/s": result.best_slice_rps,
        "client CPU s / 1k req": round(result.client_cpu * per_1k, 3),
        "simulator CPU s / 1k req": None if sim_cpu is None else round(sim_cpu, 3),
        "simulator req / CPU s": None if not sim_cpu else 1000 / sim_cpu,
        "terminal share": f"{terminal / seen:.0%}" if seen else None,
        "errors": ", ".join(f"{k} x{n}" for k, n in result.errors.items()) or 0,
    }


def run(*, quick: bool) -> list[Table]:
    warmup, window = (0.3, 1.5) if quick else (1.0, 5.0)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows: list[dict[str, Any]] = []
    for label, duration in SCENARIOS:
        with _simulator(duration, SEED_TASKS) as sim:
            for load, fn in (("raw aiohttp", _raw), ("our client", _ours)):
                result = asyncio.run(fn(sim, warmup=warmup, window=window))
                rows.append(_row(label, load, result))
    raw = [row for row in rows if row["load"] == "raw aiohttp"]
    slowest = min(row["req/s"] for row in raw)
    capacity = [row["simulator req / CPU s"] for row in rows if row["simulator req / CPU s"]]
    verdict = "meets" if slowest >= TARGET else "MISSES"
    notes = [
        f"{SEED_TASKS:,} seeded tasks requested round-robin, {CONCURRENCY} in flight over a "
        f"keep-alive pool of {CONCURRENCY} connections; {warmup:g} s warm-up, then the requests "
        f"answered in a {window:g} s window (req/s) and in the best of its {SLICES} slices",
        f"raw aiohttp, slowest run: {slowest:,.0f} req/s, which {verdict} the {TARGET:,.0f} "
        "req/s target (the simulator must never be the tracker benchmarks' bottleneck)"
        + (
            f"; at worst the simulator served {min(capacity):,.0f} requests per CPU second"
            if capacity
            else ""
        ),
        f"both processes share this machine's {os.cpu_count()} CPUs"
        + (f" (1-min load average {load_before:.2f} before the run)" if load_before else "")
        + "; client CPU = time.process_time() of the load generator, simulator CPU = its "
        "utime + stime; CPU s per 1k requests = ms per request",
        "tasks: all in progress = `--duration 3600 3600`; mixed = `--duration -600 600` (about "
        "half already finished); all terminal = `--duration 0 0`",
        "terminal share = the statuses our client decoded (raw aiohttp does not parse bodies)",
        f"our client: `AsyncTwelveLabs(max_connections={CONCURRENCY}, max_retries=0)`, "
        "`analyze.tasks.retrieve(id)`, which also decodes each body into an `AnalyzeTask`",
    ]
    return [
        Table(
            title="Simulator throughput, GET /analyze/tasks/{id} (simulator in its own process)",
            columns=COLUMNS,
            rows=rows,
            notes=notes,
            meta={
                "seed_tasks": SEED_TASKS,
                "concurrency": CONCURRENCY,
                "warmup_s": warmup,
                "window_s": window,
                "slices": SLICES,
                "target_rps": TARGET,
                "cpus": os.cpu_count(),
                "loadavg_1min_before": load_before,
                "aiohttp": aiohttp.__version__,
            },
        )
    ]
