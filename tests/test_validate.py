"""Checks made before any request: safe path ids, custom ids, video inputs, analysis bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from twelvelabs_async import (
    AnalysisMode,
    AssetVideo,
    Base64Video,
    ImageInput,
    InvalidInputError,
    MediaSource,
    PromptV2,
    ResponseFormat,
    SegmentDefinition,
    SegmentField,
    UrlVideo,
)
from twelvelabs_async._validate import check_custom_id, path_id, video_input
from twelvelabs_async.analyze._body import request_body
from twelvelabs_async.analyze._request import SYNC, TASK, AnalysisRequest

VIDEO = "https://cdn.example.com/v.mp4"
VIDEO_BODY = {"type": "url", "url": VIDEO}
SEG = {"id": "scenes", "description": "Each scene"}
IMG = {"name": "a", "url": "https://x/a.png"}
TB = {"prompt": None, "analysis_mode": "time_based_metadata"}


def build(*, sync: bool = False, **kwargs: Any) -> dict[str, Any]:
    """The body of an async (or `sync`) general request on a URL video, overridden by kwargs."""
    request = AnalysisRequest(**{"video": VIDEO, "prompt": "Summarize", **kwargs})
    return request_body(request, SYNC if sync else TASK)


def segs(*definitions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Arguments for a segmentation task with these definitions (one plain one by default)."""
    fmt = {"type": "segment_definitions", "segment_definitions": list(definitions) or [SEG]}
    return {**TB, "response_format": {**fmt, **extra}}


def fields(*items: dict[str, Any]) -> dict[str, Any]:
    """Segmentation arguments whose one definition has these fields."""
    return segs({**SEG, "fields": list(items)})


def schema(json_schema: Any) -> dict[str, Any]:
    """Arguments with a json_schema response format."""
    return {"response_format": {"type": "json_schema", "json_schema": json_schema}}


# --- path_id / check_custom_id / video_input --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "task_id is empty"),
        ("/", "contains a path part"),
        ("a/b", "contains a path part"),
        ("..", "contains a path part"),
        (".", "contains a path part"),
        ("a\\b", "contains a path part"),
        (" abc", "whitespace or a control character"),
        ("abc\n", "whitespace or a control character"),
        ("a\tb", "whitespace or a control character"),
        ("a\x00b", "whitespace or a control character"),
        ("a\u200bb", "whitespace or a control character"),
        (None, "task_id must be a string, got NoneType"),
        (123, "task_id must be a string, got int"),
    ],
)
def test_path_id_refuses(value: object, message: str) -> None:
    """Ids that are empty, not strings, or could change the request path are refused."""
    with pytest.raises(InvalidInputError) as info:
        path_id(value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a?b", "'a?b'"),
        ("a#b", "'a#b'"),
        ("100%", "'100%'"),
        ("%2e%2e", "'%2e%2e'"),
        ("a..b", "'a..b'"),
        ("..;", "'..;'"),
        ("..;jsessionid=1", "'..;jsessionid=1'"),
        (".;x", "'.;x'"),
        ("a;b", "'a;b'"),
        ("a-b_c.d~e", "'a-b_c.d~e'"),
        ("tâche", "'t\\xe2che'"),
        ("t\u202eexe", "'t\\u202eexe'"),
    ],
)
def test_path_id_refuses_what_is_not_an_api_id(value: str, shown: str) -> None:
    """Only 1-128 of A-Z a-z 0-9 _ - pass (nothing to quote): the error shows the value escaped.

    Changed by design: these ids used to be percent-quoted and sent; `;` came back decoded
    (`..;` went out as `/analyze/tasks/..;`, which servers that drop `;params` read as `..`).
    """
    with pytest.raises(InvalidInputError) as info:
        path_id(value)
    assert str(info.value).startswith(f"task_id {shown} is not a valid id")


