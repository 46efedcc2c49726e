"""`tasks get|list|create|cancel|delete|watch` and `analyze`."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from ..models import AnalyzeTask, TextGeneration
from ..tracking import Tracker
from ._common import (
    EXIT_API,
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    add_client_options,
    error,
    finite,
    make_client,
    run,
    to_json,
)
from ._display import Display


def add_task_parsers(commands: Any) -> None:
    """Register `tasks ...` and `analyze`."""
    tasks = commands.add_parser("tasks", help="analysis tasks: get, list, create, watch, ...")
    sub = tasks.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = sub.add_parser("get", help="show one task")
    get.add_argument("task_id")
    get.add_argument("--json", action="store_true", help="print the task as JSON")
    get.set_defaults(run=lambda a: run(lambda: _get(a)))

    lst = sub.add_parser("list", help="list tasks, newest first (every page)")
    lst.add_argument("--status", help="only tasks with this status")
    lst.add_argument("--limit", type=int, default=None, help="stop after this many tasks")
    lst.add_argument("--json", action="store_true", help="print JSON Lines")
    lst.set_defaults(run=lambda a: run(lambda: _list(a)))

    create = sub.add_parser("create", help="create an analysis task")
    create.add_argument("--video-url", required=True)
    create.add_argument("--prompt", required=True)
    create.add_argument("--custom-id")
    create.add_argument("--wait", action="store_true", help="wait for it and print the result")
    create.add_argument("--timeout", type=finite, default=None, help="seconds to wait at most")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=lambda a: run(lambda: _create(a)))

    for name, verb in (("cancel", "cancel"), ("delete", "delete")):
        p = sub.add_parser(name, help=f"{verb} a task")
        p.add_argument("task_id")
        p.set_defaults(run=lambda a, verb=verb: run(lambda: _simple(a, verb)))

    watch = sub.add_parser(
        "watch",
        help="follow tasks until they finish, with live progress",
        description="Follow tasks until each finishes; print each as it finishes.",
    )
    watch.add_argument("task_ids", nargs="*", metavar="ID", help="task ids, or - for stdin")
    watch.add_argument("--from-file", help="read task ids from this file (one per line)")
    watch.add_argument("--timeout", type=finite, default=None, help="give up after N seconds")
    watch.add_argument("--json", action="store_true", help="JSON Lines on stdout")
    watch.set_defaults(run=lambda a: run(lambda: _watch(a)))

    analyze = commands.add_parser("analyze", help="analyze a video now (sync or streamed)")
    analyze.add_argument("--video-url", required=True)
    analyze.add_argument("--prompt", required=True)
    analyze.add_argument("--stream", action="store_true", help="print text as it is generated")
    analyze.set_defaults(run=lambda a: run(lambda: _analyze(a)))

    for parser in (get, lst, create, watch, analyze, *sub.choices.values()):
        if not any(o.dest == "api_key" for o in parser._actions):
            add_client_options(parser)


def _exit_for(tasks: list[AnalyzeTask]) -> int:
    return EXIT_OK if all(t.status == "ready" for t in tasks) else EXIT_SOME_FAILED


def _line(task: AnalyzeTask) -> str:
    created = task.created_at.isoformat() if task.created_at else "-"
    return f"{task.task_id}  {task.status!s:<10}  {created}  {task.custom_id or '-'}"


def _show(task: AnalyzeTask) -> None:
    print(_line(task))
    if task.result is not None:
        print(task.result.data)
    elif task.error is not None:
        print(f"{task.error.code or 'error'}: {task.error.message}")


async def _get(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        task = await client.analyze.tasks.retrieve(args.task_id)
    print(to_json(task)) if args.json else _show(task)
    return EXIT_OK


async def _list(args: argparse.Namespace) -> int:
    count = 0
    async with make_client(args) as client:
        async for task in client.analyze.tasks.list(status=args.status):
            if args.limit is not None and count >= args.limit:
                break
            print(to_json(task) if args.json else _line(task), flush=True)
            count += 1
    return EXIT_OK


async def _create(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        ref = await client.analyze.tasks.create(
            video=args.video_url, prompt=args.prompt, custom_id=args.custom_id
        )
        if not args.wait:
            print(to_json(ref) if args.json else ref.task_id)
            return EXIT_OK
        print(f"created {ref.task_id}; waiting", file=sys.stderr)
        task = await client.analyze.tasks.wait(ref.task_id, timeout=args.timeout)
    print(to_json(task)) if args.json else _show(task)
    return _exit_for([task])


async def _simple(args: argparse.Namespace, verb: str) -> int:
    async with make_client(args) as client:
        if verb == "cancel":
            ref = await client.analyze.tasks.cancel(args.task_id)
            print(f"{ref.task_id} {ref.status}")
        else:
            await client.analyze.tasks.delete(args.task_id)
            print(f"{args.task_id} deleted")
    return EXIT_OK


def read_ids(args: argparse.Namespace) -> list[str]:
    """Ids from the arguments, `--from-file`, or standard input (`-`), blanks and # ignored."""
    lines: list[str] = [i for i in args.task_ids if i != "-"]
    if "-" in args.task_ids:
        lines += sys.stdin.read().splitlines()
    if args.from_file:
        with open(args.from_file, encoding="utf-8") as source:
            lines += source.read().splitlines()
    ids = [line.strip() for line in lines]
    return list(dict.fromkeys(i for i in ids if i and not i.startswith("#")))


