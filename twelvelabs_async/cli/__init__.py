"""The `twelvelabs-async` command line.

`simulate` needs only the core install; commands added by the `cli` extra import rich lazily.
Nothing in the library imports this package.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
from collections.abc import Sequence

from .._client import API_KEY_ENV
from .._version import __version__
from ._common import EXIT_USAGE, PROG, add_client_options, error
from ._flags import Parser, UsageError
from ._simulate import add_simulate_parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = Parser(
        prog="twelvelabs-async",
        description="Command-line tools for the TwelveLabs API (asyncio client).",
        epilog="--api-key and --base-url may stand before the command or after it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_client_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_simulate_parser(commands)
    try:
        from ._assets import add_asset_parsers
        from ._demo import add_demo_parser
        from ._embed import add_embed_parsers
        from ._indexes import add_index_parsers
        from ._tasks import add_task_parsers
    except ImportError as exc:  # pragma: no cover - a broken install
        parser.epilog = f"other commands are unavailable: {exc}"
    else:
        add_task_parsers(commands)
        add_asset_parsers(commands)
        add_embed_parsers(commands)
        add_index_parsers(commands)
        add_demo_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for usage errors)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    PROG[0] = "twelvelabs-async"
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = parser.parse_args(argv)
            words = [getattr(args, name, None) for name in ("command", "action", "item_action")]
            PROG[0] = " ".join(["twelvelabs-async", *(w for w in words if w)])
            check = getattr(args, "check", None)
            if check is not None:  # every flag is checked before any request or server start
                check(args)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        sys.stderr.write(_redact(errors.getvalue(), argv))
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    except UsageError as exc:
        error(str(exc), errors)
        sys.stderr.write(_redact(errors.getvalue(), argv))
        return EXIT_USAGE
    sys.stderr.write(errors.getvalue())
    code: int = args.run(args)
    return code


def _redact(text: str, argv: Sequence[str]) -> str:
    """Hide API keys in a usage error, which quotes misplaced arguments as it found them.

    A key given where no flag takes it (a typo: `tasks list --api-kee K`, or a stray word:
    `simulate --port 0 K`) is quoted back by argparse. The value after any abbreviation of
    `--api-key` or a flag that looks like a misspelt one (`--apikey`, `--key`), the key in the
    environment, and any word shaped like a TwelveLabs key (`tlk_...`) are replaced by `***`.
    """
    secrets = {os.environ.get(API_KEY_ENV, "")}
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if flag.startswith("--") and (
            (len(flag) > 2 and "--api-key".startswith(flag)) or "api" in flag or "key" in flag
        ):
            secrets.add(value if eq else (argv[i + 1] if i + 1 < len(argv) else ""))
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return re.sub(r"\btlk_[A-Za-z0-9_-]{8,}", "***", text)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
