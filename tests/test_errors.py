"""The exception tree and the pure mapping from an error response to an exception."""

from __future__ import annotations

import json

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from tests.conftest import API_KEY
from twelvelabs_async import errors
from twelvelabs_async.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TrackingTimeout,
    TwelveLabsError,
    UnprocessableEntityError,
    error_class_for,
    error_from_response,
    parse_error_body,
)

FLAT = {"code": "parameter_invalid", "message": "The video_url parameter is invalid."}
NESTED = {
    "error": {
        "code": "resource_not_exist",
        "message": "Task abc does not exist.",
        "details": {"task_id": "abc"},
    }
}


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
    (504, ServerError),
    (408, APIError),
    (410, APIError),
    (413, APIError),
]


# --- parse_error_body -------------------------------------------------------------------------


def test_parse_flat_body() -> None:
    """The flat {code, message} body yields its code and message and keeps the decoded JSON."""
    assert parse_error_body(_body(FLAT)) == (FLAT, FLAT["code"], FLAT["message"])


def test_parse_nested_body() -> None:
    """The nested {error: {code, message, details}} body yields the inner code and message."""
    decoded, code, message = parse_error_body(_body(NESTED))
    assert decoded == NESTED
    assert code == "resource_not_exist"
    assert message == "Task abc does not exist."


@pytest.mark.parametrize("raw", [b"", b"   \n\t "])
def test_parse_empty_body(raw: bytes) -> None:
    """An empty or whitespace-only body decodes to (None, None, None)."""
    assert parse_error_body(raw) == (None, None, None)


def test_parse_non_json_body_keeps_text() -> None:
    """A body that is not JSON is kept as its (stripped) text, with no code or message."""
    assert parse_error_body(b"  <html>502 Bad Gateway</html>\n") == (
        "<html>502 Bad Gateway</html>",
        None,
        None,
    )


def test_parse_invalid_utf8_body_is_replaced_not_raised() -> None:
    """Bytes that are not UTF-8 are decoded with replacement characters instead of failing."""
    decoded, code, message = parse_error_body(b"bad \xff byte")
    assert decoded == "bad \ufffd byte"
    assert (code, message) == (None, None)


@pytest.mark.parametrize("value", [[1, 2], 42, None, True, {}])
def test_parse_json_without_code_or_message(value: object) -> None:
    """JSON that is not an error object keeps the decoded value but gives no code or message."""
    assert parse_error_body(_body(value)) == (value, None, None)


def test_parse_error_given_as_a_string_becomes_the_message() -> None:
    """`{"error": "text"}` keeps its text as the message instead of losing it."""
    assert parse_error_body(_body({"error": "flat string"})) == (
        {"error": "flat string"},
        None,
        "flat string",
    )


def test_parse_non_string_code_is_stringified() -> None:
    """A numeric code or message is turned into a string."""
    assert parse_error_body(_body({"code": 123, "message": 7})) == (
        {"code": 123, "message": 7},
        "123",
        "7",
    )


# --- error_class_for --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_error_class_for_status(status: int, cls: type[APIError]) -> None:
    """Each status maps to its subclass; 5xx to ServerError; unlisted statuses to APIError."""
    assert error_class_for(status) is cls


# --- error_from_response ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_error_from_response_uses_exact_class(status: int, cls: type[APIError]) -> None:
    """error_from_response builds exactly the class for the status, carrying the status."""
    err = error_from_response(status, {}, _body(FLAT))
    assert type(err) is cls
    assert err.status_code == status
    assert err.code == "parameter_invalid"
    assert err.message == FLAT["message"]
    assert err.body == FLAT


def test_error_from_nested_body() -> None:
    """A nested body gives the inner code and message and keeps the whole body with details."""
    err = error_from_response(404, {}, _body(NESTED))
    assert isinstance(err, NotFoundError)
    assert err.code == "resource_not_exist"
    assert err.message == "Task abc does not exist."
    assert err.body["error"]["details"] == {"task_id": "abc"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "the API key is missing or invalid; set TWELVELABS_API_KEY or pass api_key="),
        (404, "not found"),
        (408, "the server timed out waiting for the request"),
        (429, "rate limit exceeded; slow down and retry later"),
        (500, "the server failed"),
        (503, "the server failed"),
        (410, "HTTP 410"),
        (413, "HTTP 413"),
    ],
)
def test_empty_body_gets_default_message(status: int, expected: str) -> None:
    """An empty body still gives a non-empty message describing the status, and body None."""
    err = error_from_response(status, {}, b"")
    assert err.message == expected
    assert err.code is None
    assert err.body is None


