"""The simulator's indexes and indexed assets, over raw HTTP: what it refuses, filters and sorts.

Bodies and shapes against the official SDK are in test_indexes_contract.py; this file pins the
simulated behaviour tests elsewhere rely on.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests._simulator_support import SimClock, raw, sim_and_client
from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import Simulator

URL = "https://videos.example.com/clip-{}.mp4"
MODELS = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]


async def _assets(client: AsyncTwelveLabs, clock: SimClock, n: int) -> list[str]:
    ids = [(await client.assets.create(url=URL.format(i))).asset_id for i in range(n)]
    clock.advance(10.0)  # URL imports: two draws of the (5 s) duration
    return ids


async def _index(sim: Simulator, name: str, models: Any = None) -> str:
    body = {"index_name": name, "models": models or MODELS}
    resp = await raw(sim, "POST", "indexes", json_body=body)
    assert resp.status == 201, resp.body
    return str(resp.json()["_id"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "parameter_invalid"),
        (b"[]", "parameter_invalid"),
        (b'{"index_name": "x", "models": [], "extra": 1}', "parameter_unknown"),
        (b'{"index_name": "", "models": []}', "parameter_invalid"),
        (b'{"index_name": "x", "models": []}', "parameter_invalid"),
        (b'{"index_name": "x", "models": [1]}', "parameter_invalid"),
        (b'{"index_name": "x", "models": [{"model_name": "gpt", "model_options": ["visual"]}]}',
         "parameter_invalid"),
        (b'{"index_name": "x", "models": [{"model_name": "marengo3.0", "model_options": []}]}',
         "parameter_invalid"),
        (b'{"index_name": "x", "models": [{"model_name": "marengo3.0", "model_options": ["x"]}]}',
         "parameter_invalid"),
        (b'{"index_name": "x", "models": [{"model_name": "marengo3.0", "model_options": '
         b'["audio"]}], "addons": ["logo"]}', "parameter_invalid"),
    ],
)  # fmt: skip
async def test_index_creation_refuses_what_the_api_refuses(body: bytes, code: str) -> None:
    """A body that is not JSON, unknown keys, no name or model, bad options: 400, flat."""
    async with sim_and_client() as (sim, _client, _clock):
        resp = await raw(
            sim, "POST", "indexes", data=body, headers={"Content-Type": "application/json"}
        )
    assert resp.status == 400
    assert resp.json()["code"] == code


async def test_index_list_filters_and_sorts() -> None:
    """Name, options, family and dates filter; sort_by/sort_option order; bad values are 400."""
    async with sim_and_client() as (sim, _client, clock):
        first = await _index(sim, "a", [{"model_name": "marengo3.0", "model_options": ["visual"]}])
        clock.advance(60)
        second = await _index(sim, "b")
        clock.advance(60)
        renamed = await raw(sim, "PUT", f"indexes/{first}", json_body={"index_name": "c"})
        taken = await raw(sim, "PUT", f"indexes/{first}", json_body={"index_name": "b"})

        async def ids(**query: str) -> list[str]:
            resp = await raw(sim, "GET", "indexes", params=query)
            assert resp.status == 200, resp.body
            return [item["_id"] for item in resp.json()["data"]]

        newest = await ids()
        oldest = await ids(sort_option="asc")
        by_update = await ids(sort_by="updated_at")
        named = await ids(index_name="b")
        audio = await ids(model_options="audio")
        pegasus = await ids(model_family="pegasus")
        marengo = await ids(model_family="marengo")
        later = await ids(created_at="2026-01-01T00:00:30Z")
        updated = await ids(updated_at="2026-01-01T00:01:30Z")
        bad = [
            await raw(sim, "GET", "indexes", params=query)
            for query in (
                {"sort_by": "name"},
                {"sort_option": "up"},
                {"model_family": "x"},
                {"created_at": "x"},
                {"page_limit": "99"},
            )
        ]
    assert renamed.status == 200
    assert (taken.status, taken.json()["code"]) == (400, "index_name_already_exists")
    assert newest == [second, first]
    assert oldest == [first, second]
    assert by_update == [first, second]
    assert named == [second]
    assert audio == [second]
    assert pegasus == []
    assert marengo == [second, first]
    assert later == [second]
    assert updated == [first]
    assert [r.status for r in bad] == [400] * 5


async def test_indexed_asset_creation_needs_a_ready_asset_in_a_known_index() -> None:
    """No asset id, an unknown or processing asset, bad flags or metadata: 400; no index: 404."""
    async with sim_and_client(duration=(5.0, 5.0)) as (sim, client, clock):
        (ready,) = await _assets(client, clock, 1)
        processing = (await client.assets.create(url=URL.format("p"))).asset_id
        index_id = await _index(sim, "a")
        path = f"indexes/{index_id}/indexed-assets"
        answers = [
            await raw(sim, "POST", path, json_body=body)
            for body in (
                {},
                {"asset_id": "f" * 24},
                {"asset_id": processing},
                {"asset_id": ready, "enable_video_stream": "maybe"},
                {"asset_id": ready, "user_metadata": {"k": {"nested": 1}}},
                {"asset_id": ready, "other": 1},
            )
        ]
        no_index = await raw(
            sim, "POST", "indexes/nope/indexed-assets", json_body={"asset_id": ready}
        )
        ok = await raw(
            sim, "POST", path, json_body={"asset_id": ready, "enable_video_stream": "true"}
        )
    assert [a.status for a in answers] == [400] * 6
    assert [a.json()["code"] for a in answers] == [
        "parameter_not_provided", "parameter_invalid", "asset_not_ready", "parameter_invalid",
        "parameter_invalid", "parameter_unknown",
    ]  # fmt: skip
    assert no_index.status == 404
    assert ok.status == 202


async def test_indexed_asset_list_filters() -> None:
    """Status, filename, ranges, dates and user_metadata filter the list; bad ones are 400."""
    settings: dict[str, Any] = {"duration": (5.0, 5.0), "indexing_duration": (10.0, 10.0)}
    async with sim_and_client(**settings) as (sim, client, clock):
        assets = await _assets(client, clock, 3)
        index_id = await _index(sim, "a")
        path = f"indexes/{index_id}/indexed-assets"
        made = []
        for n, asset_id in enumerate(assets):
            body = {"asset_id": asset_id, "user_metadata": {"n": n, "even": n % 2 == 0}}
            made.append((await raw(sim, "POST", path, json_body=body)).json()["_id"])
            clock.advance(20.0 if n == 0 else 1.0)  # the first ends before the others start
        patched = await raw(
            sim, "PATCH", f"{path}/{made[1]}", json_body={"user_metadata": {"n": None, "t": "x"}}
        )
        detail = (await raw(sim, "GET", f"{path}/{made[1]}")).json()

        async def ids(query: list[tuple[str, str]]) -> list[str]:
            resp = await raw(sim, "GET", path, params=query)
            assert resp.status == 200, resp.body
            return [item["_id"] for item in resp.json()["data"]]

        ready = await ids([("status", "ready")])
        running = await ids([("status", "queued"), ("status", "pending")])
        oldest_first = await ids([("sort_option", "asc")])
        by_update = await ids([("sort_by", "updated_at")])
        even = await ids([("user_metadata[even]", "true")])
        two = await ids([("user_metadata[n]", "2")])
        after = await ids([("created_at", "2026-01-01T00:00:25Z")])
        touched = await ids([("updated_at", "2026-01-01T00:00:00Z")])
        long = await ids([("duration[gte]", "0"), ("width[lte]", "1280")])
        none = await ids([("fps[gte]", "31")])
        name = await ids([("filename", "clip-0.mp4")])
        bad = [
            await raw(sim, "GET", path, params=query)
            for query in ({"status": "done"}, {"size[gte]": "big"}, {"updated_at": "x"})
        ]
        wrong_patch = await raw(sim, "PATCH", f"{path}/{made[1]}", json_body={"user_metadata": 1})
        bad_value = await raw(
            sim, "PATCH", f"{path}/{made[1]}", json_body={"user_metadata": {"k": {"a": 1}}}
        )
        bad_option = await raw(sim, "GET", f"{path}/{made[0]}", params={"embedding_option": "x"})
        bad_words = await raw(sim, "GET", f"{path}/{made[0]}", params={"transcription": "maybe"})
        elsewhere = await raw(
            sim, "GET", f"indexes/{await _index(sim, 'b')}/indexed-assets/{made[0]}"
        )
    assert patched.status == 200
    assert detail["user_metadata"] == {"even": False, "t": "x"}
    assert ready == [made[0]]
    assert running == [made[2], made[1]]
    assert oldest_first == made
    assert by_update[0] == made[1]  # its metadata changed last
    assert even == [made[2], made[0]]
    assert two == [made[2]]
    assert after == [made[2], made[1]]
    assert touched == [made[1]]  # only metadata updates count
    assert long == made[::-1]
    assert none == []
    assert name == [made[0]]
    assert [r.status for r in bad] == [400, 400, 400]
    assert (wrong_patch.status, bad_value.status) == (400, 400)
    assert (bad_option.status, bad_words.status) == (400, 400)
    assert elsewhere.status == 404  # an indexed asset belongs to one index


async def test_deleting_releases_the_asset_and_memberships_follow() -> None:
    """Memberships list each index; deleting the index frees the asset for a plain delete."""
    async with sim_and_client(duration=(5.0, 5.0)) as (sim, client, clock):
        (asset_id,) = await _assets(client, clock, 1)
        first, second = await _index(sim, "a"), await _index(sim, "b")
        for index_id in (first, second):
            path = f"indexes/{index_id}/indexed-assets"
            await raw(sim, "POST", path, json_body={"asset_id": asset_id})
        members = await raw(sim, "GET", f"assets/{asset_id}/indexed-assets")
        in_use = await raw(sim, "DELETE", f"assets/{asset_id}")
        await raw(sim, "DELETE", f"indexes/{first}")
        item = members.json()["data"][0]["_id"]  # newest first: the one in `second`
        removed = await raw(sim, "DELETE", f"indexes/{second}/indexed-assets/{item}")
        again = await raw(sim, "DELETE", f"indexes/{second}/indexed-assets/{item}")
        freed = await raw(sim, "DELETE", f"assets/{asset_id}")
        unknown = await raw(sim, "GET", f"assets/{asset_id}/indexed-assets")
        bad_page = await raw(sim, "GET", "assets/x/indexed-assets", params={"page": "0"})
        index_gone = await raw(sim, "DELETE", f"indexes/{first}")
    assert [m["index"]["name"] for m in members.json()["data"]] == ["b", "a"]
    assert in_use.status == 409
    assert (removed.status, again.status) == (200, 404)
    assert freed.status == 200
    assert (unknown.status, bad_page.status, index_gone.status) == (404, 400, 404)
