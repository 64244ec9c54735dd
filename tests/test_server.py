"""The HTTP API with Litestar's test client, on a gallery made by the real pipeline."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import msgspec
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery
from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.place_clusters import Bounds, cluster
from homegallery.server.routes.summaries import pack_ratios, timeline_layout

Client: TypeAlias = TestClient[Litestar]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return build_sample_gallery(tmp_path_factory.mktemp("gallery"))


@pytest.fixture
def client(config: Config) -> Iterator[Client]:
    with TestClient(create_app(config)) as client:
        yield client


def all_entries(client: Client, q: str = "") -> list[dict[str, Any]]:
    response = client.get("/api/entries", params={"q": q, "limit": 1000})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def preview_url(entry: dict[str, Any], size: int = 320) -> str:
    return f"/files/{entry['id']}/image-preview-{size}.jpg"


# --- entries and search -----------------------------------------------------------------


def test_entries_page_through_the_result_newest_first(client: Client) -> None:
    first = client.get("/api/entries", params={"limit": 4}).json()
    second = client.get("/api/entries", params={"limit": 4, "offset": 4}).json()
    assert first["total"] == second["total"] == 11
    ids = [e["id"] for e in first["entries"] + second["entries"]]
    assert len(set(ids)) == 8
    dates = [e["date"] for e in first["entries"] + second["entries"]]
    assert dates == sorted(dates, reverse=True)
    # sources are named, never given as the server's folders
    assert all(f["source"] == "photos" for e in first["entries"] for f in e["files"])


def test_search_uses_the_query_language(client: Client) -> None:
    found = all_entries(client, "year:2016")
    assert len(found) == 2 and {e["year"] for e in found} == {2016}
    assert [e["type"] for e in all_entries(client, "type:video")] == ["video"]
    ordered = all_entries(client, "type:image order by date asc")
    assert [e["date"] for e in ordered] == sorted(e["date"] for e in ordered)


def test_a_bad_query_answers_400_with_the_column(client: Client) -> None:
    response = client.get("/api/entries", params={"q": "year:20)16"})
    assert response.status_code == 400
    body = response.json()
    assert body["extra"]["column"] == 8 and "unbalanced" in body["detail"]
    unknown = client.get("/api/timeline", params={"q": "tag:a colour:red"}).json()
    assert unknown["extra"]["column"] == 7 and "unknown key" in unknown["detail"]


def test_one_entry_by_id_and_nothing_for_made_up_ids(client: Client) -> None:
    entry = all_entries(client)[0]
    assert client.get(f"/api/entries/{entry['id']}").json()["id"] == entry["id"]
    for media_id in ("0" * 64, "..%2f..%2fcatalog.db", "abc", "x" * 64):
        assert client.get(f"/api/entries/{media_id}").status_code == 404


def test_timeline_lays_out_every_match(client: Client) -> None:
    timeline = client.get("/api/timeline").json()
    assert timeline["total"] == len(timeline["ratios"]) == 11
    assert sum(group[2] for group in timeline["groups"]) == 11
    assert timeline["groups"][0][:2] == [2019, 7]  # the video, newest
    portrait = [r for r in timeline["ratios"] if r < 1]
    assert portrait and all(r == pytest.approx(320 / 480, abs=1e-3) for r in portrait)
    assert client.get("/api/timeline", params={"q": "year:2016"}).json()["total"] == 2


def test_timeline_layout_of_unknown_sizes_and_dates() -> None:
    nan = float("nan")
    ratios, groups = timeline_layout(
        np.array([4000.0, 3000.0, nan, 0.0, 800.0]),
        np.array([3000.0, 4000.0, 100.0, 50.0, 600.0]),
        np.array([2021.0, 2021.0, 2020.0, nan, nan]),
        np.array([5.0, 5.0, 12.0, nan, nan]),
    )
    assert ratios.tolist() == [1.333, 0.75, 1.0, 1.0, 1.333]
    assert groups == [(2021, 5, 2), (2020, 12, 1), (0, 0, 2)]
    empty_ratios, empty_groups = timeline_layout(*(np.zeros(0) for _ in range(4)))
    assert len(empty_ratios) == 0 and empty_groups == []


def test_packed_timeline_holds_the_same_ratios_by_index(client: Client) -> None:
    listed = client.get("/api/timeline").json()
    packed = client.get("/api/timeline", params={"form": "packed"}).json()
    assert packed["ratios"] == [] and packed["groups"] == listed["groups"]
    assert packed["total"] == listed["total"] == 11
    indexes = np.frombuffer(base64.b64decode(packed["packedRatios"]), "u1")
    assert packed["ratioTable"] == sorted(set(listed["ratios"]))
    assert [packed["ratioTable"][i] for i in indexes] == listed["ratios"]
    assert listed["packedRatios"] == "" and listed["ratioTable"] == []
    assert client.get("/api/timeline", params={"form": "gzip"}).status_code == 400


def test_place_clusters_count_every_geotagged_match_once(client: Client) -> None:
    points = client.get("/api/places").json()["points"]
    for zoom in (0, 5, 19):
        answer = client.get("/api/places/clusters", params={"zoom": zoom}).json()
        assert answer["total"] == len(points) == 4 and answer["zoom"] == zoom
        assert sum(c[2] for c in answer["clusters"]) == 4
        assert {c[3] for c in answer["clusters"]} <= {p[2] for p in points}
    south, west, north, east = client.get("/api/places/clusters").json()["bounds"]
    assert (south, north) == (min(p[0] for p in points), max(p[0] for p in points))
    assert (west, east) == (min(p[1] for p in points), max(p[1] for p in points))
    # at zoom 0 a cell is a quarter of the world: places a few km apart are one cluster
    assert len(client.get("/api/places/clusters", params={"zoom": 0}).json()["clusters"]) < 4
    newest = client.get("/api/places/clusters", params={"zoom": 19}).json()["clusters"]
    firsts: dict[tuple[float, float], str] = {}
    for latitude, longitude, media_id in points:  # the samples repeat three places
        firsts.setdefault((latitude, longitude), media_id)
    assert [c[3] for c in newest] == list(firsts.values())  # in the result's order
    assert [c[2] for c in newest] == [[p[:2] for p in points].count(list(k)) for k in firsts]
    nowhere = client.get("/api/places/clusters", params={"bounds": "-60,-170,-50,-160"}).json()
    assert nowhere["clusters"] == [] and nowhere["total"] == 4
    everywhere = client.get("/api/places/clusters", params={"bounds": "-90,-540,90,540"})
    assert sum(c[2] for c in everywhere.json()["clusters"]) == 4
    for bad in ("1,2,3", "a,b,c,d", "10,0,-10,5", "nan,0,1,1"):
        response = client.get("/api/places/clusters", params={"bounds": bad})
        assert response.status_code == 400 and "bounds" in response.text, bad
    assert client.get("/api/places/clusters", params={"zoom": 20}).status_code == 400
    none = client.get("/api/places/clusters", params={"q": "year:2016"}).json()
    assert none == {"total": 0, "zoom": 2, "bounds": [], "clusters": []}


def test_many_distinct_ratios_take_two_bytes_each() -> None:
    ratios = np.arange(1, 302) / 100
    table, packed = pack_ratios(ratios[::-1])
    assert table == ratios.tolist()
    indexes = np.frombuffer(base64.b64decode(packed), "<u2")
    assert [table[i] for i in indexes] == ratios[::-1].tolist()
    few_table, few = pack_ratios(np.array([1.5, 0.75, 1.5]))
    assert few_table == [0.75, 1.5] and base64.b64decode(few) == bytes([1, 0, 1])


def test_place_cells_cross_the_antimeridian_by_bounds() -> None:
    box = Bounds.parse("-10,170,10,-170")
    inside = box.holds(np.array([0.0, 0.0, 0.0]), np.array([175.0, -175.0, 0.0]))
    assert inside.tolist() == [True, True, False]
    found = cluster(np.array([1.0, 1.001, 60.0]), np.array([10.0, 10.001, 10.0]), 3)
    assert found.count == [2, 1] and found.first == [0, 2]
    assert found.latitude[0] == pytest.approx(1.0005)


def test_places_are_the_geotagged_matches(client: Client) -> None:
    points = client.get("/api/places").json()["points"]
    geotagged = [e for e in all_entries(client) if e.get("latitude") is not None]
    assert sorted(p[2] for p in points) == sorted(e["id"] for e in geotagged)
    assert len(points) == 4
    assert client.get("/api/places", params={"q": "year:2016"}).json()["points"] == []
    ordered = client.get("/api/places", params={"q": "order by date asc"})
    assert ordered.status_code == 200 and len(ordered.json()["points"]) == 4


def test_similar_is_empty_without_vectors(client: Client) -> None:
    entry = all_entries(client)[0]
    assert client.get(f"/api/entries/{entry['id']}/similar").json() == []


# --- tags through the event log --------------------------------------------------------


def test_tagging_two_entries_finds_them_by_tag(client: Client, config: Config) -> None:
    two = [e["id"] for e in all_entries(client, "year:2015")]
    assert len(two) == 2
    response = client.post("/api/events/tags", json={"ids": two, "add": ["Holiday Sea"]})
    assert response.status_code == 201 and response.json() == {"changed": 2}
    assert sorted(e["id"] for e in all_entries(client, 'tag:"holiday sea"')) == sorted(two)
    tags = client.get("/api/tags").json()["tags"]
    assert {"tag": "holiday sea", "count": 2} in tags
    events = Gallery(config).events()
    assert events[-1].user == "web" and events[-1].add_tags == ["Holiday Sea"]
    client.post("/api/events/tags", json={"ids": two[:1], "remove": ["holiday sea"]})
    assert [e["id"] for e in all_entries(client, 'tag:"holiday sea"')] == two[1:]
    # each entry says when it last changed: the tagged ones no earlier than any other
    times = {e["id"]: e["updated"] for e in all_entries(client, "")}
    assert all(len(time) == 19 and time[10] == "T" for time in times.values())
    others = [time for media_id, time in times.items() if media_id not in two]
    assert min(times[media_id] for media_id in two) >= max(others)
    ordered = [e["id"] for e in all_entries(client, "order by updated")]
    assert [times[media_id] for media_id in ordered] == sorted(times.values(), reverse=True)


def test_bad_tag_changes_are_refused_and_change_nothing(client: Client, config: Config) -> None:
    before = len(Gallery(config).events())
    entry_id = all_entries(client)[0]["id"]
    cases = [
        ({"ids": [], "add": ["x"]}, 400),
        ({"ids": [entry_id], "add": ["  "]}, 400),
        ({"ids": [entry_id]}, 400),
        ({"ids": ["0" * 64], "add": ["x"]}, 404),
        ({"ids": ["' or 1=1 --"], "add": ["x"]}, 400),
        ({"ids": entry_id, "add": ["x"]}, 400),
    ]
    for body, status in cases:
        assert client.post("/api/events/tags", json=body).status_code == status, body
    form = client.post("/api/events/tags", content=b"ids=x", headers={"content-type": "text/plain"})
    assert form.status_code == 403
    foreign = client.post(
        "/api/events/tags", json={"ids": [entry_id], "add": ["x"]},
        headers={"origin": "https://evil.example"},
    )  # fmt: skip
    assert foreign.status_code == 403
    assert len(Gallery(config).events()) == before


# --- files ---------------------------------------------------------------------------------


def test_previews_have_long_cache_etag_and_304(client: Client) -> None:
    entry = all_entries(client, "type:image")[0]
    response = client.get(preview_url(entry))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content[:2] == b"\xff\xd8"
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    etag = response.headers["etag"]
    again = client.get(preview_url(entry), headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


def test_video_supports_range_requests(client: Client) -> None:
    video = all_entries(client, "type:video")[0]
    url = f"/files/{video['id']}/video-preview-720.mp4"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    assert whole.headers["content-type"] == "video/mp4" and size > 1000
    part = client.get(url, headers={"range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == whole.content[100:200]
    tail = client.get(url, headers={"range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole.content[-50:]
    rest = client.get(url, headers={"range": f"bytes={size - 10}-"})
    assert rest.content == whole.content[-10:]
    assert client.get(url, headers={"range": f"bytes={size}-"}).status_code == 416
    stale = client.get(url, headers={"range": "bytes=0-9", "if-range": '"other"'})
    assert stale.status_code == 200 and len(stale.content) == size
    poster = client.get(f"/files/{video['id']}/video-frame-1.jpg")
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"


def test_no_path_reaches_outside_an_entrys_previews(client: Client) -> None:
    entry = all_entries(client, "type:image")[0]
    base = f"/files/{entry['id']}"
    for kind in ("..%2F..%2Fcatalog.db", "meta.json", "image-preview-999.jpg",
                 "..%2Fimage-preview-320.jpg", "image-preview-320.jpg%00.png"):  # fmt: skip
        assert client.get(f"{base}/{kind}").status_code == 404, kind
    assert client.get("/files/../../etc/passwd").status_code == 404
    assert client.get(f"/files/{'0' * 64}/image-preview-320.jpg").status_code == 404


def test_originals_only_from_downloadable_sources(config: Config) -> None:
    entry = Gallery(config).search("type:image", limit=1)[0]
    with TestClient(create_app(config)) as client:
        response = client.get(f"/files/{entry.id}/original/0")
        assert response.status_code == 200
        original = Path(entry.files[0].source) / entry.files[0].path
        assert response.content == original.read_bytes()
        assert "attachment" in response.headers["content-disposition"]
        assert client.get(f"/files/{entry.id}/original/9").status_code == 404
    locked = msgspec.structs.replace(
        config,
        sources=[msgspec.structs.replace(s, downloadable=False) for s in config.sources],
    )
    with TestClient(create_app(locked)) as client:
        assert client.get(f"/files/{entry.id}/original/0").status_code == 403
        assert client.get(f"/api/entries/{entry.id}").json().get("downloadable", False) is False


# --- the app, headers, schema ------------------------------------------------------------


def test_web_app_and_libraries_are_served_from_the_package(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<base href="/">' in page.text
    assert client.get("/app/main.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/app/style.css").status_code == 200
    assert b"Leaflet" in client.get("/vendor/leaflet/leaflet.js").content[:2000]
    assert client.get("/vendor/markercluster/leaflet.markercluster.js").status_code == 200
    assert client.get("/app/../server/app.py").status_code == 404


def test_security_headers_on_every_response(client: Client) -> None:
    for url in ("/", "/api/entries", "/app/main.js", "/api/nothing-here"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"


def test_tile_host_is_allowed_only_when_configured(config: Config) -> None:
    tiles = msgspec.structs.replace(
        config,
        server=msgspec.structs.replace(
            config.server, tile_url="https://{s}.tiles.example/{z}/{x}/{y}.png"
        ),
    )
    with TestClient(create_app(config)) as client:
        assert "tiles.example" not in client.get("/").headers["content-security-policy"]
        assert client.get("/api/settings").json()["tileUrl"] == ""
    with TestClient(create_app(tiles)) as client:
        assert "https://*.tiles.example" in client.get("/").headers["content-security-policy"]


def test_openapi_schema_lists_the_api(client: Client) -> None:
    schema = client.get("/api/schema/openapi.json").json()
    for path in ("/api/entries", "/api/timeline", "/api/events/tags", "/api/live"):
        assert path in schema["paths"]


def test_mounted_under_a_prefix(config: Config) -> None:
    prefixed = msgspec.structs.replace(
        config, server=msgspec.structs.replace(config.server, prefix="/photos/")
    )
    with TestClient(create_app(prefixed)) as client:
        assert '<base href="/photos/">' in client.get("/photos/").text
        assert client.get("/photos/api/entries").json()["total"] == 11
        assert client.get("/api/entries").status_code == 404
        root = client.get("/", follow_redirects=False)
        assert root.status_code == 302 and root.headers["location"] == "/photos/"


def test_a_missing_catalog_is_a_clear_503(tmp_path: Path, config: Config) -> None:
    empty = msgspec.structs.replace(
        config,
        database=msgspec.structs.replace(config.database, file=str(tmp_path / "none.db")),
    )
    with TestClient(create_app(empty)) as client:
        response = client.get("/api/entries")
        assert response.status_code == 503 and "homegallery build" in response.json()["detail"]