def test_non_json_body_text_becomes_message() -> None:
    """A non-JSON body is kept as text in .body and its first 300 chars are the message."""
    text = "upstream exploded " * 50
    err = error_from_response(502, {}, text.encode())
    assert isinstance(err, ServerError)
    assert err.body == text.strip()
    assert err.message == text.strip()[:300] + "... [599 more characters]"


def test_json_array_body_gets_default_message() -> None:
    """A JSON body that is not an object keeps the value in .body and uses the default message."""
    err = error_from_response(400, {}, b"[1, 2]")
    assert err.body == [1, 2]
    assert err.message == "the request was rejected as invalid"
    assert err.code is None


def test_empty_message_falls_back_to_default() -> None:
    """An empty message string in the body is replaced by the status's default message."""
    err = error_from_response(409, {}, _body({"code": "conflict", "message": ""}))
    assert err.code == "conflict"
    assert err.message == "the resource is in a state that does not allow this"


def test_context_prefixes_message() -> None:
    """`context` is put before the message, separated by a colon."""
    err = error_from_response(404, {}, _body(NESTED), context="GET /analyze/tasks/abc")
    assert err.message == "GET /analyze/tasks/abc: Task abc does not exist."
    assert str(err) == "404 resource_not_exist: GET /analyze/tasks/abc: Task abc does not exist."


def test_context_prefixes_default_message() -> None:
    """`context` is also put before a default message when the body had none."""
    err = error_from_response(503, {}, b"", context="POST /analyze")
    assert err.message == "POST /analyze: the server failed"


def test_str_with_and_without_code() -> None:
    """str(err) is "<status> <code>: <message>", leaving out the code when there is none."""
    assert str(error_from_response(400, {}, _body(FLAT))) == (
        "400 parameter_invalid: The video_url parameter is invalid."
    )
    assert str(error_from_response(500, {}, b"")) == "500: the server failed"


def test_rate_limit_error_carries_retry_after() -> None:
    """A 429 becomes RateLimitError with the given retry_after (None when not given)."""
    err = error_from_response(429, {}, b"", retry_after=12.5)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 12.5
    assert err.status_code == 429
    plain = error_from_response(429, {}, _body({"code": "too_many_requests", "message": "slow"}))
    assert isinstance(plain, RateLimitError)
    assert plain.retry_after is None
    assert plain.code == "too_many_requests"


def test_server_message_is_cut_and_escaped() -> None:
    """A long message with newlines and escape codes is cut to 300 characters and escaped."""
    message = "bad\nFAKE INFO twelvelabs_async: forged\x1b[2J" + "y" * 10_000
    err = error_from_response(400, {}, _body({"code": "c\nd", "message": message}))
    assert err.message.startswith("bad\\nFAKE INFO twelvelabs_async: forged\\x1b[2Jyyy")
    assert err.message.endswith("y... [9,742 more characters]")
    assert err.code == "c\\nd"
    assert "\n" not in str(err)
    assert "\x1b" not in str(err)
    assert err.body["message"] == message  # the body is the server's, as sent


def test_long_code_is_cut() -> None:
    """An error code longer than 100 characters is cut like a message."""
    err = error_from_response(400, {}, _body({"code": "c" * 5000, "message": "m"}))
    assert err.code == "c" * 100 + "... [4,900 more characters]"


@pytest.mark.parametrize(
    "body",
    [
        _body({"code": "bad_request", "message": f"invalid header x-api-key: {API_KEY[:12]}"}),
        _body({"error": {"message": f"echo: x-api-key={API_KEY}", "headers": [API_KEY]}}),
        f"<html>400 Bad Request<pre>x-api-key: {API_KEY}</pre></html>".encode(),
    ],
    ids=["flat", "nested", "text"],
)
def test_api_key_echo_is_redacted_in_message_and_body(body: bytes) -> None:
    """An echo of the key (or of its first 8+ characters) is [redacted] in message and body."""
    err = error_from_response(400, {}, body, context="GET /x", secret=API_KEY)
    assert isinstance(err, BadRequestError)
    assert "[redacted]" in err.message
    assert API_KEY[:8] not in err.message
    assert API_KEY[:8] not in json.dumps(err.body)
    assert "[redacted]" in json.dumps(err.body)


