"""Grouping faces into people: 100k generated faces in the core, all at once and added later.

The faces are generated as SFace's look on real photos: each identity a random
direction in 128 dimensions, each of its faces that direction plus noise such that
two faces of one identity have a cosine of about 0.5 (SFace's same-person pairs
spread around that; its operating point is 0.363) and faces of different identities
about 0 ± 0.09. A gallery has a few people in many photos and many people once:
identities get faces by a Zipf-like law, and 5% of the faces are strangers seen once.
Photos hold one to four faces of different identities.

Figures: seconds to group every face (one core, all cores; target < 30 s for 100k),
seconds to add 1,000 new faces to the people of the others (target < 2 s), and how
good the grouping is: the share of faces in a person whose other faces are mostly
their own identity (purity), and the share of an identity's faces in its largest
person (completeness).

    .venv/bin/python benches/bench_people.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from homegallery import _core
from homegallery.bench.report import Figure, Report, print_report

DIMS = 128
THRESHOLD = 0.363
SAME_PERSON_COSINE = 0.5
STRANGERS = 0.05
ADDED = 1_000


@dataclass
class Generated:
    descriptors: npt.NDArray[np.float32]
    identities: npt.NDArray[np.int64]
    photos: npt.NDArray[np.uint64]


def generate(faces: int, identities: int, seed: int = 7) -> Generated:
    rng = np.random.default_rng(seed)
    strangers = int(faces * STRANGERS)
    known = faces - strangers
    weights = 1.0 / np.arange(1, identities + 1) ** 0.8
    owner = rng.choice(identities, size=known, p=weights / weights.sum())
    owner = np.concatenate([owner, identities + np.arange(strangers)])
    rng.shuffle(owner)
    centres = rng.standard_normal((identities + strangers, DIMS))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    # centre + noise of length s: cosine to the centre c = 1/sqrt(1+s²), of two faces c².
    spread = np.sqrt(1 / SAME_PERSON_COSINE - 1)
    noise = rng.standard_normal((faces, DIMS)) * (spread / np.sqrt(DIMS))
    rows = centres[owner] + noise
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    photos = np.zeros(faces, np.uint64)
    photo, start = 0, 0
    while start < faces:
        size = int(rng.integers(1, 5))
        photos[start : start + size] = photo
        photo += 1
        start += size
    return Generated(rows.astype(np.float32), owner.astype(np.int64), photos)


def group(
    data: Generated, part: slice, sums: npt.NDArray[np.float32], counts: npt.NDArray[np.uint64],
    threads: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.uint64]]:  # fmt: skip
    descriptors = np.ascontiguousarray(data.descriptors[part])
    faces = len(descriptors)
    person, new_sums, new_counts = _core.group_people(
        descriptors,
        np.ascontiguousarray(data.photos[part]),
        np.full(faces, -1, np.int64),
        np.zeros(faces, np.bool_),
        [],
        sums,
        counts,
        [],
        THRESHOLD,
        threads,
    )
    return person, new_sums, new_counts.astype(np.uint64)


def quality(person: npt.NDArray[np.int64], identity: npt.NDArray[np.int64]) -> tuple[float, float]:
    """(purity, completeness) of a grouping against the true identities."""
    by_person: dict[int, Counter[int]] = {}
    by_identity: dict[int, Counter[int]] = {}
    for p, i in zip(person.tolist(), identity.tolist(), strict=True):
        by_person.setdefault(p, Counter())[i] += 1
        by_identity.setdefault(i, Counter())[p] += 1
    pure = sum(counter.most_common(1)[0][1] for counter in by_person.values())
    complete = sum(counter.most_common(1)[0][1] for counter in by_identity.values())
    return pure / len(person), complete / len(person)


def bench(report: Report, faces: int, identities: int) -> None:
    data = generate(faces, identities)
    size = f"{faces:,} faces, {identities:,} people + {int(faces * STRANGERS):,} strangers"
    empty = np.zeros((0, DIMS), np.float32), np.zeros(0, np.uint64)
    cores = os.cpu_count() or 1
    for threads, label in ((1, "1 core"), (0, f"{cores} cores")):
        started = time.perf_counter()
        person, _, counts = group(data, slice(None), *empty, threads)
        seconds = time.perf_counter() - started
        report.add(
            Figure(size, f"group all, {label}", seconds, "s", higher_is_better=False,
                   target="< 30 s" if faces >= 100_000 else "")
        )  # fmt: skip
    purity, completeness = quality(person, data.identities)
    report.add(Figure(size, "people found", float(len(counts)), ""))
    report.add(Figure(size, "purity (faces among their own)", purity * 100, "%"))
    report.add(Figure(size, "completeness (in their largest person)", completeness * 100, "%"))
    kept = faces - ADDED
    _, sums, counts = group(data, slice(0, kept), *empty, 0)
    started = time.perf_counter()
    group(data, slice(kept, None), sums, counts, 0)
    seconds = time.perf_counter() - started
    report.add(
        Figure(size, f"add {ADDED:,} faces to the people of the rest", seconds, "s",
               higher_is_better=False, target="< 2 s")
    )  # fmt: skip


def run(quick: bool) -> Report:
    report = Report("people")
    if quick:
        bench(report, 10_000, 300)
    else:
        bench(report, 100_000, 2_000)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10k faces instead of 100k")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick), args.json)
    return 0
