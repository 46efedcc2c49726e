"""Turn `bench/results/latest.json` into the benchmark page's files in `docs/benchmarks/`.

`python bench/report.py` writes `results.md` (every table, as markdown), `latest.json` (the raw
results), and PNG plots drawn from the tables' `meta`:

- `meta["latency_cdf"] = {implementation: [detection latencies in seconds]}` → a CDF plot,
  `latency-cdf.png` unless `meta["cdf_file"]` names another file;
- `meta["scaling"] = {implementation: [[tasks, requests], ...]}` → requests vs tasks.

matplotlib is needed only here (the `bench` nox session installs it).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.json"
OUT = HERE.parent / "docs" / "benchmarks"


def _markdown(table: dict[str, Any]) -> str:
    columns = table["columns"]
    lines = [f"### {table['title']}", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in table["rows"]:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    lines += ["", *(f"- {note}" for note in table.get("notes", []))]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _plots(tables: list[dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    for table in tables:
        meta = table.get("meta") or {}
        cdf = meta.get("latency_cdf")
        if cdf:
            fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
            for name, values in cdf.items():
                ordered = sorted(values)
                if not ordered:
                    continue
                ys = [(i + 1) / len(ordered) for i in range(len(ordered))]
                ax.step(ordered, ys, where="post", label=name)
            ax.set_xscale("log")
            ax.set_xlabel("detection latency (s, log scale): yielded minus became terminal")
            ax.set_ylabel("share of tasks")
            ax.set_title(table["title"], fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
            fig.tight_layout()
            name = meta.get("cdf_file", "latency-cdf.png")
            fig.savefig(OUT / name)
            plt.close(fig)
            made.append(name)
        scaling = meta.get("scaling")
        if scaling:
            fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
            for name, points in scaling.items():
                xs, ys = zip(*sorted(points), strict=True)
                ax.plot(xs, ys, marker="o", label=name)
            ax.set_xlabel("tasks")
            ax.set_ylabel("requests sent")
            ax.set_yscale("log")
            ax.set_title(table["title"], fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
            fig.tight_layout()
            fig.savefig(OUT / "requests-vs-tasks.png")
            plt.close(fig)
            made.append("requests-vs-tasks.png")
    return made


def main() -> int:
    if not RESULTS.exists():
        print(f"no results at {RESULTS}; run `nox -s bench` first", file=sys.stderr)
        return 1
    report = json.loads(RESULTS.read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    tables = [t for name in report["benchmarks"] for t in report["benchmarks"][name]]
    header = (
        f"Run {report['started']} on Python {report['python']}, {report['platform']}"
        f"{' (quick mode)' if report.get('quick') else ''}.\n\n"
    )
    body = "".join(_markdown(t) + "\n" for t in tables)
    (OUT / "results.md").write_text(header + body)
    shutil.copyfile(RESULTS, OUT / "latest.json")
    made = _plots(tables)
    print(f"wrote {OUT.relative_to(HERE.parent)}: results.md, latest.json, {', '.join(made)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
