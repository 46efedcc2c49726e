"""`AsyncTwelveLabs`: configuration, session lifecycle, and the resource namespaces."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

from ._clock import Clock, SystemClock
from ._http import HTTPTransport
from ._retry import RetryPolicy
from ._transport import Transport
from ._validate import check_base_url, check_number
from ._version import __version__
from .analyze import Analyze
from .assets import Assets
from .coordination._local import LocalCoordinator
from .embed import Embed
from .errors import ClientClosedError, ConfigurationError
from .indexes import Indexes

if TYPE_CHECKING:
    import aiohttp

    from .coordination import Coordinator

DEFAULT_BASE_URL = "https://api.twelvelabs.io/v1.3"
"""The API's base URL when neither `base_url=` nor `TWELVELABS_BASE_URL` is given."""

API_KEY_ENV = "TWELVELABS_API_KEY"
BASE_URL_ENV = "TWELVELABS_BASE_URL"


class AsyncTwelveLabs:
    """The asyncio client for the TwelveLabs API.

    ```python
    async with AsyncTwelveLabs() as client:      # key from TWELVELABS_API_KEY
        task = await client.analyze.tasks.retrieve(task_id)
    ```

    Create the client inside the event loop that uses it. A client used from another loop
    later (a second `asyncio.run()`, another thread's loop) creates its own session anew
    there, one loop at a time; its session is also closed when its loop shuts down, as
    `asyncio.run()` ends. A borrowed `session` belongs to the loop it was made in: used from
    another loop it raises `ClientClosedError`.

    Args:
        api_key: your API key; defaults to the `TWELVELABS_API_KEY` environment variable.
            It is sent as `x-api-key` and never shown in `repr()`, logs or exceptions.
        base_url: the API root; defaults to `TWELVELABS_BASE_URL`, then
            `https://api.twelvelabs.io/v1.3`. An http(s) URL with a host and at most a path:
            a query, a fragment, a user name or password, or a port outside 1-65535 raise
            `ConfigurationError`.
        session: an `aiohttp.ClientSession` to borrow. It is never closed by the client;
            without one, the client creates its own on first use and closes it in `close()`.
        transport: what sends the requests instead of aiohttp: a `Transport`, such as
            `twelvelabs_async.testing.MockTransport` to run the whole client without
            sockets. The client adds its headers, retries and error mapping on top, and never
            closes it. Not together with `session`.
        timeout: the per-request timeout in seconds (connect + response), a finite number
            >= 0.001. It bounds one HTTP request, never how long a `wait()` may last.
        max_retries: retries of a failed request (408, 429, 5xx, a connection that could not
            be made; and, for requests safe to repeat, resets, timeouts and cut-off or
            malformed 2xx bodies) with exponential backoff and full jitter; 0 disables.
        max_connections: the size of the connection pool the client creates, sized for
            fan-out (ignored with a borrowed `session`, whose connector decides, and with a
            `transport`).
        max_response_bytes: the most bytes of one response body (counted after
            decompression) the client reads; a larger body raises `ResponseTooLargeError`
            without being read further (retried like any malformed body). Error bodies are
            read up to 64 KiB. Default 32 MiB: a thousand times the largest answer the API
            documents, and bounded memory.
        max_line_bytes: the most bytes of one line of a streamed response (a streamed
            analysis, a batch's results); a longer line raises `ResponseTooLargeError`.
            Default 16 MiB: a batch result line holds one whole analysis, whose text is a few
            hundred KiB at most.
        clock: where time is read and sleeps happen (inject a fake in tests).
        rng: the source of jitter (seed one for reproducible delays).
        coordinator: where this client meets the other processes of a deployment
            (`twelvelabs_async.coordination`): every request takes a token of the shared
            budget first, every tracker that may sweep registers its ids, shares one sweep and
            wakes on the statuses any process read, and every tracker and `wait()` wakes on
            webhook events any process verified. None (the default) makes
            a `LocalCoordinator`: this process alone, today's behaviour. The client never
            closes a coordinator it was given.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        max_connections: int = 64,
        max_response_bytes: int = 32 * 1024 * 1024,
        max_line_bytes: int = 16 * 1024 * 1024,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        coordinator: Coordinator | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key:
            raise ConfigurationError(
                f"no API key: pass api_key= or set the {API_KEY_ENV} environment variable"
            )
        if not key.isprintable() or any(c.isspace() for c in key):
            raise ConfigurationError(
                "the API key contains whitespace or control characters; check how it was read"
            )
        if base_url is not None:
            url = check_base_url(base_url)
        elif os.environ.get(BASE_URL_ENV):
            url = check_base_url(os.environ[BASE_URL_ENV], BASE_URL_ENV)
        else:
            url = DEFAULT_BASE_URL
        check_number(timeout, "timeout", low=0.001, error=ConfigurationError)
        check_number(max_retries, "max_retries", low=0, integer=True, error=ConfigurationError)
        check_number(
            max_connections, "max_connections", low=1, integer=True, error=ConfigurationError
        )
        check_number(
            max_response_bytes, "max_response_bytes", low=1, integer=True, error=ConfigurationError
        )
        check_number(
            max_line_bytes, "max_line_bytes", low=1, integer=True, error=ConfigurationError
        )
        if transport is not None:
            if session is not None:
                raise ConfigurationError(
                    "pass session= or transport=, not both: a transport brings its own I/O"
                )
            if not isinstance(transport, Transport):
                raise ConfigurationError(
                    "transport must be a Transport (with send, stream and close methods)"
                )
        self._http = HTTPTransport(
            api_key=key,
            base_url=url,
            user_agent=f"twelvelabs-async/{__version__}",
            timeout=float(timeout),
            max_connections=max_connections,
            max_response_bytes=max_response_bytes,
            max_line_bytes=max_line_bytes,
            retry=RetryPolicy(max_retries=max_retries),
            clock=clock or SystemClock(),
            session=session,
            transport=transport,
            rng=rng,
            coordinator=LocalCoordinator() if coordinator is None else coordinator,
        )
        self.assets = Assets(self._http)
        """Assets: `upload`, `create` (a file or a URL), `retrieve`, `list`, `delete`, `wait`,
        `track`, and the multipart endpoints as `uploads`."""
        self.analyze = Analyze(self._http, self.assets)
        """The Analyze API: `generate`, `stream`, and `tasks` (a local file is uploaded first)."""
        self.indexes = Indexes(self._http)
        """Indexes: `create`, `retrieve`, `list`, `update`, `delete`, and `indexed_assets`."""
        self.embed = Embed(self._http)
        """Embeddings v2: text embeddings (`create`) and `tasks` for media."""

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._http.base_url

    @property
    def coordinator(self) -> Coordinator:
        """The coordinator this client takes part in (a `LocalCoordinator` unless given).

        Pass it to `webhooks.webhook_handler(..., coordinator=)` so that a verified event
        wakes the trackers and `wait()`s of every client that shares it.
        """
        coordinator = self._http.coordinator
        assert coordinator is not None
        return coordinator

    @property
    def timeout(self) -> float:
        """The per-request timeout, in seconds."""
        return self._http.timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed request is retried."""
        return self._http.retry.max_retries

    @property
    def closed(self) -> bool:
        """True after `close()`; requests then raise `ClientClosedError`."""
        return self._http.closed

    async def close(self) -> None:
        """Close the client: its own session is closed, a borrowed one is left open.

        Safe to call more than once. Any later request raises `ClientClosedError`.
        """
        await self._http.close()

    async def __aenter__(self) -> AsyncTwelveLabs:
        if self.closed:
            raise ClientClosedError("this client is closed; create a new AsyncTwelveLabs")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<AsyncTwelveLabs base_url={self.base_url!r} api_key=<hidden> {state}>"
