"""Every flag checked before the first request, in the command line's words; `tasks create`'s body.

Through the real entry point against the simulator, which counts requests: a refused flag is
exit code 2 with one line naming the flag, and no request (no task created, none paid for).
Messages speak of flags (`--api-key`), never of keyword arguments (`api_key=`) or Python
classes (`ClientConnectorError`), and a 404 from a base URL without `/v1.3` says so.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path

import pytest

from tests._cli_support import KEY, cli, cli_env, cli_many, cli_sim
from twelvelabs_async import APIConnectionError, APITimeoutError, AsyncTwelveLabs
from twelvelabs_async.cli._common import connection_problem
from twelvelabs_async.cli._flags import in_flag_terms

URL = "https://videos.example.com/cli.mp4"
CREATE = ["tasks", "create", "--video-url", URL]
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception)\b")
PYTHON_TERMS = re.compile(r"\b[a-z]+_[a-z_]+=|ResponseFormat|\bNone\b|api_key")
"""Keyword arguments, model constructors and Python values: not a CLI user's words."""

SCENES = [
    {
        "id": "scene",
        "description": "A continuous shot",
        "fields": [{"name": "location", "type": "string", "description": "Where it happens"}],
    }
]
SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
}


def _files(tmp_path: Path) -> dict[str, str]:
    files = {
        "scenes": json.dumps(SCENES),
        "schema": json.dumps(SCHEMA),
        "broken": '{"type": "object",',
        "number": "42",
        "empty_list": "[]",
        "unsupported": json.dumps({"type": "string", "maxLength": 9}),
    }
    paths = {}
    for name, text in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text, "utf-8")
        paths[name] = str(path)
    return paths


def _usage_errors(files: dict[str, str]) -> list[tuple[list[str], str]]:
    tbm = ["--analysis-mode", "time_based_metadata"]
    return [
        ([*CREATE, "--prompt", "P", "--wait", "--timeout", "-1"],
         "--timeout must be a number of seconds > 0, got -1"),
        ([*CREATE, "--prompt", "P", "--wait", "--timeout", "nan"], "--timeout: 'nan'"),
        ([*CREATE, "--prompt", "P", "--timeout", "5"], "--timeout needs --wait"),
        ([*CREATE, "--prompt", "P", "--analysis-mode", "bogus"],
         "--analysis-mode must be one of general, time_based_metadata; got 'bogus'"),
        ([*CREATE], "--prompt is required for a general analysis"),
        ([*CREATE, *tbm, "--prompt", "P", "--response-format", files["scenes"]],
         "--prompt: a time_based_metadata analysis takes no prompt"),
        ([*CREATE, *tbm], "--analysis-mode time_based_metadata needs --response-format FILE"),
        ([*CREATE, "--prompt", "P", "--response-format", files["scenes"]],
         "holds segment definitions: pass --analysis-mode time_based_metadata too"),
        ([*CREATE, *tbm, "--response-format", files["schema"]],
         "holds a JSON schema, but --analysis-mode time_based_metadata takes segment"),
        ([*CREATE, "--prompt", "P", "--response-format", files["broken"]], "is not JSON:"),
        ([*CREATE, "--prompt", "P", "--response-format", files["number"]],
         "must hold a JSON schema (an object) or segment definitions (a list)"),
        ([*CREATE, *tbm, "--response-format", files["empty_list"]],
         "segment_definitions takes 1-20 definitions, got 0"),
        ([*CREATE, "--prompt", "P", "--response-format", files["unsupported"]],
         "the API does not support the 'maxLength' keyword"),
        ([*CREATE, "--prompt", "P", "--response-format", "/nonexistent/f.json"],
         "--response-format /nonexistent/f.json: cannot read it"),
        ([*CREATE, "--prompt", "P", "--temperature", "2"],
         "--temperature must be between 0 and 1"),
        ([*CREATE, "--prompt", "P", "--max-tokens", "10"],
         "--max-tokens must be between 512 and 98304, got 10"),
        ([*CREATE, "--prompt", "P", "--max-tokens", "unlimited"],
         "--max-tokens unlimited needs --analysis-mode time_based_metadata"),
        ([*CREATE, "--prompt", "P", "--max-tokens", "lots"],
         "--max-tokens must be an integer or 'unlimited'"),
        ([*CREATE, "--prompt", "P", "--start-time", "10", "--end-time", "5"],
         "--end-time must be at least 1 s after --start-time"),
        ([*CREATE, "--prompt", "P", "--custom-id", "not ok!"], "--custom-id 'not ok!' is invalid"),
        ([*CREATE, "--prompt", "P", "--min-segment-duration", "3"],
         "--min-segment-duration/--max-segment-duration need --analysis-mode"),
        (["tasks", "create", "--video-url", "ftp://x/y.mp4", "--prompt", "P"],
         "--video-url 'ftp://x/y.mp4' is not an http:// or https:// URL"),
        (["tasks", "watch", "t1", "--timeout", "-5"],
         "--timeout must be a number of seconds > 0, got -5"),
        (["tasks", "watch", "t1", "--timeout", "0"], "--timeout must be a number of seconds > 0"),
        (["tasks", "watch", "not an id"], "id 'not an id' is not a valid id"),
        (["tasks", "list", "--status", "bogus"],
         "--status must be one of queued, pending, processing, ready, failed, canceled"),
        (["tasks", "list", "--limit", "0"], "--limit must be an integer >= 1, got 0"),
        (["tasks", "list", "--limit", "-1"], "--limit must be an integer >= 1, got -1"),
        (["tasks", "list", "--limit", "ten"], "--limit must be an integer >= 1, got 'ten'"),
        (["analyze", "--video-url", URL, "--prompt", " "], "--prompt must be a non-empty string"),
        (["demo", "--max-duration", "1"], "--max-duration must be a number of seconds >= 2"),
        (["demo", "--base-url", "http://127.0.0.1:1/v1.3"], "--base-url need --live"),
        (["demo", "--live"], "--live needs at least one --video-url"),
    ]  # fmt: skip


