"""`twelvelabs-async simulate`: serve the simulated API until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import attrs

from .._validate import check_http_url
from ..errors import ConfigurationError, InvalidInputError
from ..testing import Faults, Simulator, SimulatorConfig, Webhooks, simulate
from ._common import EXIT_USAGE, error
from ._flags import UsageError, finite, number, port
from ._ids import format_ids

DEFAULT_KEY = attrs.fields(SimulatorConfig).api_key.default


def add_simulate_parser(commands: Any) -> None:
    """Register the `simulate` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "simulate",
        help="serve a simulated TwelveLabs API on this machine",
        description=(
            "Serve a simulated TwelveLabs API (the /v1.3 analyze endpoints) until Ctrl-C. "
            "Prints the base URL and API key to use."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=port, default=8000, help="port (default: 8000); 0 picks a free one"
    )
    p.add_argument(
        "--api-key",
        default=argparse.SUPPRESS,
        metavar="KEY",
        help=f"the key to accept (default: {DEFAULT_KEY})",
    )
    p.add_argument(
        "--seed", type=number("--seed", integer=True), default=0, help="seed of every random choice"
    )
    p.add_argument(
        "--rpm",
        type=number("--rpm", integer=True, low=1),
        default=None,
        metavar="N",
        help="requests per minute (default: no limit)",
    )
    p.add_argument("--retry-after", action="store_true", help="send Retry-After on 429")
    _seconds_range(
        p, "--duration", (5.0, 30.0), "seconds from creation to a terminal status (default: 5 30)"
    )
    p.add_argument(
        "--failure-rate",
        type=_probability("--failure-rate"),
        default=0.0,
        metavar="P",
        help="share of tasks failing",
    )
    for name, what in (
        ("5xx", "answer 5xx"),
        ("reset", "reset the connection"),
        ("latency", "add latency"),
        ("malformed", "answer a cut-off 200"),
    ):
        p.add_argument(
            f"--fault-{name}",
            type=_probability(f"--fault-{name}"),
            default=0.0,
            metavar="P",
            help=f"probability to {what}",
        )
    hooks = p.add_argument_group(
        "webhooks", "signed analyze.task.* deliveries when tasks end (none without a URL)"
    )
    hooks.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        metavar="URL",
        type=_url,
        help="POST each event here (repeat for several endpoints)",
    )
    secret = attrs.fields(Webhooks).secret.default
    hooks.add_argument(
        "--webhook-secret",
        default=secret,
        metavar="SECRET",
        help="the signing secret (default: %(default)s)",
    )
    _seconds_range(
        hooks, "--webhook-delay", (0.0, 0.0), "seconds from a task's end to the first try"
    )
    hooks.add_argument(
        "--webhook-drop",
        type=_probability("--webhook-drop"),
        default=0.0,
        metavar="P",
        help="probability that an event is lost",
    )
    hooks.add_argument(
        "--webhook-duplicate",
        type=_probability("--webhook-duplicate"),
        default=0.0,
        metavar="P",
        help="probability that a delivered event is sent twice",
    )
    p.add_argument(
        "--seed-tasks",
        type=number("--seed-tasks", integer=True, low=0),
        default=0,
        metavar="N",
        help="create N tasks now",
    )
    p.add_argument(
        "--ids-file",
        default=None,
        metavar="FILE",
        help="write the seeded task ids here, one a line (what `tasks watch --from-file` reads)",
    )
    p.add_argument(
        "--timeline-file",
        default=None,
        metavar="FILE",
        help="write each seeded task's task_id, created_at, terminal_at (epoch seconds) and "
        "final status here (JSON list, oldest first)",
    )
    p.add_argument(
        "--stats-file",
        default=None,
        metavar="FILE",
        help="on exit, write the requests received by route and status here (JSON list)",
    )
    p.set_defaults(run=run_simulate, check=_check)


class _Range(argparse.Action):
    """Stores `MIN MAX` as a pair of floats, refusing MAX < MIN."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        low, high = values
        if high < low:
            parser.error(f"{option_string} MIN MAX: MAX ({high:g}) is below MIN ({low:g})")
        setattr(namespace, self.dest, (low, high))


def _seconds_range(parser: Any, flag: str, default: tuple[float, float], help: str) -> None:
    """Add `flag MIN MAX`: a range of seconds (MIN may be negative: already past)."""
    parser.add_argument(
        flag,
        type=finite,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=default,
        help=help,
        action=_Range,
    )


def _probability(flag: str) -> Any:
    """An argparse `type`: a probability, 0 to 1."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(f"{flag}: {text!r} is not a probability (0 to 1)")
        return value

    return parse


