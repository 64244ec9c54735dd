"""The build: file indexes + storage → the catalog, in one write transaction.

Readers never see a half-built catalog: everything a build changes is written in a
single SQLite transaction on a WAL database, so a search running meanwhile reads the
previous catalog until the commit and the new one after it.

A build is incremental: each entry keeps a signature of what it was made from (its
files and the kinds stored for its ids), and only entries whose signature changed are
read from the storage and written again. ``full=True`` makes every entry anew (after
a format change, or to be sure). The storage is read before the write lock is taken,
so tag changes from the web app wait only for the writing, not for the reading.

The embedding model's results come in as each entry's labels (above the label
threshold) and its similarity vector (:mod:`.vector_build`). Which model and threshold
a catalog was made with is recorded with its signatures, so changing either makes
every entry anew once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from homegallery import _core
from homegallery._core import BuildPlan
from homegallery.catalog.clip_build import KEEP, ClipWork
from homegallery.catalog.clip_build import prepare as prepare_clip
from homegallery.catalog.clip_build import write as write_clip
from homegallery.catalog.doc import decode_doc
from homegallery.catalog.events import Event, apply_to_catalog, events_by_entry, read_events
from homegallery.catalog.generation import bump_generation
from homegallery.catalog.grouping import SourceFiles, plan_build
from homegallery.catalog.people import (
    FaceOutputs,
    PeopleSummary,
    forget_people,
    people_up_to_date,
    update_people,
)
from homegallery.catalog.rows import (
    delete_entries,
    forget_updated,
    insert_docs,
    mark_updated,
    next_rowid,
    now_text,
)
from homegallery.catalog.schema import (
    create_entry_indexes,
    create_entry_tables,
    drop_entry_tables,
    open_writer,
)
from homegallery.catalog.shards import (
    ObjectOutputs,
    ShardResult,
    ShardTask,
    copy_shard,
    make_shard,
)
from homegallery.catalog.vector_build import (
    ModelOutputs,
    VectorWork,
    foreign_vector_ids,
    managed_model,
)
from homegallery.catalog.vector_build import prepare as prepare_vectors
from homegallery.catalog.vector_build import write as write_vectors
from homegallery.config import Config
from homegallery.extract.schema import faces_models_tag
from homegallery.index import load_index
from homegallery.ml.clip import ClipModelError
from homegallery.ml.clip import model_tag as clip_model_tag
from homegallery.models.store import task_model
from homegallery.progress import counted

log = logging.getLogger("homegallery.catalog")


@dataclass
class BuildSummary:
    entries: int = 0  # in the catalog after the build
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    files: int = 0
    vectors: int = 0  # similarity vectors written
    people: PeopleSummary | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        entries = counted(self.entries, "entry", "entries")
        lines = [
            f"catalog: {entries} from {counted(self.files, 'file')} "
            f"({self.added:,} added, {self.changed:,} changed, {self.removed:,} removed, "
            f"{self.unchanged:,} unchanged) in {self.seconds:.1f} s"
        ]
        if self.vectors:
            lines.append(f"similarity vectors: {self.vectors:,} written")
        if self.people is not None and self.people.faces:
            how = "grouped anew" if self.people.regrouped else f"{self.people.added:,} new"
            people = counted(self.people.people, "person", "people")
            faces = counted(self.people.faces, "face")
            lines.append(f"people: {people} from {faces} ({how})")
        if self.problems:
            unread = counted(len(self.problems), "stored file")
            lines.append(f"{unread} could not be read, e.g.:")
            lines.extend(f"  {problem}" for problem in self.problems[:5])
        return lines


# The signature of an entry fetched from another gallery (``homegallery fetch``): no
# index holds its files, so an incremental build keeps it instead of removing it.
FETCHED_SIGNATURE = "fetched:"


def _fetched_entries(connection: sqlite3.Connection) -> list[tuple[bytes, str]]:
    """(doc, signature) of every fetched entry."""
    return [
        (bytes(doc), signature)
        for doc, signature in connection.execute(
            "SELECT d.doc, e.signature FROM entries e JOIN entry_docs d ON d.entry = e.rowid "
            "WHERE e.signature LIKE ?",
            (FETCHED_SIGNATURE + "%",),
        )
    ]


def _stored_signatures(connection: sqlite3.Connection) -> str:
    """``id:signature`` lines of every entry, for the core's plan (one string: a million
    rows as Python tuples would cost a second). A fetched entry's signature is cut to
    its prefix: the plan only needs to know it is never made here."""
    (text,) = connection.execute(
        "SELECT group_concat(id || ':' || CASE WHEN signature LIKE ? THEN ? "
        "ELSE ifnull(signature, '') END, char(10)) FROM entries",
        (FETCHED_SIGNATURE + "%", FETCHED_SIGNATURE),
    ).fetchone()
    return str(text or "")


def _signature_format(outputs: ModelOutputs | None, objects: ObjectOutputs | None = None) -> str:
    """How this build makes signatures, and the model results its entries hold."""
    made = _core.SIGNATURE_FORMAT
    if outputs is not None:
        made += f"|{outputs.describe()}"
    if objects is not None:
        made += f"|objects:{objects.describe()}"
    return made


def _signatures_comparable(
    connection: sqlite3.Connection,
    outputs: ModelOutputs | None,
    objects: ObjectOutputs | None = None,
) -> bool:
    """Whether the catalog's signatures were made as this build makes them.

    When not (a new catalog, one from a version that made them another way, or one
    made with another embedding model or label threshold), no entry would match, and
    one full build is much quicker than replacing every entry.
    """
    return _stored_info(connection, "signatures") == _signature_format(outputs, objects)


def build_catalog(
    catalog: Path,
    storage_dir: Path,
    sources: Sequence[SourceFiles],
    *,
    full: bool = False,
    outputs: ModelOutputs | None = None,
    faces: FaceOutputs | None = None,
    objects: ObjectOutputs | None = None,
    clip: str | None = None,
) -> BuildSummary:
    """Builds (or updates) the catalog at ``catalog`` from indexed files and the storage.

    ``outputs``: the embedding model whose stored labels and vectors the entries get
    (None: none). ``faces``: the face models whose stored faces are grouped into
    people (None: none). ``objects``: the object detector whose stored objects the
    entries get (None: none). ``clip``: the tag of the CLIP model whose stored image
    vectors ``text:`` ranks by (None: none; ``clip_build.KEEP``: leave them as they are).
    """
    # A build makes a few objects per file and frees none until the end: the cyclic
    # collector would walk them all again and again (half the time of a 100k build).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(catalog, storage_dir, sources, full, outputs, faces, objects, clip)
    finally:
        if collecting:
            gc.enable()


_GROUPS_PER_PART = 2000  # a build of fewer groups is made in one part, on this thread


def _part_count(groups: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, 8, groups // _GROUPS_PER_PART))


def _tasks(
    plan: BuildPlan,
    parts: int,
    storage_dir: Path,
    catalog: Path,
    vector_ids: set[str],
    events: dict[str, list[Event]],
    outputs: ModelOutputs | None,
    objects: ObjectOutputs | None = None,
) -> list[ShardTask]:
    size = -(-len(plan) // parts) if len(plan) else 0
    return [
        ShardTask(
            plan=plan,
            start=min(part * size, len(plan)),
            end=min((part + 1) * size, len(plan)),
            storage_dir=storage_dir,
            path=catalog.with_name(f".{catalog.name}.part-{part}"),
            vector_ids=vector_ids,
            events=events,
            outputs=outputs,
            objects=objects,
        )
        for part in range(parts)
    ]


def _make_shards(tasks: list[ShardTask]) -> list[ShardResult]:
    if len(tasks) == 1:
        return [make_shard(tasks[0])]
    # The core releases the GIL while it makes a part, so threads use every core.
    with ThreadPoolExecutor(len(tasks), thread_name_prefix="catalog-part") as pool:
        return list(pool.map(make_shard, tasks))


def _build(
    catalog: Path,
    storage_dir: Path,
    sources: Sequence[SourceFiles],
    full: bool,
    outputs: ModelOutputs | None,
    faces: FaceOutputs | None = None,
    objects: ObjectOutputs | None = None,
    clip: str | None = None,
) -> BuildSummary:
    started = time.perf_counter()
    summary = BuildSummary(files=sum(len(source.files) for source in sources))
    connection = open_writer(catalog)
    tasks: list[ShardTask] = []
    try:
        if not full and not _signatures_comparable(connection, outputs, objects):
            full = True
            if connection.execute("SELECT 1 FROM entries LIMIT 1").fetchone():
                log.info(
                    "catalog: made by another version or with another model or label "
                    "threshold, so every entry is made anew"
                )
        plan, name_problems = plan_build(sources, "" if full else _stored_signatures(connection))
        summary.problems.extend(name_problems)
        for problem in name_problems:
            log.warning("%s", problem)
        managed = (outputs.model_tag if outputs else None, managed_model(connection))
        vector_ids = foreign_vector_ids(connection, managed)
        events_seen = _last_event(connection)
        events = events_by_entry(connection)
        tasks = _tasks(
            plan,
            _part_count(len(plan)),
            storage_dir,
            catalog,
            vector_ids,
            events,
            outputs,
            objects,
        )
        results = _make_shards(tasks)
        for result in results:
            summary.added += result.added
            summary.changed += result.changed
            summary.unchanged += result.unchanged
            summary.problems.extend(result.problems)
        twins = plan.twins()
        part_files = [task.path for task in tasks]
        vectors = prepare_vectors(connection, storage_dir, outputs, part_files, twins)
        clip_work = prepare_clip(connection, storage_dir, clip, part_files, twins)
        summary.vectors = len(vectors.ids)
        summary.problems.extend(vectors.problems)
        summary.problems.extend(clip_work.problems)
        for problem in vectors.problems:
            log.warning("%s", problem)
        gone = plan.gone(FETCHED_SIGNATURE)
        names = _index_names(sources)
        if (
            full
            or gone
            or summary.added
            or summary.changed
            or _vectors_change(vectors)
            or clip_work.changes
            or (names != _stored_info(connection, "index_names"))
            or not people_up_to_date(connection, faces)
        ):
            _write(
                connection, results, gone, events_seen, full, summary, vectors, outputs, names,
                faces, storage_dir, objects, clip_work,
            )  # fmt: skip
        # else nothing changed: no write, so the generation stays and no reader reloads
        summary.entries = int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        connection.close()
        for task in tasks:
            task.path.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _vectors_change(vectors: VectorWork) -> bool:
    return bool(vectors.ids) or vectors.new_format or vectors.previous != vectors.model


def _stored_info(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM catalog_info WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def _last_event(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT max(seq) FROM events").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _write(
    connection: sqlite3.Connection,
    results: list[ShardResult],
    gone: list[str],
    events_seen: int,
    full: bool,
    summary: BuildSummary,
    vectors: VectorWork,
    outputs: ModelOutputs | None,
    index_names: str,
    faces: FaceOutputs | None = None,
    storage_dir: Path | None = None,
    objects: ObjectOutputs | None = None,
    clip_work: ClipWork | None = None,
) -> None:
    """Copies the parts into the catalog in one transaction.

    User events recorded while the parts were made (after ``events_seen``) are
    applied again at the end, inside the transaction, so none is lost.
    """
    aliases = []
    for number, result in enumerate(results):
        alias = f"part{number}"
        connection.execute("ATTACH DATABASE ? AS " + alias, (str(result.path),))
        aliases.append(alias)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            written_after = _write_entries(connection, aliases, results, gone, full, summary)
            late = [event for _, event in read_events(connection, events_seen)]
            if late:
                apply_to_catalog(connection, late)
            write_vectors(connection, vectors)
            if clip_work is not None:
                write_clip(connection, clip_work)
            if faces is not None and storage_dir is not None:
                summary.people = update_people(
                    connection, storage_dir, faces, full=full, written_after=written_after
                )
                summary.problems.extend(summary.people.problems)
            elif faces is None:
                forget_people(connection)
            bump_generation(connection)
            connection.executemany(
                "INSERT INTO catalog_info (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [
                    ("built", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                    ("signatures", _signature_format(outputs, objects)),
                    ("index_names", index_names),
                ],
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        for alias in aliases:
            connection.execute(f"DETACH DATABASE {alias}")


def _index_names(sources: Sequence[SourceFiles]) -> str:
    """Source folder → its index's name, for `index:` in queries (JSON)."""
    return json.dumps({s.source: s.index for s in sources if s.index}, sort_keys=True)


