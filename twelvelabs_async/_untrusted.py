"""What a server sends, made safe to decode. Pure: no I/O.

A broken or hostile server (or a proxy in front of the API) controls every byte of a response.
These helpers are where the library stops trusting them:

- `loads` decodes JSON and raises `ValueError` for every failure, a document nested deeper
  than the interpreter's stack allows included (`json.loads` raises `RecursionError` there),
  so that each caller turns one exception into its own typed error.
"""

from __future__ import annotations

import json
from typing import Any


def loads(data: bytes | str) -> Any:
    """`json.loads`, raising `ValueError` for every failure (too deep a nesting included).

    Raises:
        ValueError: the data is not JSON, not UTF-8, or nested too deeply to decode.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to decode") from None
