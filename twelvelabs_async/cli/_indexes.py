"""`indexes create|get|list|update|delete` and `indexes assets add|get|list|delete|watch`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any

from .._validate import check_user_metadata
from ..errors import InvalidInputError
from ..indexes import _checks
from ..models import Index, IndexedAsset, IndexedAssetStatus, Range
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
from ._ids import checked_ids, parse_ids


def add_index_parsers(commands: Any) -> None:
    """Register `indexes ...` and `indexes assets ...`."""
    indexes = commands.add_parser("indexes", help="indexes and their indexed assets")
    sub = indexes.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="create an index; prints its id")
    create.add_argument("name", help="the index's name (unique in the account)")
    create.add_argument(
        "--model", default="marengo3.0", metavar="NAME", help="the model (default marengo3.0)"
    )
    create.add_argument(
        "--options",
        default="visual,audio",
        metavar="LIST",
        help="what the model analyzes, comma-separated (default visual,audio)",
    )
    create.add_argument(
        "--addon",
        action="append",
        default=[],
        metavar="ADDON",
        help="an add-on, e.g. thumbnail (repeatable)",
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=lambda a: run(a, lambda: _create(a)), check=_check_create)

    get = sub.add_parser("get", help="show one index")
    get.add_argument("index_id")
    get.add_argument("--json", action="store_true", help="print the index as JSON")
    get.set_defaults(run=lambda a: run(a, lambda: _get(a)), check=_check_ids)

    lst = sub.add_parser("list", help="list indexes, newest first (every page)")
    lst.add_argument("--name", metavar="NAME", help="only the index with this name")
    lst.add_argument(
        "--model-family", type=choice("--model-family", _checks.MODEL_FAMILIES), metavar="FAMILY"
    )
    add_list_options(lst, "indexes")
    lst.set_defaults(run=lambda a: run(a, lambda: _list(a)), check=_check_list)

    update = sub.add_parser("update", help="rename an index")
    update.add_argument("index_id")
    update.add_argument("--name", required=True, metavar="NAME", help="the new name")
    update.set_defaults(run=lambda a: run(a, lambda: _update(a)), check=_check_update)

    delete = sub.add_parser("delete", help="delete an index and everything indexed in it")
    delete.add_argument("index_id")
    delete.set_defaults(run=lambda a: run(a, lambda: _delete(a)), check=_check_ids)

    assets = sub.add_parser("assets", help="indexed assets: add, get, list, delete, watch")
    items = assets.add_subparsers(dest="item_action", metavar="ACTION", required=True)
    _add_item_parsers(items)

    add_client_options(indexes)
    for parser in (*sub.choices.values(), *items.choices.values()):
        add_client_options(parser)


def _add_item_parsers(items: Any) -> None:
    add = items.add_parser(
        "add",
        help="index ready assets; prints each indexed asset's id",
        description="Index ready assets (one indexed asset per asset id).",
    )
    add.add_argument("index_id")
    add.add_argument("asset_ids", nargs="+", metavar="ASSET_ID")
    add.add_argument("--video-stream", action="store_true", help="also produce an HLS stream")
    add.add_argument("--metadata", metavar="JSON", help="user metadata, a JSON object")
    add.add_argument("--wait", action="store_true", help="wait until each is ready or failed")
    add.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="with --wait: give up waiting after this long (indexing goes on)",
    )
    add.add_argument("--json", action="store_true", help="print JSON Lines")
    add.set_defaults(run=lambda a: run(a, lambda: _add(a)), check=_check_add)

    get = items.add_parser("get", help="show one indexed asset")
    get.add_argument("index_id")
    get.add_argument("indexed_asset_id")
    get.add_argument("--transcription", action="store_true", help="include the transcription")
    get.add_argument("--json", action="store_true", help="print JSON")
    get.set_defaults(run=lambda a: run(a, lambda: _item_get(a)), check=_check_ids)

    lst = items.add_parser("list", help="list an index's indexed assets (every page)")
    lst.add_argument("index_id")
    statuses = [str(s) for s in IndexedAssetStatus]
    lst.add_argument(
        "--status",
        action="append",
        type=choice("--status", statuses),
        metavar="STATUS",
        help=f"only this status (repeatable): {', '.join(statuses)}",
    )
    lst.add_argument("--filename", metavar="NAME", help="only this file name")
    lst.add_argument("--min-duration", type=number("--min-duration", low=0), metavar="SECONDS")
    lst.add_argument("--max-duration", type=number("--max-duration", low=0), metavar="SECONDS")
    add_list_options(lst, "indexed assets")
    lst.set_defaults(run=lambda a: run(a, lambda: _item_list(a)), check=_check_item_list)

    delete = items.add_parser("delete", help="remove an indexed asset (the asset stays)")
    delete.add_argument("index_id")
    delete.add_argument("indexed_asset_id")
    delete.set_defaults(run=lambda a: run(a, lambda: _item_delete(a)), check=_check_ids)

    watch = items.add_parser(
        "watch",
        help="follow indexed assets until each is ready or failed",
        description=(
            "Follow indexed assets of one index until each finishes; print each as it "
            "finishes (stdout), with progress and a summary on stderr."
        ),
    )
    watch.add_argument("index_id")
    watch.add_argument("ids", nargs="*", metavar="ID", help="indexed asset ids, or - for stdin")
    watch.add_argument("--from-file", metavar="FILE", help="read ids from FILE, one a line")
    watch.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="give up after this long (indexing goes on)",
    )
    watch.add_argument("--json", action="store_true", help="JSON Lines on stdout")
    watch.set_defaults(run=lambda a: run(a, lambda: _watch(a)), check=_check_watch)


# --- checks: every flag before any request -------------------------------------------------------


def _usage(exc: InvalidInputError) -> UsageError:
    return UsageError(str(exc))


def _check_ids(args: argparse.Namespace) -> None:
    for name in ("index_id", "indexed_asset_id"):
        value = getattr(args, name, None)
        if value is not None:
            try:
                checked_ids([value])
            except UsageError as exc:
                raise UsageError(str(exc).replace("id ", f"{name} ", 1)) from None


def _check_create(args: argparse.Namespace) -> None:
    try:
        _checks.index_name(args.name)
        options = [o.strip() for o in args.options.split(",") if o.strip()]
        args.models = _checks.models_body({args.model: options})
        args.addons = _checks.strings(args.addon, "--addon") or None
    except InvalidInputError as exc:
        raise _usage(exc) from None


def _check_list(args: argparse.Namespace) -> None:
    if args.name is not None:
        try:
            _checks.index_name(args.name)
        except InvalidInputError as exc:
            raise UsageError(str(exc).replace("index_name", "--name")) from None


def _check_update(args: argparse.Namespace) -> None:
    _check_ids(args)
    _check_list(args)


def _check_add(args: argparse.Namespace) -> None:
    _check_ids(args)
    args.asset_ids = list(dict.fromkeys(checked_ids(args.asset_ids)))
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout needs --wait: it bounds the wait for indexing to end")
    args.user_metadata = None
    if args.metadata is not None:
        try:
            args.user_metadata = check_user_metadata(json.loads(args.metadata), "--metadata")
        except json.JSONDecodeError as exc:
            raise UsageError(f"--metadata is not JSON: {exc.msg}") from None
        except InvalidInputError as exc:
            raise _usage(exc) from None


def _check_item_list(args: argparse.Namespace) -> None:
    _check_ids(args)
    low, high = args.min_duration, args.max_duration
    if low is not None and high is not None and low > high:
        raise UsageError("--min-duration is above --max-duration: nothing could match")
    args.duration = None if low is None and high is None else Range(gte=low, lte=high)


def _check_watch(args: argparse.Namespace) -> None:
    _check_ids(args)
    ids = checked_ids(i for i in args.ids if i != "-")
    if "-" in args.ids:
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
    args.ids = list(dict.fromkeys(ids))
    if not args.ids:
        raise UsageError("no indexed asset ids: pass ids, --from-file FILE, or - for stdin")


# --- indexes ---------------------------------------------------------------------------------


def _index_line(index: Index) -> str:
    models = ",".join(
        f"{m.model_name}({'+'.join(m.model_options or ())})" for m in index.models or ()
    )
    count = int(index.video_count) if index.video_count is not None else 0
    return f"{index.index_id}  {index.index_name or '-'}  {models or '-'}  {count} videos"


async def _create(args: argparse.Namespace) -> int:
    models = {m["model_name"]: m["model_options"] for m in args.models}
    async with make_client(args) as client:
        ref = await client.indexes.create(args.name, models=models, addons=args.addons)
    print(to_json(ref) if args.json else ref.index_id)
    return EXIT_OK


async def _get(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        index = await client.indexes.retrieve(args.index_id)
    print(to_json(index) if args.json else _index_line(index))
    return EXIT_OK


async def _list(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        found = client.indexes.list(
            index_name=args.name, model_family=args.model_family, page_limit=page_limit(args)
        )
        return await print_listed(found, args, _index_line)


async def _update(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        await client.indexes.update(args.index_id, index_name=args.name)
    print(f"{args.index_id} renamed")
    return EXIT_OK


async def _delete(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        await client.indexes.delete(args.index_id)
    print(f"{args.index_id} deleted")
    return EXIT_OK


# --- indexed assets --------------------------------------------------------------------------


def _item_line(item: IndexedAsset) -> str:
    meta = item.system_metadata
    name = meta.filename if meta is not None and meta.filename else "-"
    return f"{item.indexed_asset_id}  {item.status!s:<10}  {item.asset_id or '-'}  {name}"


async def _add(args: argparse.Namespace) -> int:
    ids: list[str] = []
    async with make_client(args) as client:
        items = client.indexes.indexed_assets
        for asset_id in args.asset_ids:
            ref = await items.create(
                args.index_id,
                asset_id,
                enable_video_stream=True if args.video_stream else None,
                user_metadata=args.user_metadata,
            )
            ids.append(ref.indexed_asset_id)
            if not args.wait:
                print(to_json(ref) if args.json else ref.indexed_asset_id, flush=True)
        if not args.wait:
            return EXIT_OK
        print(f"added {len(ids)}; waiting", file=sys.stderr)
        return await _follow(client, args, ids)


async def _item_get(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        item = await client.indexes.indexed_assets.retrieve(
            args.index_id, args.indexed_asset_id, transcription=args.transcription
        )
    if args.json:
        print(to_json(item))
        return EXIT_OK
    print(_item_line(item))
    for entry in item.transcription or ():
        print(f"{entry.start or 0:8.2f}  {entry.value or ''}")
    return EXIT_OK


async def _item_list(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        found = client.indexes.indexed_assets.list(
            args.index_id,
            status=args.status,
            filename=args.filename,
            duration=args.duration,
            page_limit=page_limit(args),
        )
        return await print_listed(found, args, _item_line)


async def _item_delete(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        await client.indexes.indexed_assets.delete(args.index_id, args.indexed_asset_id)
    print(f"{args.indexed_asset_id} deleted")
    return EXIT_OK


async def _watch(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        # One cheap request first: a wrong key, base URL or index is said at once.
        await client.indexes.retrieve(args.index_id)
        return await _follow(client, args, args.ids)


async def _follow(client: Any, args: argparse.Namespace, ids: list[str]) -> int:
    """Track `ids` to the end: each on stdout as it finishes, progress and summary on stderr."""
    started = time.monotonic()
    finished: list[IndexedAsset] = []
    tracker = client.indexes.indexed_assets.track(
        args.index_id, ids, timeout=args.timeout, on_error="collect"
    )
    try:
        async with tracker:
            async for item in tracker:
                finished.append(item)
                print(to_json(item) if args.json else _item_line(item), flush=True)
                print(f"{len(finished)}/{len(ids)} done", file=sys.stderr, flush=True)
    finally:
        counts = Counter(str(i.status) for i in finished)
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        elapsed = time.monotonic() - started
        print(
            f"{len(finished)} finished in {elapsed:.1f}s" + (f": {by_status}" if counts else ""),
            file=sys.stderr,
        )
        for item_id, exc in sorted(tracker.errors.items()):
            print(f"error    {item_id}  {describe(exc, base_url_of(args))}", file=sys.stderr)
        if tracker.pending:
            print(f"not finished: {len(tracker.pending)}", file=sys.stderr)
    if tracker.errors:
        return EXIT_API
    ok = len(finished) == len(ids) and all(i.status == "ready" for i in finished)
    return EXIT_OK if ok else EXIT_SOME_FAILED