def _write_entries(
    connection: sqlite3.Connection,
    aliases: list[str],
    results: list[ShardResult],
    gone: list[str],
    full: bool,
    summary: BuildSummary,
) -> int | None:
    """The parts' entries in place of the old ones (all of them in a full build, where
    fetched entries are kept: no index holds their files), each new one marked as
    updated now; returns the last rowid before them (None after a full build)."""
    fetched: list[tuple[bytes, str]] = []
    before = 0
    if full:
        before = int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])
        fetched = _fetched_entries(connection)
        drop_entry_tables(connection)
        create_entry_tables(connection, indexes=False)
    else:
        summary.removed = len(gone)
        delete_entries(connection, gone + [i for result in results for i in result.changed_ids])
    offset = first = next_rowid(connection) - 1
    for alias, result in zip(aliases, results, strict=True):
        copy_shard(connection, alias, offset)
        offset += result.written
    made = connection.execute("SELECT id FROM entries WHERE rowid > ?", (first,))
    mark_updated(connection, [media_id for (media_id,) in made.fetchall()], now_text())
    keep: list[tuple[bytes, str]] = []
    if fetched:
        made_ids = {media_id for (media_id,) in connection.execute("SELECT id FROM entries")}
        keep = [(doc, sig) for doc, sig in fetched if decode_doc(doc).id not in made_ids]
    if keep:
        docs, signatures = [doc for doc, _ in keep], [sig for _, sig in keep]
        insert_docs(connection, docs, signatures, next_rowid(connection))
    if full or gone:
        forget_updated(connection)
    if full:
        create_entry_indexes(connection)
        summary.removed = max(0, before - summary.added - len(keep))
    return None if full else first


