"""How a simulator behaves: task durations and failures, rate limits, faults, and its clock.

Every setting is checked when the settings are made: a number that is not a finite number in
its range (NaN, an infinity, a probability above 1, a range whose MAX is below its MIN) raises
`ConfigurationError` naming the setting, before any server starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from .._validate import check_number, shown
from ..errors import ConfigurationError

ROUTES = ("create", "list", "retrieve", "delete", "cancel", "analyze")
"""Route names used for per-route fault settings and in request statistics."""

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _number(**bounds: Any) -> Validator:
    """A validator of a finite number within `bounds` (as `check_number` takes them)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check_number(value, attribute.name, error=ConfigurationError, **bounds)

    return check


def _seconds_range(minimum: float | None = None) -> Validator:
    """A validator of a `(min, max)` pair of finite seconds, `min <= max` (and >= `minimum`)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        name = attribute.name
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise ConfigurationError(
                f"{name} must be a (min, max) pair of seconds, got {shown(value)}"
            )
        low, high = value
        check_number(low, f"{name} min", low=minimum, unit="seconds", error=ConfigurationError)
        hint = "MAX may not be below MIN"
        check_number(
            high, f"{name} max", low=low, unit="seconds", hint=hint, error=ConfigurationError
        )

    return check


_probability = _number(low=0, high=1, hint="it is a probability")


@attrs.frozen
class Faults:
    """Faults injected into responses, each a probability drawn from the simulator's seed.

    Attributes:
        error_5xx: answer 500/502/503 with an error body instead of the real response.
        reset: close the connection without any response.
        latency: add a delay of `latency_seconds` (uniform in the range) before answering.
        latency_seconds: the (min, max) added delay.
        malformed: answer a 2xx with its JSON body cut off halfway (streams are left alone).
    """

    error_5xx: float = attrs.field(default=0.0, validator=_probability)
    reset: float = attrs.field(default=0.0, validator=_probability)
    latency: float = attrs.field(default=0.0, validator=_probability)
    latency_seconds: tuple[float, float] = attrs.field(
        default=(0.05, 0.2), validator=_seconds_range(minimum=0)
    )
    malformed: float = attrs.field(default=0.0, validator=_probability)

    @property
    def any(self) -> bool:
        """True when some fault can happen."""
        return bool(self.error_5xx or self.reset or self.latency or self.malformed)


NO_FAULTS = Faults()


def _urls(value: str | Sequence[str]) -> tuple[str, ...]:
    urls = (value,) if isinstance(value, str) else tuple(value)
    if not urls:
        raise ConfigurationError("webhooks need at least one URL")
    return urls


@attrs.frozen
class Webhooks:
    """Signed webhook deliveries, POSTed when a task becomes `ready`, `failed` or `canceled`.

    Each event is an `analyze.task.*` envelope signed with `TL-Signature` (verify it with
    `twelvelabs_async.webhooks.verify`). Every random choice is drawn from the simulator's seed
    and the task, so a run is repeatable.

    Attributes:
        urls: where each event is POSTed: one URL or several (each gets every event).
        secret: the signing secret.
        delay: (min, max) seconds from the task becoming terminal to the first attempt.
        drop: the probability that an event is lost on its way to a URL: never sent (the
            task's `webhooks` entry stays `delivered: false`).
        duplicate: the probability that a delivered event is sent once more, same event id.
        max_attempts: attempts per URL; a non-2xx answer or a connection error is retried.
        retry_delay: seconds before the first retry, doubling after each.
        timeout: seconds each attempt may take.
    """

    urls: tuple[str, ...] = attrs.field(converter=_urls)
    secret: str = "whsec_simulator_signing_secret"
    delay: tuple[float, float] = attrs.field(default=(0.0, 0.0), validator=_seconds_range())
    drop: float = attrs.field(default=0.0, validator=_probability)
    duplicate: float = attrs.field(default=0.0, validator=_probability)
    max_attempts: int = attrs.field(default=3, validator=_number(low=1, integer=True))
    retry_delay: float = attrs.field(default=1.0, validator=_number(low=0, unit="seconds"))
    timeout: float = attrs.field(default=5.0, validator=_number(above=0, unit="seconds"))


@attrs.frozen
class MultipartConfig:
    """How the simulator serves multipart uploads (`/assets/multipart-uploads`).

    Attributes:
        chunk_size: the chunk size the server picks for every session, in bytes (1 MiB by
            default, so that tests upload many chunks from small files).
        initial_urls: presigned URLs handed out with a new session (the first chunks').
        url_ttl: seconds a presigned URL stays valid (the API: an hour).
        session_ttl: seconds a session stays open (the API: 24 hours).
        expired_urls: the probability that a chunk PUT is refused as if its URL had expired
            (403), a fault drawn from the simulator's seed.
    """

    chunk_size: int = attrs.field(default=1024 * 1024, validator=_number(low=1, integer=True))
    initial_urls: int = attrs.field(default=10, validator=_number(low=0, integer=True))
    url_ttl: float = attrs.field(default=3600.0, validator=_number(above=0, unit="seconds"))
    session_ttl: float = attrs.field(default=86_400.0, validator=_number(above=0, unit="seconds"))
    expired_urls: float = attrs.field(default=0.0, validator=_probability)


@attrs.frozen
class SimulatorConfig:
    """Settings of a simulated TwelveLabs API.

    Attributes:
        api_key: the only key accepted (`x-api-key`); anything else gets a 401.
        seed: seeds every random choice (durations, failures, results, faults).
        duration: (min, max) seconds from creation to a terminal status, drawn uniformly.
        queued_fraction: the share of a task's duration spent `queued`.
        pending_fraction: the share spent `pending` (the rest is `processing`).
        failure_rate: the probability that a task ends `failed` instead of `ready`.
        rpm: requests per minute allowed (a token bucket of this size); None for no limit.
        retry_after: send `Retry-After` on 429 responses (the API does not document it).
        faults: faults for every route, or a mapping of route name to its faults (see
            `ROUTES`, the batch routes `batch_*` and the asset routes `asset_create`,
            `asset_list`, `asset_retrieve`, `asset_delete`, the embedding routes
            `embed_create`, `embed_list`, `embed_retrieve`, `embed_text`, and the index routes
            `index_*`, `indexed_asset_*`, `asset_indexed_assets`; routes not in the mapping
            have none).
        video_duration: (min, max) seconds of the simulated videos (and of the media an
            embedding task embeds, unless its `end_sec` says).
        webhooks: signed webhook deliveries (see `Webhooks`); None (the default) sends none
            and leaves `webhooks` out of task bodies, as the API does with none configured.
        asset_duration: (min, max) seconds an asset spends `processing`, drawn uniformly (a
            URL import draws twice: fetch, then check); None (the default) uses `duration`.
        indexing_duration: (min, max) seconds from indexing an asset to a terminal status
            (shared by `validating`, `pending`, `queued` and `indexing`), drawn uniformly.
        indexing_failure_rate: the probability that an indexed asset ends `failed`.
        multipart: how multipart uploads are served (see `MultipartConfig`); their routes
            for `faults` are `upload_create`, `upload_list`, `upload_status`,
            `upload_report`, `upload_urls` and `storage_put` (the chunk PUTs).
    """

    api_key: str = "tlk_simulator_key"
    seed: int = attrs.field(default=0, validator=_number(integer=True))
    duration: tuple[float, float] = attrs.field(default=(5.0, 30.0), validator=_seconds_range())
    queued_fraction: float = attrs.field(default=0.1, validator=_number(low=0, high=1))
    pending_fraction: float = attrs.field(default=0.1, validator=_number(low=0, high=1))
    failure_rate: float = attrs.field(default=0.0, validator=_probability)
    rpm: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            _number(low=1, integer=True, hint="pass None for no limit")
        ),
    )
    retry_after: bool = False
    faults: Faults | Mapping[str, Faults] = Faults()
    video_duration: tuple[float, float] = attrs.field(
        default=(30.0, 600.0), validator=_seconds_range(minimum=0)
    )
    webhooks: Webhooks | None = None
    asset_duration: tuple[float, float] | None = attrs.field(
        default=None, validator=attrs.validators.optional(_seconds_range(minimum=0))
    )
    indexing_duration: tuple[float, float] = attrs.field(
        default=(5.0, 30.0), validator=_seconds_range(minimum=0)
    )
    indexing_failure_rate: float = attrs.field(default=0.0, validator=_probability)
    multipart: MultipartConfig = MultipartConfig()

    def __attrs_post_init__(self) -> None:
        if self.queued_fraction + self.pending_fraction > 1:
            raise ConfigurationError(
                "queued_fraction + pending_fraction is the share of a task's duration before "
                f"processing: at most 1, got {self.queued_fraction + self.pending_fraction:g}"
            )

    def faults_for(self, route: str) -> Faults:
        """The faults that apply to one route."""
        if isinstance(self.faults, Faults):
            return self.faults
        return self.faults.get(route, NO_FAULTS)


class SystemTime:
    """The real wall clock (seconds since the epoch)."""

    def time(self) -> float:
        """Now, in epoch seconds."""
        return time.time()


class ManualClock:
    """A wall clock that only moves when told to: `advance(seconds)` or `set(epoch)`."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start

    def time(self) -> float:
        """Now, in epoch seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward (`InvalidInputError` for a negative or non-finite step)."""
        check_number(seconds, "seconds", low=0, hint="time only moves forward")
        self.now += seconds

    def set(self, epoch: float) -> None:
        """Jump to an absolute time (not earlier than now)."""
        self.advance(epoch - self.now)
