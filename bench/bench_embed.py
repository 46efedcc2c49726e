"""A ready embedding task of 1,000 segments x 1,024 numbers: decode time and retained memory.

Ours: `json.loads` then `_convert.structure(data, EmbeddingTask)`, which keeps each vector in
one `array('d')` (`EmbeddingVector`). Official: the SDK's wire path, `json.loads` then
`parse_obj_as(EmbeddingTaskResponse, body)`, which keeps a list of Python floats per vector.
The floor is `json.loads` alone, whose result is itself the plain "list of floats" form. Before
measuring, every number of both results is checked against the body.

Memory is measured with `tracemalloc`: the bytes still allocated once the decoded object is
all that is kept (the body's bytes and the intermediate dict freed), and the peak while
decoding, both above what was allocated before.
"""

from __future__ import annotations

import gc
import json
import os
import random
import time
import tracemalloc
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from _harness import Table

from twelvelabs_async._convert import structure
from twelvelabs_async.models import EmbeddingTask

try:
    from twelvelabs.core.pydantic_utilities import parse_obj_as
    from twelvelabs.types.embedding_task_response import EmbeddingTaskResponse
except ModuleNotFoundError as exc:  # pragma: no cover - a hint, not a code path
    raise SystemExit(f"{exc}: the official SDK is installed only by `nox -s bench`") from None

SEGMENTS = 1_000
DIMENSION = 1_024
COLUMNS = [
    "decoder",
    "decode (ms)",
    "vs ours (time)",
    "retained (MB)",
    "vs ours (retained)",
    "peak (MB)",
]


def ready_task(segments: int = SEGMENTS, dimension: int = DIMENSION) -> bytes:
    """The body of a ready video task: `segments` clips, each a vector of `dimension`."""
    rng = random.Random(10)
    data = [
        {
            "embedding": [rng.uniform(-0.1, 0.1) for _ in range(dimension)],
            "embedding_option": "visual",
            "embedding_scope": "clip",
            "start_sec": i * 2.0,
            "end_sec": i * 2.0 + 2.0,
        }
        for i in range(segments)
    ]
    body = {
        "_id": "6650f1c2e4b0a1b2c3d4e5f6",
        "status": "ready",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:05:00Z",
        "data": data,
        "metadata": {
            "input_type": "video",
            "embedding_options": ["visual"],
            "embedding_scopes": ["clip"],
            "duration": segments * 2.0,
            "embedding_dimension": dimension,
        },
        "usage": {"input_tokens": {"video": 12_000}, "truncated": False},
    }
    return json.dumps(body).encode()


def _ours(raw: bytes) -> object:
    return structure(json.loads(raw), EmbeddingTask)


def _official(raw: bytes) -> object:
    return parse_obj_as(EmbeddingTaskResponse, json.loads(raw))


def _floor(raw: bytes) -> object:
    return json.loads(raw)


def check(raw: bytes) -> None:
    """Both decoders kept every number exactly (the same doubles as `json.loads`)."""
    body = json.loads(raw)
    ours = structure(body, EmbeddingTask)
    sdk = parse_obj_as(EmbeddingTaskResponse, body)
    assert ours.data is not None
    assert sdk.data is not None
    assert len(ours.data) == len(sdk.data) == len(body["data"])
    for mine, theirs, wire in zip(ours.data, sdk.data, body["data"], strict=True):
        assert mine.embedding.tolist() == wire["embedding"]
        assert theirs.embedding == wire["embedding"]


def memory(decode: Callable[[bytes], object], raw: bytes) -> tuple[float, float]:
    """Bytes retained by the decoded object, and the peak while decoding, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = decode(raw)
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return (current - base) / 1e6, (peak - base) / 1e6


def one_call_ms(decode: Callable[[bytes], object], raw: bytes) -> float:
    """One call's time in ms, the garbage collector off (as `timeit` runs) and the result
    freed inside the timing (as it is in a loop)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        decode(raw)
        return (time.perf_counter() - start) * 1000
    finally:
        gc.enable()


def run(*, quick: bool) -> list[Table]:
    raw = ready_task()
    check(raw)
    decoders: dict[str, Callable[[bytes], Any]] = {
        "ours: EmbeddingVector (array('d'))": _ours,
        "official SDK: parse_obj_as (lists of float)": _official,
        "floor: json.loads alone (lists of float)": _floor,
    }
    # Each call takes most of a second: the decoders take turns, one call each a round, and
    # each keeps its best round, so a burst of load on the shared machine hits all alike.
    best = dict.fromkeys(decoders, float("inf"))
    for _ in range(3 if quick else 7):
        for name, decode in decoders.items():
            best[name] = min(best[name], one_call_ms(decode, raw))
    load = os.getloadavg()[0]
    measured = {name: (best[name], *memory(decode, raw)) for name, decode in decoders.items()}
    ours_ms, ours_mb, _ = measured["ours: EmbeddingVector (array('d'))"]
    rows = [
        {
            "decoder": name,
            "decode (ms)": ms,
            "vs ours (time)": ms / ours_ms,
            "retained (MB)": mb,
            "vs ours (retained)": mb / ours_mb,
            "peak (MB)": peak,
        }
        for name, (ms, mb, peak) in measured.items()
    ]
    return [
        Table(
            title=(
                f"Decoding a ready embedding task ({SEGMENTS:,} segments x {DIMENSION:,} "
                f"numbers, {len(raw) / 1e6:.1f} MB of JSON): twelvelabs_async vs the official SDK"
            ),
            columns=COLUMNS,
            rows=rows,
            notes=[
                "decode = `json.loads(bytes)` + structuring, the best of "
                + ("3" if quick else "7")
                + " calls, the decoders taking turns (gc off, as `timeit`); vs ours > 1 means "
                "ours is faster or smaller",
                "retained = tracemalloc bytes still allocated when only the decoded object is "
                "kept; peak = the most allocated while decoding (both above the baseline): "
                "`json.loads`'s own for all three (the body as a str, then its objects)",
                "every number of both results checked first against `json.loads` (exact: "
                "`array('d')` holds the same doubles)",
                f"the raw numbers alone are {SEGMENTS * DIMENSION * 8 / 1e6:.1f} MB as doubles",
                f"load average {load:.1f} on {os.cpu_count()} cores when the timing ended (a "
                "shared machine): the times are noisy, the memory figures are not",
            ],
            meta={p: version(p) for p in ("twelvelabs", "pydantic", "cattrs", "attrs")},
        )
    ]
