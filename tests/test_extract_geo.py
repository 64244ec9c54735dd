"""Places: the offline GeoNames data, and a Nominatim client against a local server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from homegallery.extract.geo import GeoError, NominatimGeocoder, OfflineGeocoder, distance_km
from homegallery.extract.runner import Summary, run_geo
from homegallery.storage import Storage


def test_offline_places() -> None:
    geocoder = OfflineGeocoder()
    florence, paris, sea = geocoder.lookup_many(
        [(43.7696, 11.2558), (48.8566, 2.3522), (0.0, -30.0)]
    )
    assert florence is not None and paris is not None
    assert (florence.country, florence.country_code, florence.state) == ("Italy", "IT", "Tuscany")
    assert florence.city == "Florence" and florence.source == "offline"
    assert (paris.country_code, paris.city) == ("FR", "Paris")
    assert sea is None  # the middle of the Atlantic is nowhere


def test_distance() -> None:
    assert distance_km((43.7696, 11.2558), (48.8566, 2.3522)) == pytest.approx(886, abs=5)


class _Nominatim(BaseHTTPRequestHandler):
    """Answers /reverse like Nominatim does and notes what it was asked."""

    requests: ClassVar[list[tuple[float, dict[str, list[str]], str]]] = []
    fail = False

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        type(self).requests.append((time.monotonic(), query, self.headers.get("User-Agent", "")))
        if type(self).fail:
            self.send_error(503, "Overloaded")
            return
        body: dict[str, Any]
        if float(query["lat"][0]) < -60:
            body = {"error": "Unable to geocode"}
        else:
            body = {
                "display_name": "Via Roma, Siena",
                "address": {
                    "road": "Via Roma",
                    "town": "Siena",
                    "county": "Siena",
                    "state": "Toscana",
                    "country": "Italia",
                    "country_code": "it",
                },
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Nominatim.requests = []
    _Nominatim.fail = False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Nominatim)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_nominatim_rate_limit_user_agent_and_cache(server: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache.db"
    geocoder = NominatimGeocoder(server, ["it", "en"], "gallery-test/1", cache, min_interval=0.3)
    first = geocoder.lookup(43.3188, 11.3308)
    second = geocoder.lookup(43.3300, 11.3400)
    assert first is not None and first.source == "nominatim"
    assert (first.city, first.road, first.country_code, first.state) == (
        "Siena",
        "Via Roma",
        "IT",
        "Toscana",
    )
    assert second is not None
    (t1, query, agent), (t2, _, _) = _Nominatim.requests
    assert t2 - t1 >= 0.29, "at most one request per interval"
    assert agent == "gallery-test/1"
    assert query["accept-language"] == ["it,en"] and query["format"] == ["jsonv2"]

    # a position asked before is answered from the cache, also by a new client
    geocoder.close()
    again = NominatimGeocoder(server, ["it", "en"], "gallery-test/1", cache)
    cached = again.lookup(43.31881, 11.33081)
    assert cached is not None and (cached.city, cached.road) == ("Siena", "Via Roma")
    assert again.requests == 0 and len(_Nominatim.requests) == 2
    assert again.lookup(-70.0, 0.0) is None  # "Unable to geocode"
    again.close()


def test_nominatim_errors_are_geo_errors(server: str, tmp_path: Path) -> None:
    _Nominatim.fail = True
    geocoder = NominatimGeocoder(server, ["en"], "gallery-test/1", tmp_path / "c.db")
    with pytest.raises(GeoError, match="HTTP 503") as caught:
        geocoder.lookup(43.0, 11.0)
    assert caught.value.reason == "network"
    geocoder.close()
    unreachable = NominatimGeocoder(
        "http://127.0.0.1:9", ["en"], "gallery-test/1", tmp_path / "d.db", timeout=2
    )
    with pytest.raises(GeoError, match=r"Nominatim at http://127\.0\.0\.1:9"):
        unreachable.lookup(43.0, 11.0)
    unreachable.close()
    with pytest.raises(GeoError, match="User-Agent"):
        NominatimGeocoder(server, ["en"], " ", tmp_path / "e.db")


def test_a_server_outage_stops_the_lookups_and_records_nothing(tmp_path: Path) -> None:
    geocoder = NominatimGeocoder(
        "http://127.0.0.1:9", ["en"], "gallery-test/1", tmp_path / "c.db", min_interval=0
    )
    positions = {f"{n:064x}": (43.0 + n / 100, 11.0) for n in range(10)}
    storage = Storage(tmp_path / "storage")
    summary = Summary()
    run_geo(positions, {}, storage, geocoder, summary)
    geocoder.close()
    assert summary.steps["geo"].failed == 3 and summary.steps["geo"].done == 0
    assert not list(storage.root.rglob("*.json"))  # all of them are asked again next run