async def test_a_refused_flag_exits_2_on_one_line_before_any_request(tmp_path: Path) -> None:
    """Each refused flag: exit 2, nothing on stdout, one line naming it, and no request sent."""
    cases = _usage_errors(_files(tmp_path))
    results = []
    async with cli_sim() as sim:
        for start in range(0, len(cases), 6):  # 6 at once: each start is a second of imports
            batch = cases[start : start + 6]
            results += await cli_many(*(args for args, _ in batch), sim=sim)
        assert sim.stats.total == 0  # nothing created, nothing paid for
    for (args, message), result in zip(cases, results, strict=True):
        assert (result.code, result.out) == (2, ""), (args, result.err)
        assert message in result.err, (args, result.err)
        assert len(result.err.splitlines()) == 1, (args, result.err)
        assert result.err.startswith("twelvelabs-async"), result.err
        assert not PYTHON_TERMS.search(result.err.replace("time_based_metadata", "")), result.err


async def test_create_sends_the_mode_the_response_format_and_every_scalar(tmp_path: Path) -> None:
    """`tasks create` covers the body: mode, a response format file, custom id and the scalars."""
    files = _files(tmp_path)
    async with cli_sim() as sim:
        segments, general = await cli_many(
            [*CREATE, "--analysis-mode", "TIME_BASED_METADATA", "--response-format",
             files["scenes"], "--max-tokens", "UNLIMITED", "--min-segment-duration", "4",
             "--custom-id", "seg-1"],
            [*CREATE, "--prompt", "Name the title", "--response-format", files["schema"],
             "--model-name", "pegasus1.5", "--temperature", "0.2", "--max-tokens", "2048",
             "--start-time", "10", "--end-time", "70", "--custom-id", "gen-1", "--json"],
            sim=sim,
        )  # fmt: skip
        assert segments.code == 0, segments.err
        assert general.code == 0, general.err
        (ref,) = general.json_lines()
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            seg = await client.analyze.tasks.retrieve(segments.out.strip())
            gen = await client.analyze.tasks.retrieve(ref["task_id"])
        assert sim.stats.count("create") == 2
        stored = sim._app.store.get(gen.task_id)  # the API does not echo model_name
        assert stored is not None
        assert stored.body["model_name"] == "pegasus1.5"
    assert seg.custom_id == "seg-1"
    p = seg.request_params
    assert p is not None
    assert (str(p.analysis_mode), p.max_tokens, p.min_segment_duration, p.prompt) == (
        "time_based_metadata", "unlimited", 4, None)  # fmt: skip
    assert p.response_format is not None
    assert [d.id for d in p.response_format.segment_definitions or ()] == ["scene"]
    assert gen.custom_id == "gen-1"
    q = gen.request_params
    assert q is not None
    assert (q.prompt, q.temperature, q.max_tokens) == ("Name the title", 0.2, 2048)
    assert (q.start_time, q.end_time) == (10, 70)
    assert q.response_format is not None
    assert q.response_format.type == "json_schema"
    assert q.response_format.json_schema == SCHEMA