def _url(text: str) -> str:
    try:
        return check_http_url(text, "--webhook-url")
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check(args: argparse.Namespace) -> None:
    """What the flags cannot say alone: the key, files that cannot be written, `--base-url`."""
    if hasattr(args, "base_url"):
        raise UsageError(
            "--base-url is for the commands that talk to an API; simulate serves one "
            "(choose where with --host and --port)"
        )
    key = getattr(args, "api_key", DEFAULT_KEY)
    if not key or not key.isprintable() or any(c.isspace() for c in key):
        raise UsageError("--api-key must be a non-empty key without spaces or control characters")
    for flag in ("ids_file", "timeline_file", "stats_file"):
        path = getattr(args, flag)
        if path is not None:
            folder = Path(path).parent
            if not folder.is_dir() or not os.access(folder, os.W_OK):
                raise UsageError(
                    f"--{flag.replace('_', '-')} {path}: cannot write there "
                    f"({'no such folder' if not folder.is_dir() else 'permission denied'})"
                )


def run_simulate(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit code 0 (2 for settings the simulator refuses)."""
    try:
        config = _config(args)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(config, args))
    except (ConfigurationError, InvalidInputError, UsageError) as exc:
        error(str(exc))
        return EXIT_USAGE
    return 0


def _cannot_listen(exc: OSError, host: str, port: int) -> UsageError:
    """The bind failure in words: which flag to change."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        reason = f"{where} is already in use; pick another --port, or --port 0 for a free one"
    elif exc.errno == errno.EACCES:
        reason = f"{where} needs privileges; pick a --port above 1023, or --port 0"
    elif exc.errno == errno.EADDRNOTAVAIL:
        reason = f"{host} is not an address of this machine; check --host"
    elif isinstance(exc, socket.gaierror):
        reason = f"the host {host!r} cannot be resolved; check --host (e.g. 127.0.0.1)"
    else:
        reason = f"{exc.strerror or exc}; check --host and --port"
    return UsageError(f"cannot serve on {where}: {reason}")


def _config(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        api_key=str(getattr(args, "api_key", DEFAULT_KEY)),
        seed=args.seed,
        duration=(args.duration[0], args.duration[1]),
        failure_rate=args.failure_rate,
        rpm=args.rpm,
        retry_after=args.retry_after,
        faults=Faults(
            error_5xx=args.fault_5xx,
            reset=args.fault_reset,
            latency=args.fault_latency,
            malformed=args.fault_malformed,
        ),
        webhooks=_webhooks(args),
    )


def _webhooks(args: argparse.Namespace) -> Webhooks | None:
    if not args.webhook_url:
        return None
    return Webhooks(
        tuple(args.webhook_url),
        secret=args.webhook_secret,
        delay=(args.webhook_delay[0], args.webhook_delay[1]),
        drop=args.webhook_drop,
        duplicate=args.webhook_duplicate,
    )


async def _serve(config: SimulatorConfig, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        server = simulate(config, host=args.host, port=args.port)
        sim = await server.__aenter__()
    except OSError as exc:
        raise _cannot_listen(exc, args.host, args.port) from None
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_exit(server)
        if args.seed_tasks:
            ids = await sim.seed_tasks(args.seed_tasks)
            if args.ids_file:
                await _write(args.ids_file, format_ids(ids), "--ids-file")
            if args.timeline_file:
                timeline = [_timeline(sim, task_id) for task_id in ids]
                await _write(args.timeline_file, json.dumps(timeline), "--timeline-file")
        print(f"TWELVELABS_BASE_URL={sim.base_url}", flush=True)
        print(f"TWELVELABS_API_KEY={sim.api_key}", flush=True)
        print("serving; press Ctrl-C to stop", file=sys.stderr, flush=True)
        await stop.wait()
        if args.stats_file:
            counts = sorted(sim.stats.requests.items())
            stats = json.dumps([[r, s, n] for (r, s), n in counts])
            await _write(args.stats_file, stats, "--stats-file")


def _timeline(sim: Simulator, task_id: str) -> dict[str, Any]:
    task = sim._app.store.get(task_id)
    assert task is not None
    return {
        "task_id": task_id,
        "created_at": task.created,
        "terminal_at": sim.terminal_at[task_id],
        "status": sim.final_status(task_id),
    }


async def _write(path: str, text: str, flag: str) -> None:
    try:
        await asyncio.to_thread(Path(path).write_text, text, "utf-8")
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write it: {exc.strerror or exc}") from None