@pytest.mark.parametrize(
    "value", ["6a1f0c", "6650f1a3e4b0c2d1a9f3e7b2", "A-z_09", "t1", "x" * 128, "-", "_"]
)
def test_path_id_accepts_api_ids_unchanged(value: str) -> None:
    """An id of 1-128 allowed characters is returned exactly as given (no quoting needed)."""
    assert path_id(value) == value


def test_a_long_id_is_refused_and_shown_cut_short() -> None:
    """A 10,000-character id is refused; the message gives its length, not all of it."""
    with pytest.raises(InvalidInputError) as info:
        path_id("a" * 10_000, "batch_id")
    message = str(info.value)
    assert message.startswith("batch_id 'aaaa")
    assert "(10000 characters)" in message
    assert "more than 128" in message
    assert len(message) < 200


def test_path_id_names_the_argument() -> None:
    """The error names the argument given as `what`."""
    with pytest.raises(InvalidInputError, match=r"^batch_id is empty"):
        path_id("", "batch_id")


@pytest.mark.parametrize("value", ["a", "A-z_09", "x" * 64])
def test_custom_id_accepted(value: str) -> None:
    """1-64 characters of letters, digits, '_' and '-' are accepted unchanged."""
    assert check_custom_id(value) == value


@pytest.mark.parametrize("value", ["", "x" * 65, "has space", "dot.ted", "tâche", "a\n", 5, None])
def test_custom_id_refused(value: object) -> None:
    """Anything else is refused with a message giving the allowed form."""
    with pytest.raises(InvalidInputError, match="use 1-64 characters from A-Z, a-z, 0-9"):
        check_custom_id(value)


@pytest.mark.parametrize(
    ("video", "expected"),
    [
        (VIDEO, UrlVideo(VIDEO)),
        ("http://plain.example.com/v.mp4", UrlVideo("http://plain.example.com/v.mp4")),
        (UrlVideo(VIDEO), UrlVideo(VIDEO)),
        (AssetVideo("asset-1"), AssetVideo("asset-1")),
        (Base64Video("QUJD"), Base64Video("QUJD")),
    ],
)
def test_video_input_accepted(video: object, expected: object) -> None:
    """A URL string becomes UrlVideo; typed inputs pass through."""
    assert video_input(video) == expected


@pytest.mark.parametrize(
    ("video", "message"),
    [
        ("ftp://x/v.mp4", "video 'ftp://x/v.mp4' is not an http:// or https:// URL"),
        ("https://", "is not an http:// or https:// URL"),
        ("v.mp4", "is not an http:// or https:// URL"),
        (UrlVideo("file:///v.mp4"), "video.url 'file:///v.mp4' is not"),
        (AssetVideo(""), "video.asset_id is empty"),
        (Base64Video(""), "video.base64_string is empty"),
        (42, "video must be a URL string, UrlVideo, AssetVideo or Base64Video, got int"),
        ({"type": "url", "url": VIDEO}, "got dict"),
    ],
)
def test_video_input_refused(video: object, message: str) -> None:
    """Non-http(s) URLs, empty sources and other types are refused, saying why."""
    with pytest.raises(InvalidInputError) as info:
        video_input(video)
    assert message in str(info.value)


# --- request_body: refusals ------------------------------------------------------------------

MEDIA = {"name": "m", "url": "https://x/m.png"}
OK_FIELD = {"name": "at", "type": "timestamp", "format": "seconds"}
NO_VIDEO = {"video": None}


def time_array(*inner: dict[str, Any]) -> dict[str, Any]:
    """A time_array field whose events have these fields (one string field by default)."""
    subfields = list(inner) or [{"name": "who", "type": "string"}]
    return {"name": "e", "type": "time_array", "items": {"type": "object", "fields": subfields}}


def v2(**prompt_v2: Any) -> dict[str, Any]:
    """Arguments with prompt_v2 (input_text "x" unless given) instead of prompt."""
    return {"prompt": None, "prompt_v2": {"input_text": "x", **prompt_v2}}


def images(*items: dict[str, Any], prompt: str | None = "Describe") -> dict[str, Any]:
    """Arguments with these images instead of a video."""
    return {"video": None, "image": list(items), "prompt": prompt}


