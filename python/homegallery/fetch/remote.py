"""A remote homegallery through its HTTP API, with a login when it has users.

Everything it answers is treated as hostile: ids must be media ids, preview paths
must have the storage's shape, sizes are bounded; a refusal comes back as one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from homegallery.catalog.entry import Entry
from homegallery.catalog.events import Event
from homegallery.errors import HomeGalleryError

PAGE = 1000
MAX_FILE_BYTES = 512 * 1024 * 1024
_MEDIA_ID = re.compile(r"^[0-9a-f]{8,128}$")


class FetchError(HomeGalleryError):
    """The remote cannot be reached or refuses (the message says which and why)."""


class _EntryPage(msgspec.Struct):
    total: int
    entries: list[Entry]


class _EventPage(msgspec.Struct):
    events: list[Event]
    last: int


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail or response.reason_phrase)[:200]


class Remote:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        if not re.match(r"^https?://", url):
            raise FetchError(f"--url {url!r}: give an http:// or https:// address")
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url + "/", timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, path: str, login: bool = False, **options: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **options)
        except httpx.HTTPError as error:
            raise FetchError(f"{self.url}: {error}") from None
        if response.status_code == 401 and not login:
            raise FetchError(f"{self.url}: the gallery needs a login (give --user)")
        return response

    def _json(self, path: str, params: dict[str, Any], kind: type[Any]) -> Any:
        response = self._call("GET", path, params=params)
        if response.status_code != 200:
            raise FetchError(f"{self.url}/{path}: {response.status_code} {_detail(response)}")
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError as error:
            raise FetchError(f"{self.url}/{path}: not a homegallery answer: {error}") from None

    def login(self, username: str, password: str) -> None:
        credentials = {"username": username, "password": password}
        response = self._call("POST", "api/login", login=True, json=credentials)
        if response.status_code != 200:
            raise FetchError(f"{self.url}: login as {username!r} refused: {_detail(response)}")

    def entries(self, query: str) -> Iterator[Entry]:
        offset = 0
        while True:
            page: _EntryPage = self._json(
                "api/entries", {"q": query, "offset": offset, "limit": PAGE}, _EntryPage
            )
            for entry in page.entries:
                if _MEDIA_ID.match(entry.id):
                    yield entry
            offset += len(page.entries)
            if not page.entries or offset >= page.total:
                return

    def events(self, after: int) -> Iterator[tuple[int, list[Event]]]:
        """Pages of events after a sequence number, each with the number after it."""
        while True:
            page: _EventPage = self._json("api/events", {"after": after, "limit": PAGE}, _EventPage)
            if not page.events and page.last <= after:
                return
            after = page.last
            yield after, page.events

    def push(self, event: Event) -> str | None:
        """Records a tag change there under its own uid; None, or why it was refused."""
        body = {"ids": event.ids, "add": event.add_tags, "remove": event.remove_tags,
                "uid": event.uid}  # fmt: skip
        response = self._call("POST", "api/events/tags", json=body)
        if response.status_code in (200, 201):
            return None
        return f"{response.status_code} {_detail(response)}"

    def file(self, media_id: str, kind: str) -> bytes | None:
        response = self._call("GET", f"files/{media_id}/{kind}")
        if response.status_code != 200 or len(response.content) > MAX_FILE_BYTES:
            return None
        return response.content
