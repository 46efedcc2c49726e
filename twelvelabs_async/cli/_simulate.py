"""`twelvelabs-async simulate`: serve the simulated API until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

import attrs

from ..errors import ConfigurationError, InvalidInputError
from ..testing import Faults, Simulator, SimulatorConfig, Webhooks, simulate
from ._common import EXIT_USAGE, error, finite


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
    p.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    p.add_argument("--api-key", default="tlk_simulator_key", help="the key to accept")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    p.add_argument("--rpm", type=int, default=None, help="requests per minute (default: none)")
    p.add_argument("--retry-after", action="store_true", help="send Retry-After on 429")
    _seconds_range(
        p, "--duration", (5.0, 30.0), "seconds from creation to a terminal status (default: 5 30)"
    )
    p.add_argument("--failure-rate", type=_probability, default=0.0, help="share of tasks failing")
    for name, what in (
        ("5xx", "answer 5xx"),
        ("reset", "reset the connection"),
        ("latency", "add latency"),
        ("malformed", "answer a cut-off 200"),
    ):
        p.add_argument(f"--fault-{name}", type=_probability, default=0.0, metavar="P",
                       help=f"probability to {what}")  # fmt: skip
    hooks = p.add_argument_group(
        "webhooks", "signed analyze.task.* deliveries when tasks end (none without a URL)"
    )
    hooks.add_argument("--webhook-url", action="append", default=[], metavar="URL",
                       help="POST each event here (repeat for several endpoints)")  # fmt: skip
    secret = attrs.fields(Webhooks).secret.default
    hooks.add_argument("--webhook-secret", default=secret, metavar="SECRET",
                       help="the signing secret (default: %(default)s)")  # fmt: skip
    _seconds_range(
        hooks, "--webhook-delay", (0.0, 0.0), "seconds from a task's end to the first try"
    )
    hooks.add_argument("--webhook-drop", type=_probability, default=0.0, metavar="P",
                       help="probability that an event is lost")  # fmt: skip
    hooks.add_argument("--webhook-duplicate", type=_probability, default=0.0, metavar="P",
                       help="probability that a delivered event is sent twice")  # fmt: skip
    p.add_argument("--seed-tasks", type=int, default=0, metavar="N", help="create N tasks now")
    p.add_argument("--ids-file", default=None, help="write the seeded task ids here (JSON)")
    p.add_argument(
        "--timeline-file",
        default=None,
        help="write each seeded task's task_id, created_at, terminal_at (epoch seconds) and "
        "final status here (JSON list, oldest first)",
    )
    p.add_argument(
        "--stats-file",
        default=None,
        help="on exit, write the requests received by route and status here (JSON list)",
    )
    p.set_defaults(run=run_simulate)


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


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a probability between 0 and 1")
    return value


def run_simulate(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit code 0 (2 for settings the simulator refuses)."""
    try:
        config = _config(args)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(config, args))
    except (ConfigurationError, InvalidInputError) as exc:
        error(str(exc))
        return EXIT_USAGE
    return 0


def _config(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        api_key=args.api_key,
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
    async with simulate(config, host=args.host, port=args.port) as sim:
        if args.seed_tasks:
            ids = await sim.seed_tasks(args.seed_tasks)
            if args.ids_file:
                await _write(args.ids_file, ids)
            if args.timeline_file:
                await _write(args.timeline_file, [_timeline(sim, task_id) for task_id in ids])
        print(f"TWELVELABS_BASE_URL={sim.base_url}", flush=True)
        print(f"TWELVELABS_API_KEY={sim.api_key}", flush=True)
        print("serving; press Ctrl-C to stop", file=sys.stderr, flush=True)
        await stop.wait()
        if args.stats_file:
            counts = sorted(sim.stats.requests.items())
            await _write(args.stats_file, [[r, s, n] for (r, s), n in counts])


def _timeline(sim: Simulator, task_id: str) -> dict[str, Any]:
    task = sim._app.store.get(task_id)
    assert task is not None
    return {
        "task_id": task_id,
        "created_at": task.created,
        "terminal_at": sim.terminal_at[task_id],
        "status": sim.final_status(task_id),
    }


async def _write(path: str, data: Any) -> None:
    await asyncio.to_thread(Path(path).write_text, json.dumps(data), "utf-8")
