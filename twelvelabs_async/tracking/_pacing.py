"""Pacing, with no I/O: the request rate that spends a rate limit evenly instead of hitting it.

A tracker's requests share one `Budget`; the `Pacer` decides its rate from what every response
says, with the clock's readings passed in:

- **A stated limit.** When a response carries `X-Ratelimit-Limit`, `X-Ratelimit-Remaining`
  and `X-Ratelimit-Reset` (REFERENCE §5), the rate is what makes the remaining allowance last
  until the reset, plus what the server is seen to give back meanwhile:
  `(remaining - reserve - in flight) / (reset - now) + refill`. The reserve (`RESERVE_SHARE`
  of the limit, at least `MIN_RESERVE`) is kept for retries and for other users of the same
  key; the requests in flight have been counted by the server already, or will be. Requests
  are spread over the window instead of spent in a burst into the wall.
  The `refill` term is learned (`Refill`): a fixed window gives nothing back before its reset
  (refill 0: the allowance is spent exactly by the reset), a token bucket (the simulator's)
  gives back its rate continuously, and reports as `Reset` when it will be full again. An
  allowance that comes back continuously need not last until the reset: what is left past
  the reserve is spread over at most `REFILL_HORIZON` seconds, on top of the refill. Without
  this a bucket would settle half full at its sustained rate, leaving half its burst unused;
  with it, the rate settles at the refill rate with the bucket near the reserve, and a burst
  of work (many tasks finishing at once) can spend what the bucket holds.
- **No stated limit.** Without those headers, the rate is learned from 429s, additive
  increase and multiplicative decrease (AIMD, as TCP does): no limit until the first 429;
  each 429 multiplies the rate by `DECREASE`, at most once per `DECREASE_COOLDOWN` (the
  requests in flight when the server started refusing do not each cut it), from the rate
  learned so far or the rate of answers other than 429 over the last second or two (since
  the last cut, if that was under `DISCOVERY` seconds ago), whichever is lower: while it
  refuses, what a server accepts is about its limit, so the rate is found in a cut or two;
  then every second of answers adds `INCREASE_SHARE` of the rate it was cut to. The increase
  is additive (linear in time) but sized to the limit, so a cycle lasts about
  (1 - DECREASE) / (INCREASE_SHARE * DECREASE), some 20 s, whatever the limit: one 429 per
  cycle is well under 1 % of the requests above a few requests per second, and the rate saws
  between 70 % and 100 % of the limit. A 429 is then an occasional probe of the limit, not
  the way the tracker paces itself.
  A bare 429 also starts a **slow start** (as TCP's): the requests in flight are capped by a
  `window` of `SLOW_START` requests, which every answer other than a 429 widens, by one up to
  half the requests that were in flight at the 429 (the window doubles per round trip), then
  by one per window's worth of answers (one more per round trip), until it reaches
  `max_in_flight` and the slow start ends. The rate alone would let a burst of a quarter
  second's worth of requests go at once when the pause after the 429 ends, and a server whose
  allowance is spent refuses each of them; the window lets only a few go until answers show
  the server takes them again, and grows carefully past what was too much last time.

The caller's `max_rate` is always an upper bound. Who pauses after a 429 (`Retry-After`,
`X-Ratelimit-Remaining: 0`) is the `Schedule`'s decision; this module only sets the rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

RESERVE_SHARE = 0.05
"""The share of a stated limit kept in reserve (retries, other users of the key)."""
MIN_RESERVE = 2
"""The smallest reserve, in requests."""
NO_RESET_WINDOW = 60.0
"""Seconds a stated allowance is spread over when no `X-Ratelimit-Reset` says otherwise (the
API's limits are per minute)."""
MIN_WINDOW = 1.0
"""The shortest window a stated allowance is spread over: a reset closer than this, already
past, or a second away by rounding, counts as one second away."""
DECREASE = 0.7
"""The factor applied to the learned rate at a 429 (no stated limit)."""
INCREASE_SHARE = 0.02
"""Per second of answers, the learned rate grows by this share of the rate it was last cut to
(no stated limit)."""
DECREASE_COOLDOWN = 0.5
"""Seconds after a decrease during which further 429s do not decrease the rate again (they
answer requests that were in flight; the tracker pauses for 0.5 s after a bare 429 too)."""
DISCOVERY = 5.0
"""A 429 this soon after a cut means the cut was not deep enough: the next one starts from
what the server accepted since (while it refuses, that is about its limit)."""
REFILL_MEMORY = 10.0
"""Seconds over which observations of the refill fade (an exponential average)."""
REFILL_TRUST = 2.0
"""Seconds of observation before a refill is believed: over a shorter span, answers that
arrive out of order (up to the requests in flight) would look like tokens given back."""
REFILL_HORIZON = 5.0
"""Seconds over which an allowance that comes back continuously is spent down to its reserve,
at most."""
BURST = 0.25
"""Seconds' worth of requests a paced budget lets go at once: spread, not a burst into the
wall (the requests of one burst are in flight together, and refused together)."""
MIN_RATE = 0.1
"""The lowest learned rate, in requests per second: one request every ten seconds still asks
the server how things stand."""
SLOW_START = 2
"""Requests in flight allowed after a bare 429 (no stated limit); each answer other than a 429
allows one more, up to `max_in_flight` (see `Pacer.window`)."""
FLOOR_SHARE = 0.5
"""With a stated limit, the rate never falls below this share of the limit spread over the
window (`limit / max(NO_RESET_WINDOW, reset - now)`): an allowance spent down into its reserve
(by other users of the key, say) refills meanwhile at a token bucket's rate, and a fixed
window's end brings a full one; a 429 on the way pauses every request until the reset."""


@attrs.frozen
class StatedLimit:
    """What a response's `X-Ratelimit-*` headers say.

    Attributes:
        limit: requests allowed per window (`X-Ratelimit-Limit`).
        remaining: requests left in this window (`X-Ratelimit-Remaining`).
        reset: when the window resets, UTC epoch seconds (`X-Ratelimit-Reset`), or None.
    """

    limit: int
    remaining: int
    reset: float | None


def stated_limit(headers: Mapping[str, str]) -> StatedLimit | None:
    """The limit a response states, or None without a usable `Limit` and `Remaining`.

    Values must be plain digits (a reset may have a decimal part); anything else is ignored,
    as a missing header is.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    limit = _number(lower.get("x-ratelimit-limit"))
    remaining = _number(lower.get("x-ratelimit-remaining"))
    if limit is None or remaining is None or limit < 1 or limit != int(limit):
        return None
    return StatedLimit(int(limit), int(remaining), _number(lower.get("x-ratelimit-reset")))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip(" \t")
    whole, _, fraction = value.partition(".")
    if not whole.isdecimal() or not (fraction == "" or fraction.isdecimal()) or not whole.isascii():
        return None
    return float(value)


def stated_rate(stated: StatedLimit, *, wall: float, in_flight: int, refill: float = 0.0) -> float:
    """Requests per second that make `stated.remaining` last until its reset, past a reserve.

    Args:
        stated: the limit a response stated.
        wall: now, in epoch seconds (the clock the reset is read on).
        in_flight: requests sent and not yet answered (other than this one).
        refill: requests per second the server gives back before the reset (`Refill`).
    """
    reserve = max(MIN_RESERVE, math.ceil(RESERVE_SHARE * stated.limit))
    window = NO_RESET_WINDOW if stated.reset is None else stated.reset - wall
    floor = FLOOR_SHARE * stated.limit / max(NO_RESET_WINDOW, window)
    if refill > 0:
        window = min(window, REFILL_HORIZON)
    spendable = stated.remaining - reserve - max(0, in_flight)
    return max(floor, spendable / max(MIN_WINDOW, window) + max(0.0, refill))


class Refill:
    """How fast a stated allowance comes back before its reset, learned from the headers.

    Between two answers in one window (the second before the first one's reset), every answer
    but a 429 spent one request, so the allowance given back is `remaining - previous + 1`.
    Summed over many answers this telescopes (answers out of order cancel out), so it is
    averaged over time (`REFILL_MEMORY`), and believed only after `REFILL_TRUST` seconds. A
    fixed window gives back nothing: the rate stays 0. Other users of the key spending the
    same allowance make it look smaller: it errs on the safe side.
    """

    def __init__(self) -> None:
        self._last: StatedLimit | None = None
        self._last_wall = 0.0
        self._given = 0.0
        self._span = 0.0
        self._observed = 0.0

    @property
    def rate(self) -> float:
        """Requests per second given back (0 until it is believed)."""
        if self._observed < REFILL_TRUST or self._span <= 0:
            return 0.0
        return max(0.0, self._given / self._span)

    def observe(self, stated: StatedLimit, *, wall: float, throttled: bool) -> None:
        """An answer stated `stated` at `wall` (epoch seconds); `throttled` for a 429."""
        last, self._last, then = self._last, stated, self._last_wall
        self._last_wall = wall
        if last is None or wall < then:
            return
        if last.reset is not None and wall >= last.reset:
            return  # the window has ended since: what came back is a new window's allowance
        elapsed = wall - then
        fade = math.exp(-elapsed / REFILL_MEMORY)
        given = stated.remaining - last.remaining + (0 if throttled else 1)
        self._given = self._given * fade + given
        self._span = self._span * fade + elapsed
        self._observed += elapsed


class Pacer:
    """The budget's rate, from the limits responses state or the 429s they give.

    Args:
        ceiling: the caller's `max_rate` (requests per second), or None: never exceeded.
        max_in_flight: the budget's cap on requests in flight, where a slow start ends.
    """

    def __init__(self, ceiling: float | None, *, max_in_flight: int = 64) -> None:
        self.ceiling = ceiling
        self.max_in_flight = max_in_flight
        self._window: float | None = None
        self._threshold = float(max_in_flight)
        self.stated: StatedLimit | None = None
        """The limit the last response stating one stated."""
        self.learned: float | None = None
        """The rate learned from 429s (no stated limit), or None before the first."""
        self.refill = Refill()
        """What the server gives back before a reset (a token bucket's rate)."""
        self._rate: float | None = ceiling
        self._stated_until = -math.inf
        self._decreased_at = -math.inf
        self._step = MIN_RATE
        self._accepted = 0
        self._accepted_at_decrease = 0
        self._window_start = -math.inf
        self._counts = (0, 0)  # answers in the previous and the current one-second window

    @property
    def rate(self) -> float | None:
        """The rate to pace at now, in requests per second; None for no limit."""
        return self._rate

    @property
    def window(self) -> int | None:
        """The most requests in flight during a slow start after a bare 429, else None."""
        return None if self._window is None else int(self._window)

    @property
    def limited(self) -> bool:
        """Whether requests are paced (a stated or learned limit, or the caller's)."""
        return self._rate is not None

    def observe(
        self, status: int, headers: Mapping[str, str], *, now: float, wall: float, in_flight: int
    ) -> float | None:
        """A response arrived: the rate to pace at from now on (None for no limit).

        Args:
            status: the response status.
            headers: the response headers.
            now: the monotonic clock, in seconds.
            wall: the wall clock, in epoch seconds.
            in_flight: requests sent and not yet answered.
        """
        self._count(now, 0 if status == 429 else 1)
        stated = stated_limit(headers)
        rate: float | None
        if stated is not None:
            self._window = None  # the stated allowance paces every request
            self.stated = stated
            self._stated_until = wall + NO_RESET_WINDOW if stated.reset is None else stated.reset
            self.refill.observe(stated, wall=wall, throttled=status == 429)
            rate = stated_rate(stated, wall=wall, in_flight=in_flight - 1, refill=self.refill.rate)
        elif status == 429:
            if self._window is None or self._window > SLOW_START:
                self._threshold = max(SLOW_START, in_flight / 2)
            self._window = SLOW_START
            rate = self._decrease(now)
        elif wall < self._stated_until:  # an answer that states nothing (another endpoint?)
            return self._rate
        elif self.learned is not None:
            self._widen()
            self.learned += self._step / self.learned  # answers come at about `learned` a second
            rate = self.learned
        else:
            rate = None
        self._rate = _lower(rate, self.ceiling)
        return self._rate

    def _widen(self) -> None:
        """An answer other than a 429 during a slow start: one more request in flight."""
        window = self._window
        if window is not None:
            window += 1 if window < self._threshold else 1 / window
            self._window = None if window >= self.max_in_flight else window

    def _decrease(self, now: float) -> float:
        since = now - self._decreased_at
        if self.learned is not None and since < DECREASE_COOLDOWN:
            return self.learned
        measured = self._measured(now)
        if since < DISCOVERY:  # refused again soon after a cut: what it took meanwhile
            measured = min(measured, (self._accepted - self._accepted_at_decrease) / since)
        base = measured if self.learned is None else min(self.learned, measured)
        self.learned = max(MIN_RATE, DECREASE * base)
        self._step = max(MIN_RATE / 10, INCREASE_SHARE * self.learned)
        self._decreased_at = now
        self._accepted_at_decrease = self._accepted
        return self.learned

    def _count(self, now: float, answers: int) -> None:
        self._accepted += answers
        previous, current = self._counts
        if now >= self._window_start + 1.0:
            elapsed = now - self._window_start
            self._counts = (current if elapsed < 2.0 else 0, answers)
            self._window_start = now
        else:
            self._counts = (previous, current + answers)

    def _measured(self, now: float) -> float:
        """Answers other than 429 per second over the last one to two seconds."""
        previous, current = self._counts
        span = 1.0 + min(1.0, max(0.0, now - self._window_start))
        return (previous + current) / span


def _lower(rate: float | None, ceiling: float | None) -> float | None:
    if rate is None:
        return ceiling
    return rate if ceiling is None else min(rate, ceiling)
