"""What the HTTP API sends and receives (msgspec Structs, camelCase on the wire)."""

from __future__ import annotations

import functools
from pathlib import Path

import msgspec

from homegallery.catalog.entry import Entry, EntryFile
from homegallery.catalog.events import Event


class ApiEntry(Entry, kw_only=True, omit_defaults=True):
    """An entry as a viewer gets it: sources by name, not by their path on the server."""

    downloadable: bool = False  # originals of this entry may be downloaded
    problem: str = ""  # why it has no preview: the extract step that failed, and its cause
    updated: str = ""  # when the entry last changed (ISO, UTC): the `updated` query key


@functools.lru_cache(maxsize=256)
def source_name(source: str) -> str:
    """A source as viewers know it: its folder's name, never its path on the server
    (cached: a page of 100 entries asks for the same few sources 100 times)."""
    return Path(source).name or source


def api_entry(
    entry: Entry, downloadable_sources: frozenset[str], problem: str = "", updated: str = ""
) -> ApiEntry:
    fields = msgspec.structs.asdict(entry)
    fields["files"] = api_files(entry)
    downloadable = is_downloadable(entry, downloadable_sources)
    return ApiEntry(**fields, downloadable=downloadable, problem=problem, updated=updated)


def api_files(entry: Entry) -> list[EntryFile]:
    """The entry's files with their sources by name."""
    return [msgspec.structs.replace(file, source=source_name(file.source)) for file in entry.files]


def is_downloadable(entry: Entry, downloadable_sources: frozenset[str]) -> bool:
    """Whether an original of the entry (not a sidecar) lies in a downloadable source."""
    return any(
        file.kind != "sidecar" and file.source in downloadable_sources for file in entry.files
    )


class _Wire(msgspec.Struct, kw_only=True, rename="camel"):
    pass


class Count(_Wire):
    query: str
    total: int


class EntryPage(_Wire):
    query: str
    total: int
    offset: int
    entries: list[ApiEntry]


class JoinedEntryPage(_Wire):
    """An :class:`EntryPage` whose entries are a JSON array joined already (the same
    bytes on the wire: the fields in the same order)."""

    query: str
    total: int
    offset: int
    entries: msgspec.Raw


class Timeline(_Wire):
    """Everything the grid lays out before it loads a single entry."""

    query: str
    total: int
    version: int
    ratios: list[float]  # width / height per match, in order (1.0 when unknown)
    groups: list[tuple[int, int, int]]  # runs of (year, month, count); 0 when unknown
    # form=packed: the ratios instead as the distinct ratios (ratio_table) and, per
    # match, the index of its ratio in that table: base64 of one byte each while the
    # table has at most 256 ratios, else of two (little-endian). A gallery has few
    # distinct ratios, so a match costs about a byte instead of ~6 of JSON.
    ratio_table: list[float] = []
    packed_ratios: str = ""


class Places(_Wire):
    points: list[tuple[float, float, str]]  # latitude, longitude, media id


class PlaceClusters(_Wire):
    """The placed matches at one zoom of the map, grouped by what overlaps on screen."""

    total: int  # placed matches, in the bounds or not
    zoom: int
    bounds: list[float]  # south, west, north, east of every placed match; [] when none
    # latitude, longitude (the mean of its points), how many, its first match's id;
    # only the clusters of the bounds asked for
    clusters: list[tuple[float, float, int, str]]


class TagCount(_Wire):
    tag: str
    count: int


class Tags(_Wire):
    tags: list[TagCount]


class FolderItem(_Wire):
    path: str  # <source folder's name>/<path>, as written on disk
    name: str
    count: int  # entries in it and below
    has_folders: bool
    cover: ApiEntry | None


class FolderLevel(_Wire):
    """One level of the folder tree: the folders directly below ``path``."""

    path: str
    total: int  # folders at this level (``folders`` is a page of them)
    offset: int
    folders: list[FolderItem]


class Album(_Wire):
    """A saved album (a query) or a hand-picked one (a tag ``album:<name>``)."""

    name: str  # a path: Trips/2019/Italy
    kind: str  # saved or picked
    query: str  # what the grid shows
    count: int
    cover: ApiEntry | None
    id: int | None = None  # of a saved album
    order: str = "newest"


class Albums(_Wire):
    albums: list[Album]
    can_save: bool  # the viewer may save albums


class AlbumSave(_Wire):
    name: str
    query: str
    cover: str = ""
    order: str = "newest"


class AlbumDelete(_Wire):
    id: int


class Position(_Wire):
    """Where an entry stands in a result: -1 when the result leaves it out."""

    id: str
    index: int
    total: int


class TagChange(_Wire):
    ids: list[str]
    add: list[str] = msgspec.field(default_factory=list)
    remove: list[str] = msgspec.field(default_factory=list)
    # A change carried over from another gallery keeps its id there, so that carrying
    # it again (or back) adds nothing.
    uid: str | None = None


class EventPage(_Wire):
    events: list[Event]
    last: int  # the sequence number to ask after next time


class TagChangeResult(_Wire):
    changed: int


class Login(_Wire):
    username: str
    password: str


class ShareRequest(_Wire):
    """A new share link: ``kind`` photo (``target`` its id), album (its name) or query."""

    kind: str
    target: str
    title: str = ""
    password: str = ""  # "" for none
    expires_days: int | None = None  # None: until revoked
    originals: bool = False


class ShareInfo(_Wire):
    """One of the user's share links."""

    id: int
    link: str  # relative to the app's address: s/<token>/…
    kind: str
    target: str
    title: str
    created: int  # unix seconds
    expires: int | None
    expired: bool
    password: bool
    originals: bool
    count: int  # entries it shows now; -1 when it shows nothing any more (see SECURITY.md)


class ShareList(_Wire):
    shares: list[ShareInfo]


class ShareRevoke(_Wire):
    id: int


class ShareVisit(_Wire):
    """What a visitor with a link is told about it."""

    title: str
    kind: str
    target: str
    originals: bool
    locked: bool  # a password must be given first


class Unlock(_Wire):
    password: str


class AppSettings(_Wire):
    """What the web app needs to know before it shows anything."""

    user: str | None
    login_enabled: bool
    login_required: bool
    can_edit: bool
    tile_url: str
    version: int
    can_share: bool = False
    share: ShareVisit | None = None  # set for a visitor with a share link
    # Naming, merging and correcting people (a login that may edit and sees everything).
    can_change_people: bool = False
