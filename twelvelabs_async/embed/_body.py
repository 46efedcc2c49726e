"""The bodies of `POST /embed-v2/tasks` and `POST /embed-v2`, checked before any request.

Every rule the API documents definitely is checked here (REFERENCE §8.5) and refused with an
`InvalidInputError` saying what to change; the body is then written in the shape the model
takes (segmentation wrapped in `temporal` on Marengo 3.5, bare on 3.0).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import Any, get_args
from urllib.parse import urlsplit

from .._validate import check_http_url, check_number, path_id, shown
from ..errors import InvalidInputError
from ..models import (
    AudioEmbedInput,
    DocumentEmbedInput,
    DynamicSegments,
    EmbedInput,
    EmbedModel,
    EmbedSource,
    FixedSegments,
    ImageEmbedInput,
    TimedText,
    VideoEmbedInput,
)

MODELS = frozenset(get_args(EmbedModel))
"""The models `model_name` takes."""
NEW, OLD = "marengo3.5", "marengo3.0"
MAX_BASE64_BYTES = 36 * 1024 * 1024
"""The most bytes a `base64_string` may decode to (32 MiB for an image)."""
MAX_IMAGE_BYTES = 32 * 1024 * 1024
_VIDEO_OPTIONS = ("visual", "audio", "transcription")
_AUDIO_OPTIONS = ("audio", "transcription")
_MEDIA_SCOPES = ("clip", "local", "asset")
_TYPES = ("separate_embedding", "fused_embedding")
_DOC_OPTIONS = ("visual", "text")
_DOC_SCOPES = ("local", "asset")
_SPATIAL = ("standard", "quadrants")
_TEXT_EXTENSIONS = (".txt", ".md")


def check_model(model_name: object) -> str:
    """`marengo3.0` or `marengo3.5`, else `InvalidInputError`."""
    if model_name not in MODELS:
        raise InvalidInputError(
            f"model_name must be 'marengo3.5' or 'marengo3.0', got {shown(model_name)}"
        )
    return str(model_name)


def _choices(values: object, allowed: Sequence[str], what: str, *, model: str) -> list[str] | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, Sequence) or not items:
        raise InvalidInputError(f"{what} must be a non-empty list of {', '.join(allowed)}")
    out: list[str] = []
    for item in items:
        if item not in allowed:
            raise InvalidInputError(
                f"{what} takes {', '.join(repr(a) for a in allowed)}, got {shown(item)}"
            )
        if item in out:
            raise InvalidInputError(f"{what} lists {item!r} twice")
        out.append(str(item))
    if "transcription" in out and model == NEW:
        raise InvalidInputError(
            f"{what} 'transcription' exists only on marengo3.0; leave it out on marengo3.5"
        )
    return out


def _source(value: object, *, limit: int, what: str) -> dict[str, str]:
    if isinstance(value, str):
        value = EmbedSource(url=value)
    if not isinstance(value, EmbedSource):
        raise InvalidInputError(
            f"{what}.source must be an EmbedSource or a URL string, got {type(value).__name__}"
        )
    pairs = (
        ("url", value.url),
        ("asset_id", value.asset_id),
        ("base64_string", value.base64_string),
    )
    given = {k: v for k, v in pairs if v is not None}
    if len(given) != 1:
        raise InvalidInputError(
            f"{what}.source takes exactly one of url, asset_id or base64_string, got {len(given)}"
        )
    if value.url is not None:
        if not isinstance(value.url, str):
            raise InvalidInputError(f"{what}.source.url must be a string")
        check_http_url(value.url, f"{what}.source.url")
    elif value.asset_id is not None:
        path_id(value.asset_id, f"{what}.source.asset_id")
    else:
        _check_base64(value.base64_string, limit, f"{what}.source.base64_string")
    return given


def _check_base64(text: object, limit: int, what: str) -> None:
    if not isinstance(text, str) or not text:
        raise InvalidInputError(f"{what} must be a non-empty base64 string")
    size = len(text) * 3 // 4 - text[-2:].count("=")
    if size > limit:
        raise InvalidInputError(
            f"{what} decodes to about {size:,} bytes, over the {limit // (1024 * 1024)} MB the "
            "API takes inline; upload the file as an asset (client.assets) and pass its asset_id"
        )
    try:
        # The first 4,096 characters (a whole number of 4-character groups), strictly.
        binascii.a2b_base64(text[:4096].encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidInputError(f"{what} is not base64") from None


def _suffix(source: dict[str, str]) -> str:
    url = source.get("url")
    return urlsplit(url).path.lower().rsplit("/", 1)[-1] if url else ""


def _window(start: object, end: object, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    if start is not None:
        check_number(start, f"{what}.start_sec", low=0, unit="seconds")
        out["start_sec"] = float(start)  # type: ignore[arg-type]
    if end is not None:
        check_number(end, f"{what}.end_sec", above=0, unit="seconds")
        out["end_sec"] = float(end)  # type: ignore[arg-type]
    if start is not None and end is not None and out["end_sec"] <= out["start_sec"]:
        raise InvalidInputError(f"{what}.end_sec must be after start_sec")
    return out


def _segmentation(value: object, model: str, what: str) -> dict[str, Any]:
    if isinstance(value, DynamicSegments):
        if what == "audio" and model == OLD:
            raise InvalidInputError(
                "audio on marengo3.0 is cut only in fixed clips: pass FixedSegments(duration_sec)"
            )
        check_number(value.min_duration_sec, f"{what}.segmentation.min_duration_sec",
                     above=0, integer=True, unit="seconds")  # fmt: skip
        inner: dict[str, Any] = {
            "strategy": "dynamic",
            "dynamic": {"min_duration_sec": value.min_duration_sec},
        }
    elif isinstance(value, FixedSegments):
        check_number(value.duration_sec, f"{what}.segmentation.duration_sec",
                     above=0, integer=True, unit="seconds")  # fmt: skip
        inner = {"strategy": "fixed", "fixed": {"duration_sec": value.duration_sec}}
    else:
        raise InvalidInputError(
            f"{what}.segmentation must be DynamicSegments or FixedSegments, "
            f"got {type(value).__name__}"
        )
    # The one difference between the models: 3.5 wraps the strategy in `temporal`.
    return {"temporal": inner} if model == NEW else inner


def _timed(entries: object, what: str) -> list[dict[str, Any]]:
    if isinstance(entries, str) or not isinstance(entries, Sequence) or not entries:
        raise InvalidInputError(f"{what}.time_based_metadata must be a non-empty list of TimedText")
    out = []
    for entry in entries:
        if not isinstance(entry, TimedText):
            raise InvalidInputError(
                f"{what}.time_based_metadata holds TimedText, got {type(entry).__name__}"
            )
        check_number(entry.start, f"{what}.time_based_metadata start", low=0, unit="seconds")
        check_number(entry.end, f"{what}.time_based_metadata end", above=entry.start,
                     unit="seconds")  # fmt: skip
        if not isinstance(entry.text, str) or not entry.text.strip():
            raise InvalidInputError(f"{what}.time_based_metadata text must be a non-empty string")
        out.append({"start": entry.start, "end": entry.end, "text": entry.text})
    return out


def _media(
    value: VideoEmbedInput | AudioEmbedInput, kind: str, model: str, uncertainty: bool
) -> dict[str, Any]:
    allowed = _VIDEO_OPTIONS if kind == "video" else _AUDIO_OPTIONS
    body: dict[str, Any] = {"media_source": _source(value.source, limit=MAX_BASE64_BYTES,
                                                    what=kind)}  # fmt: skip
    body |= _window(value.start_sec, value.end_sec, kind)
    if value.segmentation is not None:
        body["segmentation"] = _segmentation(value.segmentation, model, kind)
    options = _choices(value.embedding_option, allowed, f"{kind}.embedding_option", model=model)
    scopes = _choices(value.embedding_scope, _MEDIA_SCOPES, f"{kind}.embedding_scope", model=model)
    types = _choices(value.embedding_type, _TYPES, f"{kind}.embedding_type", model=model)
    if uncertainty and (scopes is None or "asset" in scopes):
        raise InvalidInputError(
            f"embedding_uncertainty needs {kind}.embedding_scope without 'asset' (its default "
            "includes it): pass embedding_scope=['clip']"
        )
    if types is not None:
        default = {("video", OLD): 3, ("video", NEW): 2, ("audio", OLD): 2, ("audio", NEW): 1}
        count = len(options) if options is not None else default[kind, model]
        if count < 2:
            raise InvalidInputError(
                f"{kind}.embedding_type applies only with two or more embedding options; "
                "leave it out, or pass more embedding_option values"
            )
    timed = value.time_based_metadata
    if timed is not None:
        body_timed = _timed(timed, kind)
    if types is not None and "fused_embedding" in types and model == NEW and timed is None:
        raise InvalidInputError(
            f"{kind}.embedding_type 'fused_embedding' on marengo3.5 needs "
            f"{kind}.time_based_metadata (a list of TimedText)"
        )
    for key, chosen in (("embedding_option", options), ("embedding_scope", scopes),
                        ("embedding_type", types)):  # fmt: skip
        if chosen is not None:
            body[key] = chosen
    if timed is not None:
        body["time_based_metadata"] = body_timed
    return body


def _single(values: object, only: str, what: str) -> list[str] | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, Sequence) or list(items) != [only]:
        raise InvalidInputError(
            f"{what} takes only [{only!r}] for an image, got {shown(values)}; leave it out"
        )
    return [only]


def _image(value: ImageEmbedInput) -> dict[str, Any]:
    body: dict[str, Any] = {"media_source": _source(value.source, limit=MAX_IMAGE_BYTES,
                                                    what="image")}  # fmt: skip
    for key, only in (("embedding_option", "visual"), ("embedding_type", "separate_embedding"),
                      ("embedding_scope", "asset")):  # fmt: skip
        chosen = _single(getattr(value, key), only, f"image.{key}")
        if chosen is not None:
            body[key] = chosen
    return body


def _document(value: DocumentEmbedInput, model: str, uncertainty: bool) -> dict[str, Any]:
    source = _source(value.source, limit=MAX_BASE64_BYTES, what="document")
    body: dict[str, Any] = {"media_source": source}
    name = _suffix(source)
    options = _choices(value.embedding_option, _DOC_OPTIONS, "document.embedding_option",
                       model=model)  # fmt: skip
    scopes = _choices(value.embedding_scope, _DOC_SCOPES, "document.embedding_scope",
                      model=model)  # fmt: skip
    types = _choices(value.embedding_type, ("separate_embedding",), "document.embedding_type",
                     model=model)  # fmt: skip
    text_file = name.endswith(_TEXT_EXTENSIONS)
    if options is not None and "visual" in options and text_file:
        raise InvalidInputError("document.embedding_option 'visual' applies to PDFs only")
    if uncertainty:
        if name.endswith(".pdf"):
            raise InvalidInputError("embedding_uncertainty is refused for PDFs")
        if scopes != ["local"]:
            raise InvalidInputError(
                "embedding_uncertainty on a document needs embedding_scope=['local']"
            )
    segmentation: dict[str, Any] = {}
    if value.spatial is not None:
        if value.spatial not in _SPATIAL:
            raise InvalidInputError(
                f"document.spatial takes 'standard' or 'quadrants', got {shown(value.spatial)}"
            )
        segmentation["spatial"] = {"strategy": value.spatial}
    if value.sequential is not None:
        chunks = value.sequential
        check_number(chunks.max_sentences, "document.sequential.max_sentences", low=1,
                     integer=True)  # fmt: skip
        sequential: dict[str, Any] = {"strategy": "sentence", "max_sentences": chunks.max_sentences}
        if chunks.overlap_sentences is not None:
            check_number(chunks.overlap_sentences, "document.sequential.overlap_sentences",
                         low=0, below=chunks.max_sentences, integer=True)  # fmt: skip
            sequential["overlap_sentences"] = chunks.overlap_sentences
        segmentation["sequential"] = sequential
    elif text_file and (scopes is None or "local" in scopes):
        raise InvalidInputError(
            "a txt or md document with the local scope needs sequential=SentenceChunks(...)"
        )
    if segmentation:
        body["segmentation"] = segmentation
    for key, chosen in (("embedding_option", options), ("embedding_scope", scopes),
                        ("embedding_type", types)):  # fmt: skip
        if chosen is not None:
            body[key] = chosen
    return body


_KINDS: dict[type, str] = {
    VideoEmbedInput: "video",
    AudioEmbedInput: "audio",
    ImageEmbedInput: "image",
    DocumentEmbedInput: "document",
}


def task_body(
    *,
    model_name: object,
    inputs: dict[str, EmbedInput | None],
    embedding_dimension: object,
    embedding_uncertainty: object,
) -> dict[str, Any]:
    """The checked body of `POST /embed-v2/tasks` for exactly one input of `inputs`."""
    model = check_model(model_name)
    given = [(kind, value) for kind, value in inputs.items() if value is not None]
    if len(given) != 1:
        raise InvalidInputError(
            "pass exactly one of video=, audio=, image= or document= (text embeddings are "
            f"synchronous: client.embed.create(text=...)); got {len(given)}"
        )
    kind, value = given[0]
    if _KINDS.get(type(value)) != kind:
        expected = {v: k.__name__ for k, v in _KINDS.items()}[kind]
        raise InvalidInputError(f"{kind}= takes a {expected}, got {type(value).__name__}")
    body: dict[str, Any] = {"input_type": kind, "model_name": model}
    body |= _new_only(model, embedding_dimension, embedding_uncertainty)
    uncertainty = bool(embedding_uncertainty)
    if kind in ("image", "document") and model != NEW:
        raise InvalidInputError(f"{kind} inputs need model_name='marengo3.5'")
    if isinstance(value, VideoEmbedInput | AudioEmbedInput):
        body[kind] = _media(value, kind, model, uncertainty)
    elif isinstance(value, ImageEmbedInput):
        body[kind] = _image(value)
    else:
        assert isinstance(value, DocumentEmbedInput)
        body[kind] = _document(value, model, uncertainty)
    return body


def _new_only(model: str, dimension: object, uncertainty: object) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if dimension is not None:
        if model != NEW:
            raise InvalidInputError("embedding_dimension exists only on marengo3.5")
        check_number(dimension, "embedding_dimension", low=1, integer=True)
        body["embedding_dimension"] = dimension
    if uncertainty is not None:
        if not isinstance(uncertainty, bool):
            raise InvalidInputError(f"embedding_uncertainty must be True or False, got "
                                    f"{shown(uncertainty)}")  # fmt: skip
        if model != NEW:  # even False: the API answers 400 to the field on 3.0
            raise InvalidInputError("embedding_uncertainty exists only on marengo3.5")
        body["embedding_uncertainty"] = uncertainty
    return body


def text_body(
    *,
    text: object,
    model_name: object,
    embedding_dimension: object,
    embedding_uncertainty: object,
    auto_truncate: object,
) -> dict[str, Any]:
    """The checked body of `POST /embed-v2` for a text (3.0: `text`; 3.5: `multi_input`)."""
    model = check_model(model_name)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("text must be a non-empty string")
    body: dict[str, Any] = {"model_name": model}
    body |= _new_only(model, embedding_dimension, embedding_uncertainty)
    if auto_truncate is not None:
        if not isinstance(auto_truncate, bool):
            raise InvalidInputError(f"auto_truncate must be True or False, got "
                                    f"{shown(auto_truncate)}")  # fmt: skip
        if model != NEW:
            raise InvalidInputError("auto_truncate exists only on marengo3.5")
        body["auto_truncate"] = auto_truncate
    if model == NEW:  # 3.5 takes only `multi_input`
        return {"input_type": "multi_input", **body, "multi_input": {"input_text": text}}
    return {"input_type": "text", **body, "text": {"input_text": text}}
