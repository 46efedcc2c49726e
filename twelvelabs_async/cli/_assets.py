"""`assets get|list|delete`: the files uploaded once, then analyzed, indexed or embedded."""

from __future__ import annotations

import argparse
from typing import Any, get_args

from ..models import AssetDetail, AssetType
from ._common import EXIT_OK, add_client_options, make_client, run, to_json
from ._flags import UsageError, choice, number
from ._ids import checked_ids

TYPES: list[str] = list(get_args(AssetType))


def add_asset_parsers(commands: Any) -> None:
    """Register `assets ...`."""
    assets = commands.add_parser("assets", help="assets (uploaded files): get, list, delete")
    sub = assets.add_subparsers(dest="action", metavar="ACTION", required=True)

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
    lst.add_argument(
        "--limit",
        type=number("--limit", integer=True, low=1),
        default=None,
        metavar="N",
        help="stop after N assets (N >= 1)",
    )
    lst.add_argument("--json", action="store_true", help="print JSON Lines")
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
    count = 0
    page_limit = min(50, args.limit) if args.limit is not None else 50
    async with make_client(args) as client:
        listing = client.assets.list(
            asset_ids=args.ids,
            asset_types=args.types,
            filename=args.filename,
            page_limit=page_limit,
        )
        async for asset in listing:
            print(to_json(asset) if args.json else line(asset), flush=True)
            count += 1
            if args.limit is not None and count >= args.limit:
                break
    return EXIT_OK


async def _delete(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        await client.assets.delete(args.asset_id, force=args.force)
    print(f"{args.asset_id} deleted")
    return EXIT_OK
