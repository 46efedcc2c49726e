"""The `twelvelabs-async` command line.

`simulate` needs only the core install; commands added by the `cli` extra import rich lazily.
Nothing in the library imports this package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__
from ._common import EXIT_USAGE
from ._simulate import add_simulate_parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="twelvelabs-async",
        description="Command-line tools for the TwelveLabs API (asyncio client).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_simulate_parser(commands)
    try:
        from ._demo import add_demo_parser
        from ._tasks import add_task_parsers
    except ImportError as exc:  # pragma: no cover - a broken install
        parser.epilog = f"other commands are unavailable: {exc}"
    else:
        add_task_parsers(commands)
        add_demo_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for usage errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    code: int = args.run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