async def test_create_wait_with_a_bad_timeout_creates_nothing() -> None:
    """`--wait --timeout -1` is refused before the task is created (it would be paid for)."""
    async with cli_sim() as sim:
        result = await cli(*CREATE, "--prompt", "P", "--wait", "--timeout", "-1", sim=sim)
        assert sim.stats.count("create") == 0
    assert result.code == 2
    assert "--timeout" in result.err
    assert "created" not in result.err


# --- the key, the base URL, connections ----------------------------------------------------------


async def test_the_key_flag_works_before_the_command_too() -> None:
    """`twelvelabs-async --api-key K tasks list` (and `tasks --api-key K list`) use the key."""
    async with cli_sim() as sim:
        (task_id,) = await sim.seed_tasks(1, duration=0.0)
        env = cli_env(sim, TWELVELABS_API_KEY=None)
        runs = [
            ["--api-key", KEY, "tasks", "list", "--json"],
            ["tasks", "--api-key", KEY, "list", "--json"],
            ["--api-key", "tlk_wrong_key_0000", "tasks", "list", "--api-key", KEY, "--json"],
            ["--base-url", sim.base_url, "--api-key", KEY, "tasks", "get", task_id, "--json"],
        ]
        results = await asyncio.gather(*(cli(*args, env=env) for args in runs))
    for result in results:
        assert result.code == 0, result.err
        assert [t["task_id"] for t in result.json_lines()] == [task_id]


async def test_no_key_says_how_to_give_one_in_cli_terms() -> None:
    """No key: exit 2 naming `TWELVELABS_API_KEY` and `--api-key`, not `api_key=`."""
    result = await cli("tasks", "list", env=cli_env(TWELVELABS_API_KEY=None))
    assert (result.code, result.out) == (2, "")
    assert "TWELVELABS_API_KEY" in result.err
    assert "--api-key KEY" in result.err
    assert "api_key=" not in result.err


async def test_a_base_url_without_its_version_gets_a_hint_on_404() -> None:
    """A base URL without `/v1.3` gets 404 on every route: the message says what to fix."""
    async with cli_sim() as sim:
        bare = sim.base_url.removesuffix("/v1.3")
        (task_id,) = await sim.seed_tasks(1, duration=0.0)
        listed, watched = await cli_many(
            ["tasks", "list", "--base-url", bare],
            ["tasks", "watch", task_id, "--base-url", bare],
            sim=sim,
        )
    for result in (listed, watched):
        assert (result.code, result.out) == (3, "")
        assert "404" in result.err
        assert "did it forget /v1.3?" in result.err
        assert f"--base-url {bare}/v1.3" in result.err