async def _watch(args: argparse.Namespace) -> int:
    try:
        ids = read_ids(args)
    except OSError as exc:
        error(f"cannot read ids: {exc}")
        return EXIT_USAGE
    if not ids:
        error("no task ids: pass ids, --from-file FILE, or - to read them from stdin")
        return EXIT_USAGE
    async with make_client(args) as client:
        display = Display(len(ids), json_lines=args.json)
        finished: list[AnalyzeTask] = []
        tracker: Tracker | None = None
        try:
            with display:
                async with client.analyze.tasks.track(
                    ids, timeout=args.timeout, on_error="collect", on_status=lambda _: None
                ) as tracker:
                    display.attach(tracker)
                    async for task in tracker:
                        finished.append(task)
                        if args.json:
                            print(to_json(task), flush=True)
                        display.finished(task)
        finally:
            if tracker is not None:
                print_summary(tracker, finished, display.started)
    if tracker is not None and tracker.errors:
        return EXIT_API
    return _exit_for(finished) if len(finished) == len(ids) else EXIT_SOME_FAILED


def print_summary(tracker: Tracker, finished: list[AnalyzeTask], started: float) -> None:
    """What finished, what did not, and what it cost, on stderr."""
    counts = Counter(str(t.status) for t in finished)
    elapsed = time.monotonic() - started
    out = sys.stderr
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"\n{len(finished)} finished in {elapsed:.1f}s" + (f": {by_status}" if counts else ""),
          file=out)  # fmt: skip
    stats = tracker.stats
    print(
        f"requests: {stats.total_requests} ({dict(stats.requests)}), retries {stats.retries}, "
        f"throttles {stats.throttles}, sweeps {stats.sweeps}",
        file=out,
    )
    for task_id, exc in sorted(tracker.errors.items()):
        print(f"error    {task_id}  {exc}", file=out)
    unfinished = sorted(tracker.pending)
    if unfinished:
        more = ", ..." if len(unfinished) > 5 else ""
        print(f"not finished: {len(unfinished)} ({', '.join(unfinished[:5])}{more})", file=out)


async def _analyze(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        if not args.stream:
            result = await client.analyze.generate(video=args.video_url, prompt=args.prompt)
            print(result.data or "")
            return EXIT_OK
        async with client.analyze.stream(video=args.video_url, prompt=args.prompt) as stream:
            async for event in stream:
                if isinstance(event, TextGeneration):
                    print(event.text, end="", flush=True)
        print()
    return EXIT_OK
