"""`tasks get|list|create|cancel|delete|watch` and `analyze`."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..analyze._local import local_of
from ..analyze._request import AnalysisRequest
from ..assets._upload import plan
from ..errors import InvalidInputError
from ..models import AnalyzeTask, AssetVideo, TaskStatus, TextGeneration
from ..tracking import Tracker
from ._common import (
    EXIT_API,
    EXIT_OK,
    EXIT_SOME_FAILED,
    add_client_options,
    add_list_options,
    base_url_of,
    describe,
    error,
    make_client,
    page_limit,
    print_listed,
    run,
    to_json,
)
from ._display import Display
from ._flags import SECONDS, UsageError, choice, in_flag_terms
from ._ids import checked_ids, parse_ids
from ._request import add_request_options, check, request_from
from ._uploading import UploadDisplay


def add_task_parsers(commands: Any) -> None:
    """Register `tasks ...` and `analyze`."""
    tasks = commands.add_parser("tasks", help="analysis tasks: get, list, create, watch, ...")
    sub = tasks.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = sub.add_parser("get", help="show one task")
    get.add_argument("task_id")
    get.add_argument("--json", action="store_true", help="print the task as JSON")
    get.set_defaults(run=lambda a: run(a, lambda: _get(a)))

    lst = sub.add_parser("list", help="list tasks, newest first (every page)")
    statuses = [str(s) for s in TaskStatus]
    lst.add_argument(
        "--status",
        type=choice("--status", statuses),
        metavar="STATUS",
        help=f"only tasks with this status: {', '.join(statuses)}",
    )
    add_list_options(lst, "tasks")
    lst.set_defaults(run=lambda a: run(a, lambda: _list(a)))

    create = sub.add_parser(
        "create",
        help="create an analysis task",
        description=(
            "Create an analysis task. Every option is checked before the request is sent. "
            "A general analysis needs --prompt; a time_based_metadata analysis takes no "
            "prompt and needs --response-format FILE with its segment definitions."
        ),
    )
    add_request_options(create)
    create.add_argument("--wait", action="store_true", help="wait for it and print the result")
    create.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="with --wait: give up waiting after this long (the task goes on)",
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=lambda a: run(a, lambda: _create(a)), check=_check_create)

    for name, verb in (("cancel", "cancel"), ("delete", "delete")):
        p = sub.add_parser(name, help=f"{verb} a task")
        p.add_argument("task_id")
        p.set_defaults(run=lambda a, verb=verb: run(a, lambda: _simple(a, verb)))

    watch = sub.add_parser(
        "watch",
        help="follow tasks until they finish, with live progress",
        description=(
            "Follow tasks until each finishes; print each as it finishes (stdout), with the "
            "progress and a summary on stderr."
        ),
    )
    watch.add_argument("task_ids", nargs="*", metavar="ID", help="task ids, or - for stdin")
    watch.add_argument(
        "--from-file", metavar="FILE", help="read task ids from FILE: one a line (or a JSON list)"
    )
    watch.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="give up after this long (the tasks go on)",
    )
    watch.add_argument("--json", action="store_true", help="JSON Lines on stdout")
    watch.set_defaults(run=lambda a: run(a, lambda: _watch(a)), check=_check_watch)

    analyze = commands.add_parser(
        "analyze",
        help="analyze a video now (sync or streamed): a local FILE or --video-url",
        description=(
            "Analyze a video and print the text. A local FILE is uploaded first (with "
            "progress), waited for until ready, then analyzed; each stage is said on stderr."
        ),
    )
    analyze.add_argument("file", nargs="?", metavar="FILE", help="a local video file")
    analyze.add_argument("--video-url", metavar="URL", help="a video's URL instead of a FILE")
    analyze.add_argument("--prompt", required=True)
    analyze.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="with FILE: stop waiting for the uploaded video to be ready after this long",
    )
    analyze.add_argument("--stream", action="store_true", help="print text as it is generated")
    analyze.set_defaults(run=lambda a: run(a, lambda: _analyze(a)), check=_check_analyze)

    add_client_options(tasks)
    for parser in (analyze, *sub.choices.values()):
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
    status = TaskStatus(args.status) if args.status is not None else None
    async with make_client(args) as client:
        tasks = client.analyze.tasks.list(status=status, page_limit=page_limit(args))
        return await print_listed(tasks, args, _line)


def _check_create(args: argparse.Namespace) -> None:
    if args.timeout is not None and not args.wait:
        raise UsageError(
            "--timeout needs --wait: it bounds the wait for the task to finish "
            "(without --wait the command returns as soon as the task is created)"
        )
    args.request = request_from(args)


async def _create(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        ref = await client.analyze.tasks.create(**args.request)
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
    """Ids from the arguments, `--from-file`, or standard input (`-`), each once, in order.

    Files and standard input hold one id a line (blank lines and `#` comments skipped) or a
    JSON list of ids: what `simulate --ids-file` writes.
    """
    ids = checked_ids(i for i in args.task_ids if i != "-")
    if "-" in args.task_ids:
        ids += parse_ids(sys.stdin.read(), "standard input")
    if args.from_file:
        try:
            with open(args.from_file, encoding="utf-8") as source:
                text = source.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UsageError(
                f"cannot read ids from --from-file {args.from_file}: {reason}"
            ) from None
        ids += parse_ids(text, f"--from-file {args.from_file}")
    return list(dict.fromkeys(ids))


def _check_watch(args: argparse.Namespace) -> None:
    args.ids = read_ids(args)
    if not args.ids:
        raise UsageError("no task ids: pass ids, --from-file FILE, or - to read them from stdin")


async def _watch(args: argparse.Namespace) -> int:
    ids: list[str] = args.ids
    async with make_client(args) as client:
        # One cheap request first: a wrong key, base URL or host is said at once, instead of
        # the tracker retrying a connection that cannot work.
        await client.analyze.tasks.list(page_limit=1).page(1)
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
                        display.finished(task)
        finally:
            if tracker is not None:
                print_summary(tracker, finished, display.started, base_url_of(args))
    if tracker is not None and tracker.errors:
        return EXIT_API
    return _exit_for(finished) if len(finished) == len(ids) else EXIT_SOME_FAILED


def print_summary(
    tracker: Tracker, finished: list[AnalyzeTask], started: float, base_url: str
) -> None:
    """What finished, what did not, and what it cost, on stderr."""
    counts = Counter(str(t.status) for t in finished)
    elapsed = time.monotonic() - started
    out = sys.stderr
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(
        f"\n{len(finished)} finished in {elapsed:.1f}s" + (f": {by_status}" if counts else ""),
        file=out,
    )
    stats = tracker.stats
    routes = ", ".join(f"{route} {n}" for route, n in sorted(stats.requests.items()))
    print(
        f"requests: {stats.total_requests}"
        + (f" ({routes})" if routes else "")
        + f", retries {stats.retries}, throttles {stats.throttles}, sweeps {stats.sweeps}",
        file=out,
    )
    for task_id, exc in sorted(tracker.errors.items()):
        print(f"error    {task_id}  {describe(exc, base_url)}", file=out)
    unfinished = sorted(tracker.pending)
    if unfinished:
        more = ", ..." if len(unfinished) > 5 else ""
        print(f"not finished: {len(unfinished)} ({', '.join(unfinished[:5])}{more})", file=out)


def _check_analyze(args: argparse.Namespace) -> None:
    if (args.file is None) == (args.video_url is None):
        raise UsageError("give a local video FILE or --video-url URL (one of them)")
    if args.timeout is not None and args.file is None:
        raise UsageError("--timeout bounds the wait for an uploaded FILE: give a FILE with it")
    video = args.video_url if args.file is None else AssetVideo("0" * 24)
    check(AnalysisRequest(video=video, prompt=args.prompt), sync=True)
    if args.file is not None:
        try:
            local_of(Path(args.file))
            plan(args.file, None, None)
        except InvalidInputError as exc:
            raise UsageError(in_flag_terms(str(exc))) from None


async def _analyze(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        video: str | AssetVideo = args.video_url
        if args.file is not None:
            path = args.file
            with UploadDisplay([path], plain=False) as display:
                asset = await client.assets.upload(path, progress=display.callback(path))
                display.stage(path, f"uploaded as asset {asset.asset_id}; waiting until ready")
                ready = await client.assets.wait(asset.asset_id, timeout=args.timeout)
                display.stage(path, f"asset {ready.asset_id} {ready.status}")
            if ready.status != "ready":
                reason = ready.error.message if ready.error is not None else "no reason given"
                error(f"{path}: the asset {ready.asset_id} ended {ready.status}: {reason}")
                return EXIT_SOME_FAILED
            print(f"analyzing asset {ready.asset_id}", file=sys.stderr, flush=True)
            video = AssetVideo(ready.asset_id)
        if not args.stream:
            result = await client.analyze.generate(video=video, prompt=args.prompt)
            print(result.data or "")
            return EXIT_OK
        async with client.analyze.stream(video=video, prompt=args.prompt) as stream:
            async for event in stream:
                if isinstance(event, TextGeneration):
                    print(event.text, end="", flush=True)
        print()
    return EXIT_OK
