"""Faces into people, in the catalog: kept through builds, regrouped with the user's changes.

The ``faces`` step stores each photo's faces; the build copies them into the
``faces`` table (a photo once, until its entry goes) and groups them into people with
the core's :func:`homegallery._core.group_people`. What the user did to people are
events in the one append-only log (:class:`~homegallery.catalog.events.PeopleChange`);
replaying them gives the constraints every grouping keeps: faces put into a person
stay there (must-link), faces removed from one never return to it, two faces of one
photo are never one person. So names, merges and moves survive every build and every
regrouping.

Incremental: a build with no new person changes lets only the new faces join the
people there are (their descriptor sums are kept in ``people``); a full build, a new
threshold or new person changes group every face again, which the core does in
seconds for 100k faces.

People are found by the entries' values: ``person`` holds each named person's name
(casefolded; a bare word finds it too) and ``person_id`` every person's key, so an
unnamed person is found by ``personid:<key>``. An unnamed person's key comes from its
first face (``face-<media id>-<index>``); acting on a person makes the key its own.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from homegallery.catalog.events import (
    Event,
    PeopleChange,
    read_events,
)
from homegallery.catalog.fold import fold
from homegallery.errors import HomeGalleryError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DIMS = 128
SAME_FACE_PIECE = 20_000  # descriptors read at once by a same-face search (10 MB)
# A face turned this far to the side (the nose's offset from between the eyes, in eye
# distances; 0 looking straight at the camera) is kept but not grouped by its
# descriptor: SFace describes profiles poorly, and on the test photos a profile at
# 0.88 was as alike (cosine 0.38) to a stranger as photos of one person often are.
# The user can still put it into a person. Frontal faces there measured up to 0.47.
SIDE_VIEW = 0.6


class PersonNotFoundError(HomeGalleryError, LookupError):
    """No person with that key or name (for this viewer)."""


@dataclass(frozen=True)
class FaceOutputs:
    """The face models whose stored faces the catalog holds, and the grouping threshold."""

    models_tag: str
    threshold: float

    def describe(self) -> str:
        return f"{self.models_tag}|{self.threshold:.4f}"


def face_key(media_id: str, index: int) -> str:
    return f"{media_id}:{index}"


def split_face_key(key: str) -> tuple[str, int]:
    media_id, _, index = key.rpartition(":")
    return media_id, int(index)


def derived_key(first_face: str) -> str:
    """The key of a person nobody acted on yet: from its first face, short and stable."""
    return "face-" + hashlib.blake2b(first_face.encode(), digest_size=6).hexdigest()


# --- the user's changes, replayed -------------------------------------------------------


@dataclass
class Constraints:
    """What the log of person changes says, after replaying it in order."""

    anchors: dict[str, str] = field(default_factory=dict)  # face → person key
    forbidden: dict[str, set[str]] = field(default_factory=dict)  # face → person keys
    names: dict[str, str] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    merged: dict[str, str] = field(default_factory=dict)  # person key → where it went

    def resolve(self, key: str) -> str:
        seen = set()
        while key in self.merged and key not in seen:
            seen.add(key)
            key = self.merged[key]
        return key

    def apply(self, change: PeopleChange) -> None:
        key = self.resolve(change.person)
        for face in change.add:
            self.anchors[face] = key
            self.forbidden.get(face, set()).discard(key)
        for face in change.remove:
            if self.anchors.get(face) == key:
                del self.anchors[face]
            self.forbidden.setdefault(face, set()).add(key)
        if change.name is not None:
            if change.name:
                self.names[key] = change.name
            else:
                self.names.pop(key, None)
        if change.hidden is not None:
            (self.hidden.add if change.hidden else self.hidden.discard)(key)
        if change.merge_into:
            self._merge(key, self.resolve(change.merge_into))

    def _merge(self, key: str, target: str) -> None:
        if target == key:
            return
        self.merged[key] = target
        for face, person in self.anchors.items():
            if person == key:
                self.anchors[face] = target
        for refused in self.forbidden.values():
            if key in refused:
                refused.discard(key)
                refused.add(target)
        if key in self.names and target not in self.names:
            self.names[target] = self.names[key]
        self.names.pop(key, None)
        self.hidden.discard(key)


def replay(events: Iterable[Event], named: Iterable[tuple[str, str]] = ()) -> Constraints:
    """The constraints of the faces named in the photos' metadata ((face, name) pairs),
    then of the user's changes, which win over them."""
    constraints = Constraints()
    for face, name in named:
        key = named_key(name)
        constraints.anchors[face] = key
        constraints.names.setdefault(key, name)
    for event in events:
        if event.people is not None:
            constraints.apply(event.people)
    return constraints