def ranges(*pairs: tuple[float, float], **extra: Any) -> dict[str, Any]:
    """Segmentation arguments whose one definition has these time ranges."""
    spans = [{"start_time": a, "end_time": b} for a, b in pairs]
    return {**segs({**SEG, "time_ranges": spans}), **extra}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (NO_VIDEO, "pass exactly one of video= or image="),
        ({"image": [IMG]}, "pass exactly one of video= or image="),
        ({"video": "ftp://x"}, "video 'ftp://x' is not an http:// or https:// URL"),
        ({"prompt_v2": {"input_text": "x"}}, "prompt and prompt_v2 are mutually exclusive"),
        ({"prompt": "  "}, "prompt must be a non-empty string"),
        ({"prompt": 5}, "prompt must be a non-empty string"),
        ({**images(IMG), "prompt": 5}, "prompt must be a non-empty string"),
        ({"prompt": None}, "a general analysis needs prompt (or prompt_v2)"),
        (v2(input_text=""), "prompt_v2.input_text is empty"),
        ({"prompt": None, "prompt_v2": "text"}, "prompt_v2 must be a PromptV2 or a mapping"),
        ({"prompt": None, "prompt_v2": {}}, "prompt_v2 is not valid"),
        (v2(media_sources=[MEDIA] * 5), "prompt_v2.media_sources takes at most 4 sources, got 5"),
        (v2(media_sources=[{"name": "m"}]), "media_sources[0] needs exactly one of url, asset_id"),
        (v2(media_sources=[{**MEDIA, "url": "http://x/m"}]), "'http://x/m' is not an https:// URL"),
        (images(), "image takes 1-20 images, got 0"),
        (images(*({**IMG, "name": f"i{n}"} for n in range(21))), "image takes 1-20 images, got 21"),
        (images(IMG, IMG), "image names must be unique within the request"),
        (images({**IMG, "name": "a-b"}), "image[0].name 'a-b' may contain only letters, digits"),
        (images({"name": "a"}), "image[0] needs exactly one of url, asset_id or base64_string"),
        (images({**IMG, "base64_string": "QUJD"}), "image[0] needs exactly one of url, asset_id"),
        (images({**IMG, "url": "http://x/a"}), "image[0].url 'http://x/a' is not an https:// URL"),
        (images(IMG, prompt=None), "image requires prompt"),
        (images(IMG, {**IMG, "name": "b"}, prompt="<@a>"), "or none of them; missing: b"),
        ({**images(IMG, prompt=None), **v2()}, "image cannot be combined with prompt_v2"),
        ({**NO_VIDEO, "image": ["a.png"]}, "image[0] must be a ImageInput or a mapping"),
        ({**segs(), "prompt": "x"}, "'time_based_metadata' takes no prompt or prompt_v2"),
        ({**segs(), **v2()}, "'time_based_metadata' takes no prompt or prompt_v2"),
        (TB, "needs response_format=ResponseFormat.segments(...)"),
        ({**TB, **schema({"a": 1})}, "needs response_format type 'segment_definitions'"),
        ({"response_format": segs()["response_format"]}, "output needs analysis_mode='time_based"),
        ({"response_format": "json"}, "response_format must be a ResponseFormat or a mapping"),
        ({"response_format": {"type": "text"}}, "response_format type 'text' is unknown"),
        ({"response_format": {"type": "json_schema"}}, "of type json_schema needs json_schema"),
        (schema({}), "response_format of type json_schema needs json_schema"),
        (
            {
                "response_format": {
                    **schema({"a": 1})["response_format"],
                    "segment_time_format": "x",
                }
            },
            "segment_definitions and segment_time_format need type segment_definitions",
        ),
        (segs(segment_time_format="minutes"), "segment_time_format must be one of ['hh:mm:ss'"),
        (segs(segment_definitions=[]), "segment_definitions takes 1-20 definitions, got 0"),
        (segs(*[SEG] * 21), "segment_definitions takes 1-20 definitions, got 21"),
        (segs({"id": "", "description": "d"}), "segment_definitions[0] needs an id and a desc"),
        (segs({"id": "x", "description": ""}), "segment_definitions[0] needs an id and a desc"),
        (fields(*[{"name": f"f{n}", "type": "string"} for n in range(21)]), "at most 20 fields"),
        (segs({**SEG, "media_sources": [MEDIA] * 5}), "[0].media_sources takes at most 4"),
        ({"max_tokens": 511}, "max_tokens must be between 512 and 98304, got 511"),
        ({"max_tokens": 98_305}, "max_tokens must be between 512 and 98304, got 98305"),
        ({**segs(), "max_tokens": 2047}, "max_tokens must be between 2048 and 98304, got 2047"),
        ({"max_tokens": "unlimited"}, "'unlimited' needs analysis_mode='time_based_metadata'"),
        (ranges((0, 5), max_tokens="unlimited"), "'unlimited' cannot be used with time_ranges"),
        ({"max_tokens": "lots"}, "max_tokens must be an integer or 'unlimited', got 'lots'"),
        ({"max_tokens": True}, "max_tokens must be an integer or 'unlimited', got True"),
        ({"max_tokens": 1000.5}, "max_tokens must be an integer or 'unlimited', got 1000.5"),
        (
            {"sync": True, "max_tokens": "unlimited"},
            "max_tokens must be an integer, got 'unlimited'",
        ),
        ({"sync": True, "max_tokens": 100.5}, "max_tokens must be an integer, got 100.5"),
        ({"sync": True, "max_tokens": 0}, "max_tokens must be between 1 and 98304, got 0"),
        ({"temperature": -0.1}, "temperature must be between 0 and 1, got -0.1"),
        ({"temperature": 1.5}, "temperature must be between 0 and 1, got 1.5"),
        ({"temperature": float("nan")}, "temperature must be between 0 and 1, got nan"),
        ({"temperature": "hot"}, "temperature must be a number, got str"),
        ({"start_time": 10, "end_time": 10.5}, "end_time must be at least 1 s after start_time"),
        ({"start_time": 10, "end_time": 5}, "end_time must be at least 1 s after start_time"),
        ({"start_time": 0, "end_time": 7200.5}, "start_time/end_time window may be at most 7200 s"),
        ({"start_time": -1}, "start_time must be between 0 and inf, got -1"),
        ({"min_segment_duration": 5}, "segment_duration need analysis_mode='time_based_metadata'"),
        ({**segs(), "min_segment_duration": 1.5}, "min_segment_duration must be between 2 and inf"),
        ({**segs(), "max_segment_duration": 1}, "max_segment_duration must be between 2 and inf"),
        ({**segs(), "min_segment_duration": 9, "max_segment_duration": 5}, "must be >= min_seg"),
        (ranges((0, 5), max_segment_duration=5), "durations cannot be combined with time_ranges"),
        (ranges((3, 4.5)), "time_ranges: each range must start at >= 0 and last at least 2 s"),
        (ranges((-1, 4)), "time_ranges: each range must start at >= 0 and last at least 2 s"),
        (ranges((5, 9), (0, 6)), "segment_definitions[0].time_ranges must not overlap"),
        (ranges((0, 5), start_time=1), "start_time/end_time cannot be combined with time_ranges"),
        (ranges((0, 5), end_time=9), "start_time/end_time cannot be combined with time_ranges"),
        ({"sync": True, **segs()}, "generate() accepts only response_format type 'json_schema'"),
        ({"custom_id": "bad id"}, "custom_id 'bad id' is invalid"),
    ],
)
def test_analysis_body_refuses(kwargs: dict[str, Any], message: str) -> None:
    """Each documented rule refuses a bad body with an InvalidInputError saying what is wrong."""
    with pytest.raises(InvalidInputError) as info:
        build(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "start_time", "type": "number"}, "fields[0].name 'start_time' is reserved"),
        ({"name": "end_time", "type": "number"}, "'end_time' is reserved"),
        ({"name": "metadata", "type": "string"}, "'metadata' is reserved"),
        ({"name": "at", "type": "timestamp"}, "a timestamp field needs format in"),
        ({**OK_FIELD, "format": "ms"}, "a timestamp field needs format in"),
        ({**OK_FIELD, "enum": ["1"]}, "enum is not allowed on a timestamp field"),
        ({"name": "s", "type": "string", "format": "seconds"}, "format is allowed only on a "),
        ({"name": "s", "type": "string", "enum": [str(n) for n in range(101)]}, "at most 100"),
        ({"name": "l", "type": "array"}, "a field of type 'array' needs items"),
        ({"name": "e", "type": "time_array"}, "a field of type 'time_array' needs items"),
        ({"name": "e", "type": "time_array", "items": {"type": "object"}}, "needs at least one"),
        (time_array(time_array()), "fields[0].items cannot contain another time_array"),
    ],
)
def test_segment_field_rules(field: dict[str, Any], message: str) -> None:
    """Segment fields follow the documented rules, and the error names the field."""
    with pytest.raises(InvalidInputError) as info:
        build(**fields(field))
    assert message in str(info.value)
    assert "segment_definitions[0].fields[0]" in str(info.value)


