"""Server data made safe: JSON decoding that fails one way, redaction, text fit to show."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import API_KEY
from twelvelabs_async._untrusted import loads, redact, redact_json, shown

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {API_KEY} echoed", "key [redacted] echoed"),
        (f"x-api-key: {API_KEY[:8]}", "x-api-key: [redacted]"),
        (f"x-api-key: {API_KEY[:15]}...", "x-api-key: [redacted]..."),
        (f"{API_KEY[:7]} is too short to be the key", f"{API_KEY[:7]} is too short to be the key"),
        (f"{API_KEY}{API_KEY}", "[redacted][redacted]"),
        (f"a{API_KEY[:10]}b{API_KEY}c", "a[redacted]b[redacted]c"),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_redact_replaces_the_key_and_its_leading_parts(text: str, expected: str) -> None:
    """The key, or a leading part of it of 8+ characters, becomes [redacted]; less stays."""
    assert redact(text, API_KEY) == expected


@pytest.mark.parametrize("secret", [None, "", "short"])
def test_redact_leaves_text_alone_without_a_real_key(secret: str | None) -> None:
    """No key, or one shorter than 8 characters (a placeholder), redacts nothing."""
    text = f"short and {API_KEY}"
    assert redact(text, secret) == text
    assert redact_json({"k": text}, secret) == {"k": text}


def test_redact_json_reaches_every_string() -> None:
    """Strings anywhere in decoded JSON, keys included, are redacted; the rest is kept."""
    data: Any = {
        "error": {"message": f"bad key {API_KEY}", "details": [1, None, [f"{API_KEY[:9]}"]]},
        API_KEY: True,
        "n": 2.5,
    }
    assert redact_json(data, API_KEY) == {
        "error": {"message": "bad key [redacted]", "details": [1, None, ["[redacted]"]]},
        "[redacted]": True,
        "n": 2.5,
    }
    assert redact_json(f"raw {API_KEY}", API_KEY) == "raw [redacted]"


def test_redact_json_walks_deep_documents_without_recursion() -> None:
    """A document nested far deeper than the stack allows is redacted all the same."""
    data: Any = API_KEY
    for _ in range(50_000):
        data = [data]
    node = redact_json(data, API_KEY)
    for _ in range(50_000):
        node = node[0]
    assert node == "[redacted]"


def test_shown_cuts_long_text_and_says_how_much() -> None:
    """Text over the limit is cut to it, followed by how many characters were left out."""
    assert shown("a" * 1000) == "a" * 300 + "... [700 more characters]"
    assert shown("a" * 300) == "a" * 300
    assert shown("abcdef", limit=3) == "abc... [3 more characters]"


ESCAPED = {
    "line one\nFAKE 2024 INFO forged line": "line one\\nFAKE 2024 INFO forged line",
    "tab\there\r": "tab\\there\\r",
    "\x1b[31mred\x1b[0m": "\\x1b[31mred\\x1b[0m",
    "bidi \u202eevil": "bidi \\u202eevil",
    "accents é and 中文 stay": "accents é and 中文 stay",
}
"""Server text, and how an exception or a log line shows it."""


@pytest.mark.parametrize(("text", "expected"), ESCAPED.items())
def test_shown_escapes_control_characters(text: str, expected: str) -> None:
    """Newlines, control and other unprintable characters are escaped; printable text stays."""
    assert shown(text) == expected


def test_shown_redacts_before_cutting() -> None:
    """A key that straddles the cut is redacted first, so no part of it is shown."""
    text = "x" * 295 + API_KEY
    assert shown(text, API_KEY) == "x" * 295 + "[redacted]"[:5] + "... [5 more characters]"
    assert API_KEY[:5] not in shown(text, API_KEY)[290:]


def test_redact_json_keeps_json_serializable() -> None:
    """Redacted JSON is still plain JSON data."""
    data = json.loads(json.dumps({"a": [API_KEY, {"b": API_KEY[:12]}]}))
    assert json.loads(json.dumps(redact_json(data, API_KEY))) == {
        "a": ["[redacted]", {"b": "[redacted]"}]
    }
