"""`DeliveryDeduplicator`: recognise repeated webhook deliveries by event id."""

from __future__ import annotations

import time
from collections import OrderedDict

from ._clock import Clock
from .errors import ConfigurationError


class DeliveryDeduplicator:
    """Recognises repeated deliveries of an event by its id, in bounded memory.

    TwelveLabs retries a delivery with the same event id, and may deliver one twice. This
    remembers the `max_events` most recently seen ids (least recently seen forgotten first)
    and, with `ttl`, only for that many seconds since each was last seen.

    One instance is in-memory and per process: several workers behind a load balancer need a
    shared store (a database unique key on the event id) instead.
    """

    def __init__(
        self, max_events: int = 10_000, *, ttl: float | None = None, clock: Clock | None = None
    ) -> None:
        if max_events < 1:
            raise ConfigurationError(f"max_events must be at least 1, got {max_events!r}")
        if ttl is not None and not ttl > 0:
            raise ConfigurationError(f"ttl must be a positive number of seconds, got {ttl!r}")
        self.max_events = max_events
        self.ttl = ttl
        self._monotonic = clock.monotonic if clock is not None else time.monotonic
        self._seen: OrderedDict[str, float] = OrderedDict()

    def is_duplicate(self, event_id: str) -> bool:
        """True when this event id was seen recently; otherwise remember it and return False.

        Call it once per verified delivery with `event.id`: the first call for an id returns
        False (process the event), every later call True (acknowledge it, do nothing).
        """
        now = self._monotonic()
        self._expire(now)
        repeat = event_id in self._seen
        self._seen[event_id] = now
        self._seen.move_to_end(event_id)
        while len(self._seen) > self.max_events:
            self._seen.popitem(last=False)
        return repeat

    def forget(self, event_id: str) -> None:
        """Forget an event id, so that its next delivery is processed (e.g. after a failure)."""
        self._seen.pop(event_id, None)

    def __contains__(self, event_id: object) -> bool:
        self._expire(self._monotonic())
        return event_id in self._seen

    def __len__(self) -> int:
        self._expire(self._monotonic())
        return len(self._seen)

    def _expire(self, now: float) -> None:
        if self.ttl is None:
            return
        while self._seen:
            oldest_id, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= self.ttl:
                return
            del self._seen[oldest_id]
