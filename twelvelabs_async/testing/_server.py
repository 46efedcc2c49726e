"""`Simulator` and `simulate()`: the simulated API on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
from aiohttp import web

from .._clock import WallClock
from .._validate import check_number
from ..errors import ConfigurationError
from ._app import SimulatorApp, SimulatorStats
from ._config import SimulatorConfig, SystemTime
from ._embed import Refused
from ._storage import SimUpload, StoragePut
from ._webhooks import WebhookDispatcher


class Simulator:
    """A simulated TwelveLabs API served over HTTP on a real socket.

    Start it with `async with simulate(...) as sim:` (or `await sim.start()` and
    `await sim.close()`), then point a client at `sim.base_url` with `sim.api_key`.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        clock: WallClock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        check_number(port, "port", low=0, high=65_535, integer=True, error=ConfigurationError)
        self.config = config or SimulatorConfig()
        self.clock: WallClock = clock or SystemTime()
        self._app = SimulatorApp(self.config, self.clock)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._webhooks: WebhookDispatcher | None = None
        if self.config.webhooks is not None:
            self._webhooks = WebhookDispatcher(
                self.config.webhooks,
                self._app.store,
                self.clock,
                self._app.stats.webhooks,
                seed=self.config.seed,
            )

    @property
    def base_url(self) -> str:
        """`http://host:port/v1.3`, once started."""
        if self._base_url is None:
            raise RuntimeError("the simulator is not running; use `async with simulate()`")
        return self._base_url

    @property
    def api_key(self) -> str:
        """The key the simulator accepts."""
        return self.config.api_key

    @property
    def stats(self) -> SimulatorStats:
        """Requests received, by route and status."""
        return self._app.stats

    @property
    def terminal_at(self) -> Mapping[str, float]:
        """Task id to the epoch second it became (or will become) terminal."""
        return self._app.store.terminal_at

    def status_of(self, task_id: str) -> str:
        """A task's status now, as the simulator computes it (KeyError if unknown)."""
        task = self._app.store.get(task_id)
        if task is None:
            raise KeyError(task_id)
        return task.status_at(self.clock.time())

    def final_status(self, task_id: str) -> str:
        """The status the task ends with (`ready`, `failed` or `canceled`)."""
        task = self._app.store.get(task_id)
        if task is None:
            raise KeyError(task_id)
        return "canceled" if task.canceled_at is not None else task.outcome

    def asset_status(self, asset_id: str) -> str:
        """An asset's status now, as the simulator computes it (KeyError if unknown)."""
        asset = self._app.assets.get(asset_id)
        if asset is None:
            raise KeyError(asset_id)
        return asset.status_at(self.clock.time())

    def embed_status(self, task_id: str) -> str:
        """An embedding task's status now, as the simulator computes it (KeyError if unknown)."""
        task = self._app.embed.get(task_id)
        if task is None:
            raise KeyError(task_id)
        return task.status_at(self.clock.time())

    def seed_embed_task(self, body: Mapping[str, Any]) -> str:
        """Create an embedding task from a `POST /embed-v2/tasks` body, without a request.

        Returns its id. A body the API refuses raises `ValueError` saying why.
        """
        try:
            return self._app.embed.new_task(body).task_id
        except Refused as exc:
            raise ValueError(str(exc)) from None

    def indexed_asset_status(self, indexed_asset_id: str) -> str:
        """An indexed asset's status now, as the simulator computes it (KeyError if unknown)."""
        return self._app.indexes.indexed_status(indexed_asset_id)

    @property
    def storage_puts(self) -> list[StoragePut]:
        """Every chunk PUT the simulated storage received, in order (URL token, status, ...)."""
        return self._app.uploads.storage.puts

    @property
    def storage_peak_in_flight(self) -> int:
        """The most chunk PUTs the simulated storage was receiving at once."""
        return self._app.uploads.storage.max_in_flight

    def upload_session(self, upload_id: str) -> SimUpload:
        """A multipart session as the simulator holds it (KeyError if unknown)."""
        upload = self._app.uploads.get(upload_id)
        if upload is None:
            raise KeyError(upload_id)
        return upload

    def reference_asset(self, asset_id: str) -> None:
        """Have one more indexed asset use an asset: deleting it then needs `force=true`.

        A stand-in until the simulator serves indexes (KeyError if the asset is unknown).
        """
        asset = self._app.assets.get(asset_id)
        if asset is None:
            raise KeyError(asset_id)
        asset.references += 1

    async def seed_tasks(
        self,
        n: int,
        *,
        duration: float | tuple[float, float] | None = None,
        failure_rate: float | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Create `n` tasks at once, without HTTP; returns their ids, oldest first.

        Args:
            n: how many.
            duration: seconds to a terminal status, fixed or a (min, max) range; defaults to
                the configured range.
            failure_rate: overrides the configured failure rate for these tasks.
            body: the creation body (default: a general analysis of a numbered URL).
        """
        check_number(n, "n", low=0, integer=True)
        for bound in duration if isinstance(duration, tuple) else (duration,):
            if bound is not None:
                check_number(bound, "duration", unit="seconds")
        if failure_rate is not None:
            check_number(failure_rate, "failure_rate", low=0, high=1)
        store, rng, now = self._app.store, self._app.seed_rng, self.clock.time()
        ids = []
        for _ in range(n):
            fixed = duration if isinstance(duration, int | float) else None
            if isinstance(duration, tuple):
                fixed = rng.uniform(*duration)
            fail = None if failure_rate is None else rng.random() < failure_rate
            request = dict(body) if body is not None else _default_body(store_size=len(store))
            ids.append(store.create(request, now, duration=fixed, fail=fail).task_id)
        return ids

    async def seed_assets(
        self,
        n: int,
        *,
        duration: float | tuple[float, float] | None = None,
        failure_rate: float | None = None,
    ) -> list[str]:
        """Create `n` video assets at once, without HTTP; returns their ids, oldest first.

        Each is as a direct upload leaves it: `processing`, then `ready` (or `failed`).

        Args:
            n: how many.
            duration: seconds `processing`, fixed or a (min, max) range; defaults to the
                configured `asset_duration` (else `duration`).
            failure_rate: overrides the configured failure rate for these assets.
        """
        check_number(n, "n", low=0, integer=True)
        for bound in duration if isinstance(duration, tuple) else (duration,):
            if bound is not None:
                check_number(bound, "duration", low=0, unit="seconds")
        if failure_rate is not None:
            check_number(failure_rate, "failure_rate", low=0, high=1)
        return self._app.assets.seed(
            n, duration=duration, failure_rate=failure_rate, rng=self._app.seed_rng
        )

    def asset_finish(self, asset_id: str) -> tuple[float, str]:
        """When an asset becomes (or became) terminal, in epoch seconds, and how it ends.

        KeyError if the asset is unknown.
        """
        asset = self._app.assets.get(asset_id)
        if asset is None:
            raise KeyError(asset_id)
        return asset.finish_at, asset.outcome

    async def start(self) -> None:
        """Listen on the configured host and port (port 0 picks a free one)."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self._app.build(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://{self._host}:{port}/v1.3"
        if self._webhooks is not None:
            await self._webhooks.start()

    async def flush_webhooks(self) -> None:
        """Deliver every webhook due by the simulator's clock now, and wait for the answers.

        Deliveries run in the background anyway (checked every few milliseconds); this makes a
        test deterministic, e.g. after advancing a `ManualClock`. A no-op without webhooks.
        """
        if self._webhooks is not None:
            await self._webhooks.flush()

    async def close(self) -> None:
        """Stop listening and close every connection (webhooks still due are not sent)."""
        if self._webhooks is not None:
            await self._webhooks.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def _default_body(store_size: int) -> dict[str, Any]:
    return {
        "video": {"type": "url", "url": f"https://videos.example.com/clip-{store_size}.mp4"},
        "prompt": "Summarize this video in three sentences.",
    }


@asynccontextmanager
async def simulate(
    config: SimulatorConfig | None = None,
    *,
    clock: WallClock | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    **settings: Any,
) -> AsyncIterator[Simulator]:
    """Run a simulated TwelveLabs API for the duration of the block.

    ```python
    async with simulate(failure_rate=0.1, rpm=600) as sim:
        async with AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
            ...
    ```

    Args:
        config: full settings; keyword `settings` (any `SimulatorConfig` field) override it.
        clock: the wall clock task lifecycles follow (e.g. `ManualClock` to jump time).
        host: the interface to listen on (loopback by default).
        port: the port (0 picks a free one).
        **settings: `SimulatorConfig` fields, e.g. `failure_rate=0.1`, `rpm=3000`.
    """
    base = config or SimulatorConfig()
    sim = Simulator(attrs.evolve(base, **settings), clock=clock, host=host, port=port)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()