def _named_faces(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    return [
        (face_key(media_id, index), name)
        for media_id, index, name in connection.execute(
            "SELECT media_id, idx, named FROM faces WHERE named IS NOT NULL ORDER BY media_id, idx"
        )
    ]


def _people_events(connection: sqlite3.Connection) -> tuple[list[Event], int]:
    events = [(seq, event) for seq, event in read_events(connection) if event.people is not None]
    return [event for _, event in events], (events[-1][0] if events else 0)


# --- faces from the storage -------------------------------------------------------------


def _sync_faces(
    connection: sqlite3.Connection,
    storage_dir: Path,
    outputs: FaceOutputs,
    written_after: int | None,
) -> tuple[int, list[str]]:
    """Copies the faces of new photos in and drops those of gone ones; (faces added, problems).

    Only entries the build wrote (rowid above ``written_after``; None: every entry) are
    looked at for new faces: a faces file that appears changes its entry's signature,
    so the build writes that entry again, and unchanged entries cost nothing here.
    """
    from homegallery.extract.schema import (  # lazy: only a build with faces reads them
        Faces,
        faces_kind,
    )
    from homegallery.storage import Storage  # lazy: with the line above

    current = {
        media_id
        for (media_id,) in connection.execute("SELECT id FROM entries WHERE type != 'video'")
    }
    known = dict(connection.execute("SELECT media_id, models FROM face_sources").fetchall())
    gone = [
        media_id
        for media_id, models in known.items()
        if media_id not in current or models != outputs.models_tag
    ]
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        marks = ",".join("?" * len(chunk))
        connection.execute(f"DELETE FROM faces WHERE media_id IN ({marks})", chunk)
        connection.execute(f"DELETE FROM face_sources WHERE media_id IN ({marks})", chunk)
    storage = Storage(storage_dir)
    kind = faces_kind(outputs.models_tag)
    decoder = msgspec.json.Decoder(Faces)
    added = 0
    problems: list[str] = []
    if written_after is None:
        candidates = sorted(current)
    else:
        candidates = [
            media_id
            for (media_id,) in connection.execute(
                "SELECT id FROM entries WHERE rowid > ? AND type != 'video' ORDER BY id",
                (written_after,),
            )
        ]
    for media_id in candidates:
        if known.get(media_id) == outputs.models_tag:
            continue
        path = storage.path(media_id, kind)
        try:
            data = storage.get(media_id, kind)
            if data is None:
                continue
            found = decoder.decode(data)
        except (OSError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as error:
            problems.append(f"{path}: cannot read its faces: {error}")
            continue
        names = _names_in_metadata(storage, media_id, found, problems)
        rows = []
        for index, face in enumerate(found.faces):
            descriptor = _descriptor_bytes(face.descriptor)
            if descriptor is None or len(face.landmarks) != 5:
                problems.append(f"{path}: face {index} has no valid descriptor or landmarks")
                continue
            rows.append(
                (
                    media_id, index, face.x, face.y, face.width, face.height, face.score,
                    yaw(face.landmarks), names.get(index), descriptor,
                )
            )  # fmt: skip
        connection.executemany(
            "INSERT OR REPLACE INTO faces "
            "(media_id, idx, x, y, width, height, score, yaw, named, descriptor)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute(
            "INSERT OR REPLACE INTO face_sources (media_id, models) VALUES (?, ?)",
            (media_id, outputs.models_tag),
        )
        added += len(rows)
    return added, problems


MATCH_IOU = 0.3  # a named region and a found face overlapping this much are one face


def name_faces(
    boxes: Sequence[tuple[float, float, float, float]],
    regions: Sequence[tuple[str, tuple[float, float, float, float]]],
) -> dict[int, str]:
    """Which found face each named region is (best overlap first, each face once)."""
    from homegallery.ml.faces import iou  # lazy: numpy, only for photos with regions

    pairs = sorted(
        (
            (iou(box, region), index, name)
            for index, box in enumerate(boxes)
            for name, region in regions
        ),
        key=lambda pair: -pair[0],
    )
    named: dict[int, str] = {}
    used: set[str] = set()
    for overlap, index, name in pairs:
        if overlap < MATCH_IOU:
            break
        if index not in named and name not in used:
            named[index] = name
            used.add(name)
    return named


def named_key(name: str) -> str:
    """The key of a person named in the photos' metadata: the same for every photo."""
    return "name-" + hashlib.blake2b(fold(name).encode(), digest_size=6).hexdigest()


def yaw(landmarks: Sequence[tuple[float, float]]) -> float:
    """How far the face is turned: the nose's sideways offset from between the eyes, in
    eye distances, measured across the picture (relative x only: a ratio of two widths,
    so the picture's aspect does not matter)."""
    (right_x, _), (left_x, _), (nose_x, _) = landmarks[:3]
    distance = left_x - right_x
    if abs(distance) < 1e-6:
        return 1.0
    return (nose_x - (left_x + right_x) / 2) / distance


def _names_in_metadata(
    storage: Any, media_id: str, found: Any, problems: list[str]
) -> dict[int, str]:
    """The faces of a photo named by its metadata's face regions, by their index."""
    from homegallery.extract.schema import read_meta  # lazy: as in _sync_faces

    if not found.faces:
        return {}
    try:
        meta = read_meta(storage, media_id)
    except HomeGalleryError as error:
        problems.append(str(error))
        return {}
    if meta is None or not meta.face_regions:
        return {}
    return name_faces(
        [(face.x, face.y, face.width, face.height) for face in found.faces],
        [
            (region.name, (region.x, region.y, region.width, region.height))
            for region in meta.face_regions
        ],
    )


def _descriptor_bytes(values: Sequence[float]) -> bytes | None:
    import numpy as np  # lazy: a build without faces never needs it here

    array = np.asarray(values, dtype="<f4")
    if array.shape != (DIMS,) or not np.isfinite(array).all():
        return None
    return array.tobytes()


# --- grouping ------------------------------------------------------------------------------


@dataclass
class _Faces:
    keys: list[str]
    media_ids: list[str]
    scores: list[float]
    areas: list[float]
    side: list[bool]
    descriptors: npt.NDArray[np.float32]


def _load_faces(connection: sqlite3.Connection, where: str = "") -> _Faces:
    import numpy as np  # lazy: see _descriptor_bytes

    rows = connection.execute(
        "SELECT media_id, idx, score, width * height, descriptor, abs(yaw) FROM faces "
        f"{where} ORDER BY media_id, idx"
    ).fetchall()
    descriptors = (
        np.frombuffer(b"".join(row[4] for row in rows), dtype="<f4").reshape(-1, DIMS)
        if rows
        else np.zeros((0, DIMS), np.float32)
    )
    return _Faces(
        keys=[face_key(row[0], row[1]) for row in rows],
        media_ids=[row[0] for row in rows],
        scores=[row[2] for row in rows],
        areas=[row[3] for row in rows],
        side=[row[5] > SIDE_VIEW for row in rows],
        descriptors=np.ascontiguousarray(descriptors, dtype=np.float32),
    )


def _photo_numbers(media_ids: list[str]) -> npt.NDArray[np.uint64]:
    import numpy as np  # lazy: see _descriptor_bytes

    numbers: dict[str, int] = {}
    return np.array(
        [numbers.setdefault(media_id, len(numbers)) for media_id in media_ids], np.uint64
    )


def _group(
    faces: _Faces,
    constraints: Constraints,
    threshold: float,
    keys: list[str],
    sums: Any,
    counts: Any,
    threads: int,
) -> tuple[list[int], list[str], Any, Any]:
    """Runs the core's grouping; returns (person of each face, keys, sums, counts)."""
    import numpy as np  # lazy: see _descriptor_bytes

    from homegallery import _core  # lazy: the build loads the core anyway

    index = {key: number for number, key in enumerate(keys)}
    anchors = np.full(len(faces.keys), -1, np.int64)
    for number, key in enumerate(faces.keys):
        person = constraints.anchors.get(key)
        if person is not None:
            person = constraints.resolve(person)
            if person not in index:
                index[person] = len(keys)
                keys.append(person)
            anchors[number] = index[person]
    forbidden = [
        (number, index[person])
        for number, key in enumerate(faces.keys)
        for person in constraints.forbidden.get(key, ())
        if person in index
    ]
    person_of, sums, counts = _core.group_people(
        faces.descriptors,
        _photo_numbers(faces.media_ids),
        anchors,
        np.array(faces.side, dtype=np.bool_),
        forbidden,
        np.ascontiguousarray(sums, dtype=np.float32).reshape(-1, DIMS),
        np.asarray(counts, dtype=np.uint64),
        [],
        threshold,
        threads,
    )
    people = person_of.tolist()
    used = set(keys)
    for number, person in enumerate(people):
        if person >= len(keys) or not keys[person]:  # a new person: its key from its first face
            while len(keys) <= person:
                keys.append("")
            if not keys[person]:
                # Another person may hold that key: the one this face was taken out of.
                key, suffix = derived_key(faces.keys[number]), 1
                while key in used:
                    suffix += 1
                    key = f"{derived_key(faces.keys[number])}-{suffix}"
                keys[person] = key
                used.add(key)
    return people, keys, sums, counts


def _write_people(
    connection: sqlite3.Connection,
    keys: list[str],
    sums: Any,
    counts: Any,
    constraints: Constraints,
) -> None:
    connection.execute("DELETE FROM people")
    covers = dict(
        connection.execute(
            "SELECT person, media_id || ':' || idx FROM ("
            " SELECT person, media_id, idx, row_number() OVER ("
            "  PARTITION BY person ORDER BY score * width * height DESC, media_id, idx) AS n"
            " FROM faces WHERE person IS NOT NULL) WHERE n = 1"
        ).fetchall()
    )
    rows = []
    for number, key in enumerate(keys):
        if not key or int(counts[number]) == 0 or (number + 1) not in covers:
            continue
        rows.append(
            (
                number + 1,
                key,
                constraints.names.get(key),
                int(key in constraints.hidden),
                int(counts[number]),
                covers[number + 1],
                sums[number].astype("<f4").tobytes(),
            )
        )
    connection.executemany(
        "INSERT INTO people (id, key, name, hidden, count, cover, sum) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    # Counts from the faces: anchors may name faces that are gone.
    connection.execute(
        "UPDATE people SET count = (SELECT count(*) FROM faces WHERE faces.person = people.id)"
    )
    connection.execute("DELETE FROM people WHERE count = 0")


def write_values(connection: sqlite3.Connection, rowids: Sequence[int] | None = None) -> None:
    """Each entry's people as searchable values, and its face count.

    ``rowids``: only these entries (those a build wrote, or whose people a change
    touched); None: every entry, as after a grouping.
    """
    names = {
        person: fold(name)
        for person, name in connection.execute("SELECT id, name FROM people WHERE name IS NOT NULL")
    }
    pieces: list[list[int]] | list[None] = (
        [None]
        if rowids is None
        else [list(rowids)[at : at + 500] for at in range(0, len(rowids), 500)]
    )
    for piece in pieces:
        only, entries_only, params = "", "", []
        if piece is not None:
            marks = ",".join("?" * len(piece))
            only, entries_only, params = (
                f" AND e.rowid IN ({marks})",
                f" AND rowid IN ({marks})",
                piece,
            )
        connection.execute(
            "DELETE FROM entry_values WHERE key IN ('person', 'person_id')"
            + entries_only.replace("rowid", "entry"),
            params,
        )
        rows: set[tuple[int, str, str]] = set()
        for rowid, person, key in connection.execute(
            "SELECT e.rowid, f.person, p.key FROM faces f JOIN entries e ON e.id = f.media_id "
            "JOIN people p ON p.id = f.person WHERE 1" + only,
            params,
        ):
            rows.add((rowid, "person_id", fold(key)))
            if person in names:
                rows.add((rowid, "person", names[person]))
        connection.executemany(
            "INSERT INTO entry_values (entry, key, value) VALUES (?, ?, ?)", sorted(rows)
        )
        # Only rows whose count differs are written: most are as they were.
        connection.execute(
            "UPDATE entries SET face_count = "
            "(SELECT count(*) FROM faces WHERE faces.media_id = entries.id) "
            "WHERE face_count != (SELECT count(*) FROM faces WHERE faces.media_id = entries.id)"
            + entries_only,
            params,
        )


def forget_people(connection: sqlite3.Connection) -> None:
    """Faces turned off: no faces, no people (the user's changes stay in the log)."""
    for table in ("faces", "face_sources", "people"):
        connection.execute(f"DELETE FROM {table}")
    connection.execute("DELETE FROM entry_values WHERE key IN ('person', 'person_id')")
    connection.execute("UPDATE entries SET face_count = 0 WHERE face_count != 0")
    connection.execute("DELETE FROM catalog_info WHERE key = 'people'")


@dataclass
class PeopleSummary:
    faces: int = 0
    added: int = 0
    people: int = 0
    regrouped: bool = False
    problems: list[str] = field(default_factory=list)


def _state(outputs: FaceOutputs, last_event: int, named: list[tuple[str, str]]) -> str:
    """What the stored people were grouped from: the models and threshold, the last
    people event, the named faces (kept in catalog_info as 'people')."""
    return f"{outputs.describe()}|{last_event}|{len(named)}"


def people_up_to_date(connection: sqlite3.Connection, outputs: FaceOutputs | None) -> bool:
    """Whether the catalog's people need no build: grouped from these models, after
    every people event (or, with faces off, none left)."""
    row = connection.execute("SELECT value FROM catalog_info WHERE key = 'people'").fetchone()
    if outputs is None:
        return row is None and connection.execute("SELECT 1 FROM faces LIMIT 1").fetchone() is None
    if row is None:
        return False
    _, last = _people_events(connection)
    return bool(row[0] == _state(outputs, last, _named_faces(connection)))


def update_people(
    connection: sqlite3.Connection,
    storage_dir: Path,
    outputs: FaceOutputs,
    *,
    full: bool = False,
    written_after: int | None = None,
    threads: int = 0,
) -> PeopleSummary:
    """Brings faces and people up to date; call inside the build's write transaction.

    ``written_after``: the entries' rowid before this build wrote its entries (None:
    look at every entry, as after a full build).
    """
    import numpy as np  # lazy: see _descriptor_bytes

    summary = PeopleSummary()
    row = connection.execute("SELECT value FROM catalog_info WHERE key = 'people'").fetchone()
    if full or row is None or not row[0].startswith(outputs.describe() + "|"):
        written_after = None
    summary.added, summary.problems = _sync_faces(connection, storage_dir, outputs, written_after)
    events, last = _people_events(connection)
    named = _named_faces(connection)
    constraints = replay(events, named)
    state = _state(outputs, last, named)
    has_people = connection.execute("SELECT 1 FROM people LIMIT 1").fetchone() is not None
    regroup = full or row is None or row[0] != state or not has_people
    if regroup:
        faces = _load_faces(connection)
        people, keys, sums, counts = _group(
            faces, constraints, outputs.threshold, [], np.zeros((0, DIMS)), [], threads
        )
        summary.regrouped = True
    else:
        faces = _load_faces(connection, "WHERE person IS NULL")
        kept = connection.execute("SELECT id, key, count, sum FROM people ORDER BY id").fetchall()
        size = max((person_id for person_id, *_ in kept), default=0)
        keys = [""] * size
        sums = np.zeros((size, DIMS), np.float32)
        counts = np.zeros(size, np.uint64)
        for person_id, key, count, total in kept:
            keys[person_id - 1] = key
            sums[person_id - 1] = np.frombuffer(total, "<f4")
            counts[person_id - 1] = count
        people, keys, sums, counts = _group(
            faces, constraints, outputs.threshold, keys, sums, counts, threads
        )
    written = None
    if not regroup and written_after is not None:
        written = [
            rowid
            for (rowid,) in connection.execute(
                "SELECT rowid FROM entries WHERE rowid > ?", (written_after,)
            )
        ]
    _store(connection, faces, people, keys, sums, counts, constraints, state, written)
    summary.faces = int(connection.execute("SELECT count(*) FROM faces").fetchone()[0])
    summary.people = int(connection.execute("SELECT count(*) FROM people").fetchone()[0])
    return summary


def _store(
    connection: sqlite3.Connection,
    faces: _Faces,
    people: list[int],
    keys: list[str],
    sums: Any,
    counts: Any,
    constraints: Constraints,
    state: str,
    written: Sequence[int] | None = None,
) -> None:
    connection.executemany(
        "UPDATE faces SET person = ? WHERE media_id = ? AND idx = ?",
        [
            (person + 1, *split_face_key(key))
            for key, person in zip(faces.keys, people, strict=True)
        ],
    )
    _write_people(connection, keys, sums, counts, constraints)
    write_values(connection, written)
    connection.execute(
        "INSERT INTO catalog_info (key, value) VALUES ('people', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (state,),
    )


# --- reading people -------------------------------------------------------------------------


class Person(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A person as scripts and the HTTP API see them."""

    key: str
    name: str | None = None
    count: int  # faces, which is also photos: a photo never shows one person twice
    cover: str  # the face shown for the person: "<media id>:<index>"
    hidden: bool = False


class FaceInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One face of a photo: where it is (relative box), its person's key and name."""

    key: str
    box: tuple[float, float, float, float]
    score: float
    person: str | None = None
    name: str | None = None


def _visible(media_ids: Iterable[str], allowed: set[str] | None) -> list[str]:
    return [m for m in media_ids if allowed is None or m in allowed]


def list_people(
    connection: sqlite3.Connection,
    *,
    hidden: bool = False,
    allowed: set[str] | None = None,
) -> list[Person]:
    """Every person, named ones first (by name), then by faces, most first.

    ``allowed``: the media ids a viewer may see; a person is counted over those only
    and left out when none of its photos is among them.
    """
    rows = connection.execute(
        "SELECT p.id, p.key, p.name, p.hidden, p.count, p.cover FROM people p"
    ).fetchall()
    faces_of: dict[int, list[tuple[str, int, float]]] = {}
    if allowed is not None:
        for person, media_id, index, weight in connection.execute(
            "SELECT person, media_id, idx, score * width * height FROM faces "
            "WHERE person IS NOT NULL"
        ):
            if media_id in allowed:
                faces_of.setdefault(person, []).append((media_id, index, weight))
    people = []
    for person_id, key, name, is_hidden, count, cover in rows:
        if is_hidden and not hidden:
            continue
        if allowed is not None:
            seen = faces_of.get(person_id, [])
            if not seen:
                continue
            count = len(seen)
            if cover.rpartition(":")[0] not in allowed:
                best = max(seen, key=lambda face: (face[2], face[0]))
                cover = face_key(best[0], best[1])
        people.append(Person(key=key, name=name, count=count, cover=cover, hidden=bool(is_hidden)))
    people.sort(key=lambda p: (p.name is None, fold(p.name or ""), -p.count, p.key))
    return people


def find_person(connection: sqlite3.Connection, key_or_name: str) -> Person:
    """The person with this key, else the one with this name (without case)."""
    for person in list_people(connection, hidden=True):
        if person.key == key_or_name:
            return person
    wanted = fold(key_or_name)
    for person in list_people(connection, hidden=True):
        if person.name is not None and fold(person.name) == wanted:
            return person
    raise PersonNotFoundError(f"no person {key_or_name!r}")


def person_faces(connection: sqlite3.Connection, key: str) -> list[str]:
    """The faces of a person, as face keys, by photo."""
    return [
        face_key(media_id, index)
        for media_id, index in connection.execute(
            "SELECT f.media_id, f.idx FROM faces f JOIN people p ON p.id = f.person "
            "WHERE p.key = ? ORDER BY f.media_id, f.idx",
            (key,),
        )
    ]


def entry_faces(connection: sqlite3.Connection, media_id: str) -> list[FaceInfo]:
    """The faces of one photo with their people, in the photo's order."""
    return [
        FaceInfo(
            key=face_key(media_id, index),
            box=(x, y, width, height),
            score=score,
            person=key,
            name=name,
        )
        for index, x, y, width, height, score, key, name in connection.execute(
            "SELECT f.idx, f.x, f.y, f.width, f.height, f.score, p.key, p.name FROM faces f "
            "LEFT JOIN people p ON p.id = f.person WHERE f.media_id = ? ORDER BY f.idx",
            (media_id,),
        )
    ]


def face_descriptor(connection: sqlite3.Connection, key: str) -> bytes:
    media_id, index = split_face_key(key)
    row = connection.execute(
        "SELECT descriptor FROM faces WHERE media_id = ? AND idx = ?", (media_id, index)
    ).fetchone()
    if row is None:
        raise PersonNotFoundError(f"no face {key!r}")
    return bytes(row[0])


def same_face(
    connection: sqlite3.Connection, key: str, threshold: float
) -> list[tuple[str, float]]:
    """Photos with a face like this one (cosine at least ``threshold``), most alike first.

    The descriptors are read in pieces, so a request costs a few megabytes whatever
    the gallery's size.
    """
    import numpy as np  # lazy: see _descriptor_bytes

    query = np.frombuffer(face_descriptor(connection, key), "<f4")
    best: dict[str, float] = {}
    cursor = connection.execute("SELECT media_id, descriptor FROM faces")
    while rows := cursor.fetchmany(SAME_FACE_PIECE):
        matrix = np.frombuffer(b"".join(row[1] for row in rows), "<f4").reshape(-1, DIMS)
        scores = matrix @ query
        for number in np.flatnonzero(scores >= threshold).tolist():
            media_id = rows[number][0]
            best[media_id] = max(best.get(media_id, -1.0), float(scores[number]))
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))