@pytest.mark.parametrize(
    "keyword", ["minLength", "maxLength", "additionalProperties", "uniqueItems", "maxItems"]
)
@pytest.mark.parametrize(
    ("template", "path"),
    [
        ('{"type": "object", "KW": 1}', "json_schema.KW"),
        ('{"properties": {"name": {"type": "string", "KW": 3}}}', "json_schema.properties.name.KW"),
        ('{"properties": {"t": {"items": {"KW": 1}}}}', "json_schema.properties.t.items.KW"),
        ('{"anyOf": [{"type": "null"}, {"type": "string", "KW": 2}]}', "json_schema.anyOf[1].KW"),
        ('{"$defs": {"x": {"$defs": {"y": {"KW": 0}}}}}', "json_schema.$defs.x.$defs.y.KW"),
    ],
)
@pytest.mark.parametrize("sync", [False, True])
def test_rejected_schema_keywords(keyword: str, template: str, path: str, sync: bool) -> None:
    """Keywords the API rejects with 422 are refused at any depth, naming where they are."""
    with pytest.raises(InvalidInputError) as info:
        build(sync=sync, **schema(json.loads(template.replace("KW", keyword))))
    where = path.replace("KW", keyword)
    assert (
        str(info.value) == f"{where}: the API does not support the {keyword!r} keyword; remove it"
    )