def test_error_body_nested_too_deeply_is_kept_as_text() -> None:
    """An error body too deeply nested to decode is still the status's error, with its text."""
    err = error_from_response(400, {}, b"[" * 200_000, context="GET /x")
    assert isinstance(err, BadRequestError)
    assert err.body == "[" * 200_000
    assert err.message == "GET /x: " + "[" * 300 + "... [199,700 more characters]"
    assert err.code is None


@pytest.mark.parametrize("value", [{"text": "x"}, ["x"], True, None])
def test_message_that_is_not_text_or_a_number_is_no_message(value: object) -> None:
    """A message (or code) given as an object, list, boolean or null is not used as one."""
    err = error_from_response(409, {}, _body({"code": value, "message": value}))
    assert err.message == "the resource is in a state that does not allow this"
    assert err.code is None


def test_headers_kept_as_given_case_insensitive() -> None:
    """The response headers object is kept as given, so case-insensitive lookups still work."""
    headers = CIMultiDictProxy(CIMultiDict({"X-Ratelimit-Remaining": "0", "Retry-After": "3"}))
    err = error_from_response(429, headers, b"")
    assert err.headers is headers
    assert err.headers["x-ratelimit-remaining"] == "0"
    assert err.headers["RETRY-AFTER"] == "3"


def test_headers_default_to_empty_mapping() -> None:
    """An APIError built without headers has an empty mapping, not None."""
    assert dict(APIError("boom", status_code=418).headers) == {}


# --- the exception tree -----------------------------------------------------------------------


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type)
        and issubclass(obj, BaseException)
        and obj.__module__ == errors.__name__
    ]


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_subclasses_base(cls: type[BaseException]) -> None:
    """Every exception class defined in errors.py is a TwelveLabsError."""
    assert issubclass(cls, TwelveLabsError)


def test_every_error_class_is_drawn_in_docstring() -> None:
    """Every exception class of errors.py appears in the tree drawn in its module docstring."""
    names = {cls.__name__ for cls in _error_classes()}
    assert len(names) >= 17
    assert {name for name in names if name not in (errors.__doc__ or "")} == set()


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (errors.ConfigurationError, (ValueError,)),
        (errors.InvalidInputError, (ValueError,)),
        (errors.ClientClosedError, (RuntimeError,)),
        (TrackingTimeout, (TimeoutError,)),
        (APITimeoutError, (APIConnectionError, TimeoutError)),
        (RateLimitError, (APIError,)),
        (ServerError, (APIError,)),
    ],
)
def test_builtin_bases(cls: type[BaseException], bases: tuple[type[BaseException], ...]) -> None:
    """Classes documented as also being a builtin (or another) exception really are."""
    assert all(issubclass(cls, base) for base in bases)


def test_tracking_timeout_pending() -> None:
    """TrackingTimeout is a TimeoutError holding the pending ids as a frozenset."""
    err = TrackingTimeout("deadline passed", pending=["a", "b", "a"])
    assert isinstance(err, TimeoutError)
    assert err.pending == frozenset({"a", "b"})
    assert str(err) == "deadline passed"
    assert TrackingTimeout("x").pending == frozenset()


def test_api_timeout_error_is_caught_as_both() -> None:
    """APITimeoutError is caught by `except APIConnectionError` and by `except TimeoutError`."""
    with pytest.raises(APIConnectionError):
        raise APITimeoutError("slow")
    with pytest.raises(TimeoutError):
        raise APITimeoutError("slow")


def test_decode_error_attributes() -> None:
    """DecodeError keeps message, path (default "$") and status_code."""
    err = errors.DecodeError("cut off")
    assert (err.message, err.path, err.status_code) == ("cut off", "$", None)
    err = errors.DecodeError("bad", path="$.a[0]", status_code=200)
    assert (str(err), err.path, err.status_code) == ("bad", "$.a[0]", 200)
