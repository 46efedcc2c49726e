"""`assets upload|get|list|delete`: the files uploaded once, then analyzed, indexed or embedded."""

from __future__ import annotations

import argparse
import sys
from typing import Any, get_args

import anyio

from ..assets._upload import plan
from ..errors import InvalidInputError, UploadInterruptedError
from ..models import Asset, AssetDetail, AssetType
from ._common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    add_client_options,
    add_list_options,
    make_client,
    page_limit,
    print_listed,
    run,
    to_json,
)
from ._flags import SECONDS, UsageError, choice, in_flag_terms, number
from ._ids import checked_ids
from ._uploading import UploadDisplay

TYPES: list[str] = list(get_args(AssetType))


def add_asset_parsers(commands: Any) -> None:
    """Register `assets ...`."""
    assets = commands.add_parser(
        "assets", help="assets (uploaded files): upload, get, list, delete"
    )
    sub = assets.add_subparsers(dest="action", metavar="ACTION", required=True)

    upload = sub.add_parser(
        "upload",
        help="upload files as assets, with progress",
        description=(
            "Upload local files as assets: directly, or in resumable chunks when large. Prints "
            "a line per asset (stdout); progress and a summary go to stderr. Every file is "
            "checked before the first byte is sent."
        ),
    )
    upload.add_argument("files", nargs="+", metavar="FILE")
    upload.add_argument(
        "--wait", action="store_true", help="wait until each asset is ready (or failed)"
    )
    upload.add_argument(
        "--index",
        metavar="INDEX_ID",
        help="then index each ready asset in this index (implies waiting until it is ready)",
    )
    upload.add_argument(
        "--timeout",
        type=SECONDS,
        default=None,
        metavar="SECONDS",
        help="with --wait or --index: stop waiting for an asset after this long",
    )
    upload.add_argument(
        "--concurrency",
        type=number("--concurrency", integer=True, low=1, high=64),
        default=4,
        metavar="N",
        help="chunks sent at once for a large file (1-64, default 4)",
    )
    upload.add_argument(
        "--resume",
        metavar="UPLOAD_ID",
        help="resume this interrupted upload of the one FILE (only its missing chunks are sent)",
    )
    upload.add_argument("--json", action="store_true", help="print JSON Lines; plain progress")
    upload.set_defaults(run=lambda a: run(a, lambda: _upload(a)), check=_check_upload)

    get = sub.add_parser("get", help="show one asset")
    get.add_argument("asset_id")
    get.add_argument("--json", action="store_true", help="print the asset as JSON")
    get.set_defaults(run=lambda a: run(a, lambda: _get(a)), check=_check_get)

    lst = sub.add_parser("list", help="list assets, newest first (every page)")
    lst.add_argument(
        "--type",
        dest="types",
        action="append",
        type=choice("--type", TYPES),
        metavar="TYPE",
        help=f"only assets of this kind (repeatable): {', '.join(TYPES)}",
    )
    lst.add_argument("--filename", help="only assets whose file name contains this")
    lst.add_argument(
        "--id",
        dest="ids",
        action="append",
        metavar="ASSET_ID",
        help="only this asset (repeatable; at most 50)",
    )
    add_list_options(lst, "assets")
    lst.set_defaults(run=lambda a: run(a, lambda: _list(a)), check=_check_list)

    delete = sub.add_parser(
        "delete",
        help="delete an asset",
        description="Delete an asset. Refused while indexed assets use it, unless --force.",
    )
    delete.add_argument("asset_id")
    delete.add_argument(
        "--force", action="store_true", help="delete it even if indexed assets use it"
    )
    delete.set_defaults(run=lambda a: run(a, lambda: _delete(a)), check=_check_get)

    add_client_options(assets)
    for parser in sub.choices.values():
        add_client_options(parser)


def line(asset: AssetDetail) -> str:
    """One asset as one line: id, status, kind, size, name."""
    size = f"{asset.size:,} B" if asset.size is not None else "-"
    return (
        f"{asset.asset_id}  {asset.status!s:<10}  {asset.file_type or '-':<16}  "
        f"{size:>15}  {asset.filename or '-'}"
    )