def sources_from_config(config: Config) -> list[SourceFiles]:
    """Each source's index (offline sources too: their index stands for them)."""
    sources: list[SourceFiles] = []
    for source in config.sources:
        if not source.index_path.is_file():
            log.warning("source %s has no index yet (run `homegallery index`)", source.dir)
            continue
        sources.append(SourceFiles(source.dir, load_index(source.index_path), source.index_name))
    return sources


def outputs_from_config(config: Config) -> ModelOutputs | None:
    """The embedding model the config names (installed or not), with its label threshold."""
    models = config.extractor.models
    spec = task_model("embeddings", models.choices)
    if spec is None:
        return None
    return ModelOutputs(spec.folder_name, models.label_threshold)


def faces_from_config(config: Config) -> FaceOutputs | None:
    """The face models the config names (installed or not), with the person threshold."""
    models = config.extractor.models
    detector = task_model("face-detection", models.choices)
    recogniser = task_model("face-recognition", models.choices)
    if detector is None or recogniser is None:
        return None
    return FaceOutputs(
        faces_models_tag(detector.folder_name, recogniser.folder_name), models.person_threshold
    )


def objects_from_config(config: Config) -> ObjectOutputs | None:
    """The object detector the config names (installed or not), with the score kept."""
    models = config.extractor.models
    spec = task_model("objects", models.choices)
    if spec is None:
        return None
    return ObjectOutputs(spec.folder_name, models.object_score)


def clip_from_config(config: Config) -> str | None:
    """The tag of the CLIP model the config names (None: none); ``KEEP`` when its image
    model file cannot be read now (the vectors in the catalog stay)."""
    clip = config.extractor.models.clip
    if not clip.enabled:
        return None
    try:
        return clip_model_tag(Path(clip.image))
    except ClipModelError as error:
        log.warning("catalog: %s; the CLIP vectors stay as they are", error)
        return KEEP


def build_from_config(config: Config, *, full: bool = False) -> BuildSummary:
    """The build for a config: its sources' indexes, its storage, its catalog file."""
    return build_catalog(
        config.database.path,
        config.storage.path,
        sources_from_config(config),
        full=full,
        outputs=outputs_from_config(config),
        faces=faces_from_config(config),
        objects=objects_from_config(config),
        clip=clip_from_config(config),
    )
