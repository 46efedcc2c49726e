"""Server data made safe: JSON decoding that fails one way."""

from __future__ import annotations

import pytest

from twelvelabs_async._untrusted import loads

DEEP = b"[" * 200_000


@pytest.mark.parametrize(
    "raw", [DEEP, DEEP.decode(), b'{"a": ' * 100_000, b"not json", b"\xff\xfe", b""]
)
def test_loads_raises_value_error_for_any_failure(raw: bytes | str) -> None:
    """Malformed, undecodable and too deeply nested JSON all raise ValueError, nothing else."""
    with pytest.raises(ValueError):  # noqa: PT011 - the one type callers catch is the point
        loads(raw)


def test_loads_decodes_json() -> None:
    """Valid JSON decodes as json.loads would, from bytes or text."""
    assert loads(b'{"a": [1, 2.5, null, "x"]}') == {"a": [1, 2.5, None, "x"]}
    assert loads('"text"') == "text"