# --- request_body: bodies produced -----------------------------------------------------------


def test_minimal_body() -> None:
    """The smallest general task is exactly {video, prompt}: every unset field is left out."""
    assert build() == {"video": VIDEO_BODY, "prompt": "Summarize"}


def test_full_general_body_from_mappings() -> None:
    """Every general-mode field is written, and a mapping is accepted for response_format."""
    plain = {"model_name": "pegasus1.5", "temperature": 0, "max_tokens": 98_304}
    window = {"start_time": 0, "end_time": 7200, "custom_id": "order-42"}
    fmt = schema({"type": "object", "properties": {"t": {"type": "array", "minItems": 1}}})
    body = build(
        video=AssetVideo("a1"), analysis_mode=AnalysisMode.GENERAL, **plain, **window, **fmt
    )
    video = {"type": "asset_id", "asset_id": "a1"}
    expected = {"video": video, "prompt": "Summarize", "analysis_mode": "general"}
    assert body == {**expected, **plain, **window, **fmt}


def test_segmentation_body_typed() -> None:
    """A segmentation task built from typed models gives the documented wire shape."""
    fmt = ResponseFormat.segments(
        SegmentDefinition(
            "scenes",
            "Each scene",
            fields=(SegmentField("at", "timestamp", format="hh:mm:ss"),),
            media_sources=(MediaSource("logo", asset_id="a1"),),
        ),
        time_format="seconds",
    )
    extra = {"max_tokens": "unlimited", "min_segment_duration": 2, "max_segment_duration": 2}
    body = build(
        prompt=None, analysis_mode=AnalysisMode.TIME_BASED_METADATA, response_format=fmt, **extra
    )
    definition = {
        "id": "scenes",
        "description": "Each scene",
        "fields": [{"name": "at", "type": "timestamp", "format": "hh:mm:ss"}],
        "media_sources": [{"name": "logo", "asset_id": "a1", "media_type": "image"}],
    }
    wire_format = {"type": "segment_definitions", "segment_definitions": [definition]}
    assert body == {
        "video": VIDEO_BODY,
        "analysis_mode": "time_based_metadata",
        "response_format": {**wire_format, "segment_time_format": "seconds"},
        **extra,
    }


