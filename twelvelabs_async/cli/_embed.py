"""`embed create|get|list|watch`: embeddings v2 from the command line.

Every flag is checked before any request (the body is built by the library's own checks);
results go to stdout, progress to stderr; `--json` prints JSON (a whole task with its vectors
for `get`, one line a task for `list` and `watch`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from ..embed._body import task_body, text_body
from ..errors import InvalidInputError
from ..models import (
    AudioEmbedInput,
    DocumentEmbedInput,
    DynamicSegments,
    EmbeddingTask,
    EmbeddingTaskSummary,
    EmbedInput,
    EmbedSource,
    FixedSegments,
    ImageEmbedInput,
    VideoEmbedInput,
)
from ..tracking import ObjectTracker
from ._common import (
    EXIT_API,
    EXIT_OK,
    EXIT_SOME_FAILED,
    add_client_options,
    add_list_options,
    base_url_of,
    describe,
    make_client,
    page_limit,
    print_listed,
    run,
    to_json,
)
from ._flags import SECONDS, UsageError, choice, number
from ._tasks import read_ids

_KINDS = ("video", "audio", "image", "document")
_MODELS = ("marengo3.5", "marengo3.0")


def add_embed_parsers(commands: Any) -> None:
    """Register `embed create|get|list|watch`."""
    embed = commands.add_parser("embed", help="embeddings v2: create, get, list, watch")
    sub = embed.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser(
        "create",
        help="embed a video, audio file, image, document (a task) or a text (now)",
        description=(
            "Create an embedding task for one media file, or embed a text at once (--text). "
            "Every option is checked before the request is sent."
        ),
    )
    create.add_argument(
        "--model",
        type=choice("--model", _MODELS),
        default="marengo3.5",
        help="marengo3.5 (default) or marengo3.0",
    )
    what = create.add_mutually_exclusive_group(required=True)
    for kind in _KINDS:
        what.add_argument(f"--{kind}-url", metavar="URL", help=f"the {kind} at this URL")
        what.add_argument(f"--{kind}-asset", metavar="ID", help=f"the {kind} asset with this id")
    what.add_argument("--text", help="embed this text now (POST /embed-v2), no task")
    create.add_argument(
        "--option",
        action="append",
        metavar="OPTION",
        help="an option (repeat): visual, audio, transcription, text",
    )
    create.add_argument(
        "--scope",
        action="append",
        metavar="SCOPE",
        help="an embedding scope (repeat): clip, local, asset",
    )
    clips = create.add_mutually_exclusive_group()
    clips.add_argument(
        "--clip-seconds",
        type=number("--clip-seconds", integer=True, low=1),
        metavar="N",
        help="fixed clips of N seconds (video, audio)",
    )
    clips.add_argument(
        "--min-clip-seconds",
        type=number("--min-clip-seconds", integer=True, low=1),
        metavar="N",
        help="dynamic clips of at least N seconds",
    )
    create.add_argument(
        "--start",
        type=number("--start", low=0, unit="seconds"),
        metavar="SECONDS",
        help="embed from this second on",
    )
    create.add_argument(
        "--end",
        type=number("--end", above=0, unit="seconds"),
        metavar="SECONDS",
        help="embed up to this second",
    )
    create.add_argument(
        "--dimension",
        type=number("--dimension", integer=True, low=1),
        metavar="N",
        help="numbers per vector (marengo3.5; default 512)",
    )
    create.add_argument("--wait", action="store_true", help="wait for the task and print it")
    create.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="with --wait: stop waiting after this long (the task goes on)",
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=lambda a: run(a, lambda: _create(a)), check=_check_create)

    get = sub.add_parser("get", help="show one task and its vectors")
    get.add_argument("task_id")
    get.add_argument("--json", action="store_true", help="print the whole task as JSON")
    get.set_defaults(run=lambda a: run(a, lambda: _get(a)))

    lst = sub.add_parser("list", help="list tasks, newest first (the last 7 days)")
    lst.add_argument(
        "--status",
        type=choice("--status", ("processing", "ready", "failed")),
        metavar="STATUS",
        help="only tasks in this status",
    )
    add_list_options(lst, "tasks")
    lst.set_defaults(run=lambda a: run(a, lambda: _list(a)))

    watch = sub.add_parser(
        "watch",
        help="follow tasks until they finish",
        description=(
            "Follow embedding tasks until each finishes; print each as it finishes (stdout: "
            "id, status, vectors), with progress and a summary on stderr."
        ),
    )
    watch.add_argument("task_ids", nargs="*", metavar="ID", help="task ids, or - for stdin")
    watch.add_argument("--from-file", metavar="FILE", help="read task ids from FILE")
    watch.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="give up after this long (the tasks go on)",
    )
    watch.add_argument("--json", action="store_true", help="JSON Lines on stdout (no vectors)")
    watch.set_defaults(run=lambda a: run(a, lambda: _watch(a)), check=_check_watch)

    add_client_options(embed)
    for parser in sub.choices.values():
        add_client_options(parser)


def _input(args: argparse.Namespace) -> tuple[str, EmbedInput]:
    """The input the flags describe (checked by the library when the body is built)."""
    for kind in _KINDS:
        url, asset = getattr(args, f"{kind}_url"), getattr(args, f"{kind}_asset")
        if url is None and asset is None:
            continue
        source = EmbedSource(url=url) if url is not None else EmbedSource(asset_id=asset)
        media_only = (args.clip_seconds, args.min_clip_seconds, args.start, args.end)
        if kind in ("image", "document") and any(v is not None for v in media_only):
            raise UsageError(
                f"--clip-seconds, --start and --end apply to video and audio, "
                f"not --{kind}-url/--{kind}-asset"
            )
        segmentation: FixedSegments | DynamicSegments | None = None
        if args.clip_seconds is not None:
            segmentation = FixedSegments(args.clip_seconds)
        elif args.min_clip_seconds is not None:
            segmentation = DynamicSegments(args.min_clip_seconds)
        options: Any = args.option
        scopes: Any = args.scope
        value: EmbedInput
        if kind == "video":
            value = VideoEmbedInput(source, args.start, args.end, segmentation, options, scopes)
        elif kind == "audio":
            value = AudioEmbedInput(source, args.start, args.end, segmentation, options, scopes)
        elif kind == "image":
            value = ImageEmbedInput(source, embedding_option=options, embedding_scope=scopes)
        else:
            value = DocumentEmbedInput(source, embedding_option=options, embedding_scope=scopes)
        return kind, value
    raise UsageError("pass one of --video-url, --audio-url, ..., or --text")  # pragma: no cover


def _check_create(args: argparse.Namespace) -> None:
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout needs --wait: it bounds the wait for the task to finish")
    try:
        if args.text is not None:
            media = (args.clip_seconds, args.min_clip_seconds, args.start, args.end)
            if args.wait or args.option or args.scope or any(v is not None for v in media):
                raise UsageError("--text embeds at once: it takes only --model and --dimension")
            text_body(
                text=args.text,
                model_name=args.model,
                embedding_dimension=args.dimension,
                embedding_uncertainty=None,
                auto_truncate=None,
            )
            return
        kind, value = _input(args)
        args.inputs = {kind: value}
        task_body(
            model_name=args.model,
            inputs=dict(args.inputs),
            embedding_dimension=args.dimension,
            embedding_uncertainty=None,
        )
    except InvalidInputError as exc:
        raise UsageError(_in_flags(str(exc))) from None


def _in_flags(message: str) -> str:
    for words, flag in (
        ("embedding_dimension", "--dimension"),
        ("embedding_option", "--option"),
        ("embedding_scope", "--scope"),
        ("model_name", "--model"),
    ):
        message = message.replace(words, flag)
    return message


def _summary(task: EmbeddingTask) -> str:
    vectors = len(task.data) if task.data is not None else 0
    size = len(task.data[0].embedding) if task.data else 0
    line = f"{task.task_id}  {task.status!s:<10}  {vectors} vectors"
    if size:
        line += f" of {size}"
    if task.error is not None:
        line += f"  error: {task.error.message}"
    return line


def _summary_json(task: EmbeddingTask) -> str:
    data = task.data or ()
    return to_json(
        {
            "task_id": task.task_id,
            "status": str(task.status),
            "vectors": len(data),
            "dimension": len(data[0].embedding) if data else None,
            "error": task.error.message if task.error is not None else None,
        }
    )


def _show(task: EmbeddingTask) -> None:
    print(_summary(task))
    for item in task.data or ():
        where = ""
        if item.start_sec is not None:
            where = f"{item.start_sec:g}-{item.end_sec:g}s"
        elif item.start_page_number is not None:
            where = f"page {item.start_page_number}"
        head = ", ".join(f"{v:.4f}" for v in item.embedding[:3])
        print(
            f"  {item.embedding_option!s:<13} {item.embedding_scope!s:<6} {where:<14} [{head}, ...]"
        )


async def _create(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        if args.text is not None:
            result = await client.embed.create(
                text=args.text, model_name=args.model, embedding_dimension=args.dimension
            )
            print(to_json(result) if args.json else to_json(result.embedding.tolist()))
            return EXIT_OK
        task = await client.embed.tasks.create(
            model_name=args.model, embedding_dimension=args.dimension, **args.inputs
        )
        if not args.wait:
            print(to_json(task) if args.json else task.task_id)
            return EXIT_OK
        print(f"created {task.task_id}; waiting", file=sys.stderr)
        task = await client.embed.tasks.wait(task.task_id, timeout=args.timeout)
    print(to_json(task)) if args.json else _show(task)
    return EXIT_OK if task.status == "ready" else EXIT_SOME_FAILED


async def _get(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        task = await client.embed.tasks.retrieve(args.task_id)
    print(to_json(task)) if args.json else _show(task)
    return EXIT_OK


def _summary_line(item: EmbeddingTaskSummary) -> str:
    created = item.created_at.isoformat() if item.created_at else "-"
    return f"{item.task_id}  {item.status or '-':<10}  {created}  {item.model_name}"


async def _list(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        tasks = client.embed.tasks.list(status=args.status, page_limit=page_limit(args))
        return await print_listed(tasks, args, _summary_line)


def _check_watch(args: argparse.Namespace) -> None:
    args.ids = read_ids(args)
    if not args.ids:
        raise UsageError("no task ids: pass ids, --from-file FILE, or - to read them from stdin")


async def _watch(args: argparse.Namespace) -> int:
    ids: list[str] = args.ids
    started = time.monotonic()
    finished: list[EmbeddingTask] = []
    tracker: ObjectTracker[EmbeddingTask] | None = None
    async with make_client(args) as client:
        await client.embed.tasks.list(page_limit=1).page(1)  # a wrong key or URL, said at once
        try:
            async with client.embed.tasks.track(
                ids, timeout=args.timeout, on_error="collect"
            ) as tracker:
                async for task in tracker:
                    finished.append(task)
                    print(_summary_json(task) if args.json else _summary(task), flush=True)
                    print(f"{len(finished)}/{len(ids)} finished", file=sys.stderr)
        finally:
            if tracker is not None:
                _print_summary(tracker, finished, started, base_url_of(args))
    if tracker is not None and tracker.errors:
        return EXIT_API
    done = len(finished) == len(ids) and all(t.status == "ready" for t in finished)
    return EXIT_OK if done else EXIT_SOME_FAILED


def _print_summary(
    tracker: ObjectTracker[EmbeddingTask],
    finished: list[EmbeddingTask],
    started: float,
    base_url: str,
) -> None:
    counts = Counter(str(t.status) for t in finished)
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    elapsed = time.monotonic() - started
    out = sys.stderr
    print(
        f"{len(finished)} finished in {elapsed:.1f}s" + (f": {by_status}" if counts else ""),
        file=out,
    )
    stats = tracker.stats
    print(f"requests: {stats.total_requests}, sweeps {stats.sweeps}", file=out)
    for task_id, exc in sorted(tracker.errors.items()):
        print(f"error    {task_id}  {describe(exc, base_url)}", file=out)
    if tracker.pending:
        print(f"not finished: {len(tracker.pending)}", file=out)
