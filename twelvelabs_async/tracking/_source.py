"""What the tracking engine needs to know about a kind of object: the `Source` protocols.

The engine follows ids until their objects reach a terminal status; it knows nothing of what
the objects are. A *source* tells it, for one kind (analysis tasks, batches, and later assets
or embedding tasks):

- how to fetch one object by id, and how to cancel one;
- which statuses are terminal, and how an object names its id, status and times;
- how to read the statuses of many objects at once, when the API can: `StatusLists`, lists
  filtered by status and read page by page, newest first (`GET /analyze/tasks?status=...`);
- or how to fetch many objects by id in one request, when the API can: `ByIds`, which a
  source offers by having `max_ids` and `fetch_many` (`GET /assets?asset_ids=...`).

`BatchSource` is the one-container variant: the batch tracker follows one batch through its
counts and reads its items from one stream.

Sources live next to their resources (`analyze/tasks.py`, `analyze/batches.py`); this package
imports none of them.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar, runtime_checkable

from .._clock import Clock
from ..models import Batch, BatchResult, PageInfo

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Listener = Callable[[int, Mapping[str, str]], None]
"""Called with `(status, headers)` of every HTTP response (rate limits are read from it)."""


class Runtime(Protocol):
    """Where a tracker takes its time and jitter from, and hears every response of its client.

    The client's HTTP seam is one; a test may pass anything with the same shape.
    """

    @property
    def clock(self) -> Clock:
        """Reads time and sleeps."""
        ...

    @property
    def rng(self) -> random.Random:
        """The client's jitter source (a tracker seeds its own from it)."""
        ...

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` with every response from now on."""
        ...

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling `listener`."""
        ...


class _EventData(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...


class Event(Protocol):
    """What `notify` reads of a verified webhook event (`WebhookEvent` is one)."""

    @property
    def id(self) -> str:
        """The event's id (repeats are ignored)."""
        ...

    @property
    def data(self) -> _EventData:
        """The object the event is about: its `id` and `status`."""
        ...


class Page(Protocol[T_co]):
    """One page of a list: its items and where it sits (`TaskPage` is one)."""

    @property
    def data(self) -> Sequence[T_co]:
        """The items, newest first."""
        ...

    @property
    def page_info(self) -> PageInfo:
        """Page number, pages, results, limit."""
        ...


class Listed(Protocol[T_co]):
    """One item of a status list, read cheaply: what a sweep needs, and the rest on demand.

    A sweep reads thousands of list items and needs three things of each; decoding each whole
    would cost most of a tracker's CPU. `full()` decodes the complete object, for the few a
    sweep finishes from their list item (`yield_list_items`).
    """

    @property
    def id(self) -> str:
        """The object's id."""
        ...

    @property
    def status(self) -> str:
        """Its status, as a plain string."""
        ...

    @property
    def created(self) -> float | None:
        """When it was created, in epoch seconds, if known."""
        ...

    def full(self) -> T_co:
        """The complete object as the list shows it (may raise `DecodeError`)."""
        ...


class StatusLists(Protocol[T_co]):
    """Lists filtered by one status, read page by page, newest first.

    An *active* sweep reads the `active` lists: an object on none of them has probably ended.
    A *final* sweep reads the `final` lists down to the oldest tracked object: an object on them
    has ended (proof). See `_sweep.py`.
    """

    @property
    def active(self) -> tuple[str, ...]:
        """The statuses of running objects, in lifecycle order."""
        ...

    @property
    def final(self) -> tuple[str, ...]:
        """The terminal statuses a list can be filtered by (the first is the most common)."""
        ...

    @property
    def page_limit(self) -> int:
        """Items per page (the API's maximum)."""
        ...

    async def page(self, number: int, status: str) -> Page[Listed[T_co]]:
        """Page `number` (1-based) of the objects in `status`, one attempt, no retry."""
        ...


class Source(Protocol[T]):
    """One kind of long-running object, as the engine sees it."""

    @property
    def noun(self) -> str:
        """What one object is called in messages (`task`)."""
        ...

    @property
    def terminal(self) -> frozenset[str]:
        """The statuses after which an object never changes."""
        ...

    @property
    def lists(self) -> StatusLists[T] | None:
        """How to read many statuses at once, or None when only `fetch` is possible."""
        ...

    def check_id(self, object_id: object) -> None:
        """Raise `InvalidInputError` when `object_id` is not a valid id (before any request)."""
        ...

    def id_of(self, item: T) -> str:
        """The object's id."""
        ...

    def status_of(self, item: T) -> str:
        """The object's status, as a plain string (an unknown one is kept)."""
        ...

    def created_of(self, item: T) -> float | None:
        """When the object was created, in epoch seconds, if known."""
        ...

    def ended_of(self, item: T) -> float | None:
        """When the object reached its terminal status, in epoch seconds, if known."""
        ...

    async def fetch(self, object_id: str) -> T:
        """The complete object, one attempt, no retry (the engine retries in its budget)."""
        ...

    async def cancel(self, object_id: str) -> None:
        """Cancel the object on the server (with the client's own retries)."""
        ...


class BatchSource(Protocol):
    """One batch, followed through its counts, its items read from its results stream."""

    async def fetch(self, batch_id: str) -> Batch:
        """The batch with its item counts, one attempt, no retry."""
        ...

    def results(self, batch_id: str) -> AbstractAsyncContextManager[AsyncIterable[BatchResult]]:
        """The batch's items, streamed, one attempt, no retry."""
        ...


@runtime_checkable
class ByIds(Protocol[T_co]):
    """Many objects fetched by id in one request: what a source offers when the API can.

    A `Source` that also has these two members (`GET /assets?asset_ids=a&asset_ids=b`) is
    polled in batches: the tracker coalesces the ids due (and those nearly due) into requests
    of up to `max_ids` ids, each one request of its budget (see `_by_ids.py`). An id asked for
    and missing from the reply is confirmed with one `Source.fetch`; a reply holding an object
    not asked for is malformed. The reply's items are `Listed`, as a status list's are: the
    tracker reads the id, status and creation time of each, and decodes whole (`full()`) only
    the objects it delivers, most of its CPU otherwise.
    """

    @property
    def max_ids(self) -> int:
        """The most ids one request may carry (at least 1)."""
        ...

    async def fetch_many(self, ids: Sequence[str]) -> Sequence[Listed[T_co]]:
        """The objects of `ids` that exist, in any order; one attempt, no retry."""
        ...