def _check_upload(args: argparse.Namespace) -> None:
    for path in args.files:
        try:
            plan(path, None, None if args.resume is None else True)
        except InvalidInputError as exc:
            raise UsageError(in_flag_terms(str(exc))) from None
    if args.index is not None:
        (args.index,) = checked_ids([args.index])
    if args.timeout is not None and not (args.wait or args.index):
        raise UsageError("--timeout needs --wait or --index: it bounds the wait for ready")
    if args.resume is not None:
        (args.resume,) = checked_ids([args.resume])
        if len(args.files) != 1:
            raise UsageError("--resume continues the upload of one file: give exactly one FILE")


async def _upload(args: argparse.Namespace) -> int:
    files: list[str] = list(dict.fromkeys(args.files))
    waiting = args.wait or args.index is not None
    results: dict[str, Asset] = {}
    async with make_client(args) as client:
        if args.index is not None:  # a wrong index id is said before any byte goes up
            await client.indexes.retrieve(args.index)
        with UploadDisplay(files, plain=args.json) as display:
            limit = anyio.Semaphore(2)

            async def one(path: str) -> None:
                async with limit:
                    try:
                        asset: Asset = await client.assets.upload(
                            path,
                            progress=display.callback(path),
                            upload_id=args.resume,
                            concurrency=args.concurrency,
                            multipart=True if args.resume is not None else None,
                        )
                    except UploadInterruptedError as exc:
                        print(
                            f"{path}: to resume the upload, run: twelvelabs-async assets upload "
                            f"{path} --resume {exc.upload_id}",
                            file=sys.stderr,
                        )
                        raise
                if waiting:
                    display.stage(path, "waiting until ready")
                    asset = await client.assets.wait(asset.asset_id, timeout=args.timeout)
                    display.stage(path, str(asset.status))
                results[path] = asset

            async with anyio.create_task_group() as group:
                for path in files:
                    group.start_soon(one, path)
        indexed: dict[str, str] = {}
        if args.index is not None:
            for path in files:
                asset = results[path]
                if asset.status == "ready":
                    ref = await client.indexes.indexed_assets.create(args.index, asset.asset_id)
                    indexed[path] = ref.indexed_asset_id
            if args.wait:
                async with client.indexes.indexed_assets.track(
                    args.index, list(indexed.values()), timeout=args.timeout
                ) as tracker:
                    async for _ in tracker:
                        pass
    for path in files:
        asset = results[path]
        if args.json:
            line_json: dict[str, Any] = {"file": path, "asset": asset}
            if path in indexed:
                line_json["indexed_asset_id"] = indexed[path]
            print(to_json(line_json))
        else:
            extra = f"  indexed {indexed[path]}" if path in indexed else ""
            print(f"{asset.asset_id}  {asset.status!s:<10}  {path}{extra}")
    print(display.summary(), file=sys.stderr)
    failed = waiting and any(a.status != "ready" for a in results.values())
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _check_get(args: argparse.Namespace) -> None:
    (args.asset_id,) = checked_ids([args.asset_id])


def _check_list(args: argparse.Namespace) -> None:
    args.ids = checked_ids(args.ids) if args.ids else None
    if args.ids is not None and len(args.ids) > 50:
        raise UsageError(f"--id: at most 50 ids, got {len(args.ids)}")


async def _get(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        asset = await client.assets.retrieve(args.asset_id)
    if args.json:
        print(to_json(asset))
        return EXIT_OK
    print(line(asset))
    if asset.error is not None:
        print(f"error: {asset.error.message}")
    return EXIT_OK


async def _list(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        listing = client.assets.list(
            asset_ids=args.ids,
            asset_types=args.types,
            filename=args.filename,
            page_limit=page_limit(args),
        )
        return await print_listed(listing, args, line)


async def _delete(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        await client.assets.delete(args.asset_id, force=args.force)
    print(f"{args.asset_id} deleted")
    return EXIT_OK
