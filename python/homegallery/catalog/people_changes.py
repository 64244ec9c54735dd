"""The user's actions on people: as changes for the log, and applied to the catalog at once.

Each action becomes :class:`~homegallery.catalog.events.PeopleChange` events naming
faces, so every later grouping replays it (:mod:`homegallery.catalog.people`). Until
the next build groups the faces again, the change is applied to the people as they
stand, in SQL: naming and hiding touch one row, a merge or a move moves faces, a
removed face becomes a person of its own. That keeps a click quick in a gallery of
100k faces, where grouping everything again takes seconds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from homegallery.catalog.events import PeopleChange, append_events, new_people_event
from homegallery.catalog.generation import bump_generation
from homegallery.catalog.people import (
    DIMS,
    PersonNotFoundError,
    derived_key,
    face_descriptor,
    find_person,
    person_faces,
    split_face_key,
    write_values,
)
from homegallery.catalog.schema import write_transaction


def _person_key(connection: sqlite3.Connection, key_or_name: str) -> str:
    return find_person(connection, key_or_name).key


def name_changes(connection: sqlite3.Connection, person: str, name: str) -> list[PeopleChange]:
    """Naming (or renaming, "" to unname) a person: its faces become its own."""
    key = _person_key(connection, person)
    return [PeopleChange(person=key, add=person_faces(connection, key), name=name)]


def merge_changes(connection: sqlite3.Connection, source: str, target: str) -> list[PeopleChange]:
    """Every face of ``source`` into ``target``; the target keeps its name (else takes it)."""
    from_key, to_key = _person_key(connection, source), _person_key(connection, target)
    if from_key == to_key:
        raise PersonNotFoundError("a person cannot be merged into itself")
    return [
        PeopleChange(person=to_key, add=person_faces(connection, to_key)),
        PeopleChange(person=from_key, add=person_faces(connection, from_key), merge_into=to_key),
    ]


def move_changes(connection: sqlite3.Connection, face: str, target: str) -> list[PeopleChange]:
    """One face into another person (it leaves its own)."""
    face_descriptor(connection, face)  # the face exists
    to_key = _person_key(connection, target)
    return [PeopleChange(person=to_key, add=[*person_faces(connection, to_key), face])]


def remove_changes(connection: sqlite3.Connection, face: str, person: str) -> list[PeopleChange]:
    """One face out of a person, never to return; it becomes a person of its own."""
    key = _person_key(connection, person)
    faces = person_faces(connection, key)
    if face not in faces:
        raise PersonNotFoundError(f"face {face!r} is not in {person!r}")
    return [PeopleChange(person=key, add=[f for f in faces if f != face], remove=[face])]


def hide_changes(connection: sqlite3.Connection, person: str, hidden: bool) -> list[PeopleChange]:
    key = _person_key(connection, person)
    return [PeopleChange(person=key, add=person_faces(connection, key), hidden=hidden)]


def _person_id(connection: sqlite3.Connection, key: str) -> int | None:
    row = connection.execute("SELECT id FROM people WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else None


def _new_person(connection: sqlite3.Connection, key: str) -> int:
    """A person without faces yet, under ``key`` (made unique when another has it)."""
    wanted, number = key, 1
    while _person_id(connection, key) is not None:
        number += 1
        key = f"{wanted}-{number}"
    row = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM people").fetchone()
    person = int(row[0])
    connection.execute(
        "INSERT INTO people (id, key, name, hidden, count, cover, sum) "
        "VALUES (?, ?, NULL, 0, 0, '', ?)",
        (person, key, bytes(4 * DIMS)),
    )
    return person


def _place(connection: sqlite3.Connection, face: str, person: int) -> None:
    media_id, index = split_face_key(face)
    connection.execute(
        "UPDATE faces SET person = ? WHERE media_id = ? AND idx = ?", (person, media_id, index)
    )


def _refresh(connection: sqlite3.Connection, people: set[int]) -> None:
    """Counts, covers and descriptor sums of the people whose faces changed."""
    for person in people:
        rows = connection.execute(
            "SELECT media_id, idx, descriptor FROM faces WHERE person = ? "
            "ORDER BY score * width * height DESC, media_id, idx",
            (person,),
        ).fetchall()
        if not rows:
            connection.execute("DELETE FROM people WHERE id = ?", (person,))
            continue
        total = np.frombuffer(b"".join(row[2] for row in rows), "<f4").reshape(-1, DIMS).sum(0)
        connection.execute(
            "UPDATE people SET count = ?, cover = ?, sum = ? WHERE id = ?",
            (len(rows), f"{rows[0][0]}:{rows[0][1]}", total.astype("<f4").tobytes(), person),
        )


def _apply(connection: sqlite3.Connection, change: PeopleChange) -> set[int]:
    """One change on the people as they stand; returns the people whose faces changed."""
    person = _person_id(connection, change.person)
    if person is None:
        person = _new_person(connection, change.person)
    touched = {person}
    for face in change.add:
        media_id, index = split_face_key(face)
        row = connection.execute(
            "SELECT person FROM faces WHERE media_id = ? AND idx = ?", (media_id, index)
        ).fetchone()
        if row is not None:
            touched.add(row[0])
            _place(connection, face, person)
    for face in change.remove:
        face_descriptor(connection, face)  # the face exists
        alone = _new_person(connection, derived_key(face))
        _place(connection, face, alone)
        touched.add(alone)
    if change.name is not None:
        connection.execute("UPDATE people SET name = ? WHERE id = ?", (change.name or None, person))
    if change.hidden is not None:
        connection.execute(
            "UPDATE people SET hidden = ? WHERE id = ?", (int(change.hidden), person)
        )
    if change.merge_into:
        target = _person_id(connection, change.merge_into)
        if target is None:
            raise PersonNotFoundError(f"no person {change.merge_into!r}")
        connection.execute("UPDATE faces SET person = ? WHERE person = ?", (target, person))
        connection.execute(
            "UPDATE people SET name = (SELECT name FROM people WHERE id = ?) "
            "WHERE id = ? AND name IS NULL",
            (person, target),
        )
        touched.add(target)
    return touched


def _entries_of(connection: sqlite3.Connection, people: set[int]) -> list[int]:
    """The rowids of the entries showing any of these people."""
    found: set[int] = set()
    listed = sorted(people)
    for start in range(0, len(listed), 500):
        piece = listed[start : start + 500]
        marks = ",".join("?" * len(piece))
        found.update(
            rowid
            for (rowid,) in connection.execute(
                "SELECT DISTINCT e.rowid FROM faces f JOIN entries e ON e.id = f.media_id "
                f"WHERE f.person IN ({marks})",
                piece,
            )
        )
    return sorted(found)


def record_changes(
    connection: sqlite3.Connection, changes: Sequence[PeopleChange], user: str
) -> int:
    """Appends the changes to the log and applies them to the people, in one transaction.

    The next build groups every face again with the whole log (the log's end is part
    of what the catalog records about its grouping), so what is applied here is what
    a grouping keeps.
    """
    events = [new_people_event(change, user=user) for change in changes]
    with write_transaction(connection):
        added = append_events(connection, events)
        touched: set[int] = set()
        for event in added:
            assert event.people is not None
            touched |= _apply(connection, event.people)
        _refresh(connection, touched)
        write_values(connection, _entries_of(connection, touched))
        bump_generation(connection)
    return len(added)