async def test_connection_failures_are_said_in_words_watch_included() -> None:
    """Refused, or https to an http server: exit 3 in words, no class name; watch does not hang."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nowhere = f"http://127.0.0.1:{port}/v1.3"
    async with cli_sim() as sim:
        tls = sim.base_url.replace("http://", "https://")
        refused, watched, wrong_scheme = await cli_many(
            ["tasks", "list", "--base-url", nowhere],
            ["tasks", "watch", "t1", "--base-url", nowhere],
            ["tasks", "get", "t1", "--base-url", tls],
            sim=sim,
        )
    for result in (refused, watched):
        assert (result.code, result.out) == (3, "")
        assert f"cannot connect to 127.0.0.1:{port}: nothing answered" in result.err
    assert wrong_scheme.code == 3
    assert "it does not speak https there" in wrong_scheme.err
    for result in (refused, watched, wrong_scheme):
        assert not CLASS_NAME.search(result.err), result.err
        assert len(result.err.splitlines()) == 1, result.err


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (APIConnectionError("GET /x: ClientConnectorDNSError: Cannot connect to host "
                            "api.example.com:443 ssl:default [Name or service not known]"),
         "cannot find the host api.example.com: check the address in --base-url"),
        (APIConnectionError("GET /x: ClientConnectorCertificateError: Cannot connect to host "
                            "api.example.com:443 ssl:True [SSLCertVerificationError: (1, "
                            "'[SSL: CERTIFICATE_VERIFY_FAILED]')]"),
         "the secure connection to api.example.com failed: its certificate is not trusted"),
        (APIConnectionError("GET /x: ServerDisconnectedError: Server disconnected"),
         "the connection to api.example.com was lost before the API answered"),
        (APITimeoutError("GET /x: no response within the 60s per-request timeout"),
         "did not answer in time (no response within the 60s per-request timeout)"),
        (APIConnectionError("GET /x: ClientOSError: [Errno 101] Network is unreachable"),
         "the connection to api.example.com failed"),
    ],
)  # fmt: skip
def test_each_kind_of_connection_failure_has_its_own_words(
    error: APIConnectionError, said: str
) -> None:
    """DNS, TLS, a dropped connection and a timeout each get a sentence; no class name."""
    text = connection_problem(error, "https://api.example.com/v1.3")
    assert said in text
    assert not CLASS_NAME.search(text), text


@pytest.mark.parametrize(
    ("library", "cli_words"),
    [
        ("analysis_mode='time_based_metadata' needs response_format=ResponseFormat.segments(...)",
         "--analysis-mode time_based_metadata needs --response-format FILE (segment definitions)"),
        ("no API key: pass api_key= or set X", "no API key: pass --api-key or set X"),
        ("segment_definitions[0].fields[1].name 'start_time' is reserved",
         "segment_definitions[0].fields[1].name 'start_time' is reserved"),
        ("end_time must be at least 1 s after start_time",
         "--end-time must be at least 1 s after --start-time"),
    ],
)  # fmt: skip
def test_library_messages_are_put_in_flag_terms(library: str, cli_words: str) -> None:
    """Keyword arguments become flags; a value quoted back and nested fields stay as they are."""
    assert in_flag_terms(library) == cli_words


# --- simulate ------------------------------------------------------------------------------------


async def test_simulate_refuses_a_busy_or_impossible_port_without_a_traceback() -> None:
    """A port in use, a port past 65535, an unwritable file, no rpm: exit 2 naming the flag."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        in_use, too_big, unwritable, bad_number = await cli_many(
            ["simulate", "--port", str(port)],
            ["simulate", "--port", "99999"],
            ["simulate", "--port", "0", "--ids-file", "/nonexistent/ids.txt"],
            ["simulate", "--rpm", "0"],
        )
    for result in (in_use, too_big, unwritable, bad_number):
        assert (result.code, result.out) == (2, ""), result.err
        assert len(result.err.splitlines()) == 1, result.err
    assert f"127.0.0.1:{port} is already in use; pick another --port" in in_use.err
    assert "--port must be an integer between 0 and 65535, got 99999" in too_big.err
    assert "--ids-file /nonexistent/ids.txt: cannot write there" in unwritable.err
    assert "--rpm must be an integer >= 1, got 0" in bad_number.err
