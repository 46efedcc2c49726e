"""Run the benchmark modules in bench/ and report: `python bench/run.py [--quick] [--only NAME]`.

`--merge` keeps the other benchmarks of the committed results (`docs/benchmarks/latest.json`),
so `--only NAME --merge` refreshes one benchmark and leaves the page whole.

Each `bench_<name>.py` module exposes `run(*, quick: bool) -> list[Table]` (see `_harness.py`).
Tables are printed as markdown; everything is also written to `bench/results/latest.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.json"


def discover() -> list[str]:
    """The benchmark names, `bench_convert.py` giving `convert`, in a stable order."""
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    names = discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    parser.add_argument("--only", action="append", choices=names, help="run only this one")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other benchmarks of the last results file (with --only: update those)",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(HERE))
    benchmarks: dict[str, list[dict[str, object]]] = {}
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "benchmarks": benchmarks,
    }
    for name in args.only or names:
        print(f"## {name}{' (quick)' if args.quick else ''}\n", flush=True)
        tables = importlib.import_module(f"bench_{name}").run(quick=args.quick)
        for table in tables:
            print(table.markdown(), end="\n\n", flush=True)
        benchmarks[name] = [dataclasses.asdict(t) for t in tables]

    if args.merge:
        benchmarks.update(_previous(set(benchmarks)))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {RESULTS.relative_to(HERE.parent)}")
    return 0


def _previous(fresh: set[str]) -> dict[str, list[dict[str, object]]]:
    """The benchmarks of the committed results (or of the last run) that were not run now."""
    for path in (HERE.parent / "docs" / "benchmarks" / "latest.json", RESULTS):
        if path.exists():
            old: dict[str, list[dict[str, object]]] = json.loads(path.read_text())["benchmarks"]
            return {name: tables for name, tables in old.items() if name not in fresh}
    return {}


if __name__ == "__main__":
    raise SystemExit(main())
