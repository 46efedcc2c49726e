"""How urgent the request being sent is, for a coordinator's shared budget.

The tracking engine sets it around its requests (its priorities: 0 finishes a retrieve, 1
reads a list page, 2 polls, 3 is the safety net); the HTTP seam reads it when it asks the
client's coordinator for a token. A request sent any other way (a user's own call) counts as
`DIRECT`: only retrieves that finish a tracked object go before it.
"""

from __future__ import annotations

from contextvars import ContextVar

DIRECT = 1
"""The priority of a request sent outside the tracking engine."""

REQUEST_PRIORITY: ContextVar[int] = ContextVar("twelvelabs_async_request_priority", default=DIRECT)
"""The priority of requests sent from the current context."""