def test_time_ranges_and_field_shapes_accepted() -> None:
    """Touching 2 s ranges, 20 fields, array and time_array fields with items are accepted."""
    twenty = [{"name": f"f{n}", "type": "string", "enum": ["x"] * 100} for n in range(18)]
    definition = {
        **SEG,
        "time_ranges": [{"start_time": 2, "end_time": 4}, {"start_time": 0, "end_time": 2}],
        "fields": [
            {"name": "tags", "type": "array", "items": {"type": "string"}},
            time_array(),
            *twenty,
        ],
    }
    body = build(**segs(definition), max_tokens=2048)
    assert body["response_format"]["segment_definitions"] == [definition]
    assert body["max_tokens"] == 2048


def test_image_body_from_mappings() -> None:
    """Images given as mappings are validated and written without a video or unset sources."""
    body = build(**images(IMG, {"name": "b_2", "asset_id": "x"}, prompt="Compare <@a> and <@b_2>"))
    assert body == {
        "prompt": "Compare <@a> and <@b_2>",
        "image": [IMG, {"name": "b_2", "asset_id": "x"}],
    }
    many = [ImageInput(f"i{n}", base64_string="QUJD") for n in range(20)]
    assert len(build(video=None, image=many)["image"]) == 20


def test_prompt_v2_body_writes_media_type() -> None:
    """prompt_v2 (a mapping or PromptV2) is written with each source's media_type "image"."""
    expected = {"input_text": "Find <@m>", "media_sources": [{**MEDIA, "media_type": "image"}]}
    assert build(**v2(input_text="Find <@m>", media_sources=[MEDIA]))["prompt_v2"] == expected
    typed = PromptV2("Find <@m>", (MediaSource("m", url=MEDIA["url"]),))
    assert build(prompt=None, prompt_v2=typed)["prompt_v2"] == expected


def test_sync_body_accepts_json_schema_and_long_window() -> None:
    """generate() takes a json_schema format, small max_tokens and a window past 2 h."""
    args = {"max_tokens": 1, "start_time": 0, "end_time": 3 * 3600, **schema({"a": 1})}
    assert build(sync=True, **args) == {"video": VIDEO_BODY, "prompt": "Summarize", **args}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": 1},
        {"temperature": 0.5},
        {"max_tokens": 512},
        {"start_time": 3.5, "end_time": 4.5},
        {"start_time": 0},
        {"end_time": 10},
        {"custom_id": "x" * 64},
    ],
)
def test_boundary_values_accepted(kwargs: dict[str, Any]) -> None:
    """Values on the documented boundaries are accepted and written to the body as given."""
    assert build(**kwargs) == {"video": VIDEO_BODY, "prompt": "Summarize", **kwargs}


def test_json_schema_property_named_like_a_keyword_is_allowed() -> None:
    """A property *named* `maxItems` is a name, not the rejected keyword."""
    props = {"maxItems": {"type": "integer"}}
    body = build(**schema({"type": "object", "properties": props, "required": ["maxItems"]}))
    assert body["response_format"]["json_schema"]["properties"] == props
