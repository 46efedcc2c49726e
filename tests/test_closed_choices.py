"""Closed choices: literal types that match the enums; an unknown analysis_mode refused."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from tests._simulator_support import general_body, raw, sim_and_client
from twelvelabs_async import (
    AnalysisMode,
    AnalysisModeValue,
    AssetVideo,
    AsyncTwelveLabs,
    BatchDefaults,
    BatchRequest,
    BatchStatus,
    BatchStatusValue,
    IndexedAssetStatus,
    IndexedAssetStatusValue,
    InvalidInputError,
    Request,
    Response,
    SegmentField,
    SegmentFieldItems,
    TaskStatus,
    TaskStatusValue,
    TimeFormat,
)
from twelvelabs_async._convert import structure
from twelvelabs_async.testing import MockTransport

# --- literal types that match the enums, open on the way in ----------------------------------


@pytest.mark.parametrize(
    ("alias", "enum"),
    [
        (AnalysisModeValue, AnalysisMode),
        (TaskStatusValue, TaskStatus),
        (BatchStatusValue, BatchStatus),
        (IndexedAssetStatusValue, IndexedAssetStatus),
    ],
    ids=["analysis_mode", "task_status", "batch_status", "indexed_asset_status"],
)
def test_literal_types_list_exactly_the_enum_values(alias: object, enum: type[Any]) -> None:
    """Each literal type of a parameter holds exactly its enum's values, in the same order."""
    assert list(typing.get_args(alias)) == [member.value for member in enum]


def test_time_formats_are_the_ones_validated() -> None:
    """TimeFormat's values are the segment time formats the request validation accepts."""
    from twelvelabs_async import _validate

    assert set(typing.get_args(TimeFormat)) == _validate._TIME_FORMATS


def test_segment_fields_decode_any_type_the_api_sends() -> None:
    """SegmentField's types are closed for a type checker, yet a new type decoded is kept."""
    field = structure(
        {"name": "n", "type": "geo_point", "format": "iso", "items": {"type": "tuple"}},
        SegmentField,
    )
    assert (field.type, field.format) == ("geo_point", "iso")
    assert field.items == SegmentFieldItems(type="tuple")


# --- an unknown analysis_mode: refused before any request, and by the simulator ----------------


def _recording() -> tuple[AsyncTwelveLabs, list[Request]]:
    sent: list[Request] = []

    def handler(request: Request) -> Response:
        sent.append(request)
        return Response.from_json(200, {"data": [], "page_info": {}})

    return AsyncTwelveLabs("test-key", transport=MockTransport(handler)), sent


MODE_MESSAGE = "analysis_mode 'segments' is not an analysis mode: use 'general'"


async def test_unknown_analysis_mode_is_refused_before_any_request() -> None:
    """tasks.create/list and batches.create/list refuse an unknown mode, sending nothing."""
    client, sent = _recording()
    mode: Any = "segments"  # what a typo looks like to code the type checker does not see
    async with client:
        with pytest.raises(InvalidInputError, match=MODE_MESSAGE):
            await client.analyze.tasks.create(
                video="https://example.com/v.mp4", prompt="Describe", analysis_mode=mode
            )
        with pytest.raises(InvalidInputError, match=MODE_MESSAGE):
            client.analyze.tasks.list(analysis_mode=mode)
        with pytest.raises(InvalidInputError, match=MODE_MESSAGE):
            await client.analyze.batches.create(
                requests=[BatchRequest(AssetVideo("a1"))],
                analysis_mode=mode,
                defaults=BatchDefaults(prompt="Describe"),
            )
        with pytest.raises(InvalidInputError, match=MODE_MESSAGE):
            client.analyze.batches.list(analysis_mode=["general", mode])
        with pytest.raises(InvalidInputError, match="analysis_mode 3 is not an analysis mode"):
            client.analyze.tasks.list(analysis_mode=3)  # type: ignore[arg-type]
    assert sent == []


async def test_known_analysis_modes_pass_as_members_or_strings() -> None:
    """Both modes pass as AnalysisMode members and as plain strings, and go on the wire."""
    client, sent = _recording()
    async with client:
        async for _ in client.analyze.tasks.list(analysis_mode=AnalysisMode.TIME_BASED_METADATA):
            pass
        async for _ in client.analyze.batches.list(analysis_mode="general"):
            pass
    assert sent[0].params is not None
    assert ("analysis_mode", "time_based_metadata") in list(sent[0].params)
    assert sent[1].params is not None
    assert ("analysis_mode", "general") in list(sent[1].params)


async def test_simulator_refuses_an_unknown_analysis_mode_as_the_api_does() -> None:
    """The simulator answers an unknown mode with 400 parameter_invalid, in each route's shape."""
    async with sim_and_client() as (sim, _client, _clock):
        create = await raw(
            sim, "POST", "analyze/tasks", json_body=general_body(analysis_mode="segments")
        )
        listed = await raw(sim, "GET", "analyze/tasks", params={"analysis_mode": "segments"})
        batches = await raw(sim, "GET", "analyze/batches", params={"analysis_mode": "segments"})
    assert (create.status, listed.status, batches.status) == (400, 400, 400)
    nested, flat = create.json()["error"], listed.json()  # create: nested; list: flat
    assert (nested["code"], flat["code"]) == ("parameter_invalid", "parameter_invalid")
    assert "analysis_mode 'segments'" in nested["message"]
    assert "analysis_mode 'segments'" in flat["message"]
    assert batches.json()["error"]["code"] == "parameter_invalid"
    assert sim.stats.count("create", 202) == 0
