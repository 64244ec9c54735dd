"""Similar search and labels on real photos, with the real model, imported from scratch.

The gallery is a copy of the shared camera photos plus near-copies of five of them (half size,
10% cropped, recompressed at JPEG quality 50, converted to PNG), imported by
``homegallery run import --initial`` as a user would, with EfficientNet-Lite0
installed by ``homegallery models install`` (see the ``embedding_models`` fixture).
Every near-copy must find its original first; photos of one scene must come before
unrelated ones; labels must be search words; and the API and the query language must
give the same neighbours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageOps

from homegallery.config import Config, load_config
from homegallery.gallery import Gallery
from homegallery.samples import shared_photos

ORIGINALS = [
    "gps/DSCN0010.jpg",
    "gps/DSCN0029.jpg",
    "cameras/canon-ixus.jpg",
    "cameras/sony-powershota5.jpg",
    "cameras/Reconyx_HC500_Hyperfire.jpg",
]
COPIES = ("resized", "cropped", "q50", "png")
HOMEGALLERY = [sys.executable, "-m", "homegallery.cli.main"]


def near_copies(original: Path, folder: Path) -> list[Path]:
    """The four near-copies of one photo, upright like the original looks."""
    with Image.open(original) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    width, height = image.size
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for kind in COPIES:
        target = folder / f"{original.stem}-{kind}.{'png' if kind == 'png' else 'jpg'}"
        if kind == "resized":
            image.resize((width // 2, height // 2), Image.Resampling.LANCZOS).save(
                target, quality=90
            )
        elif kind == "cropped":
            box = (width // 20, height // 20, width - width // 20, height - height // 20)
            image.crop(box).save(target, quality=90)
        elif kind == "q50":
            image.save(target, quality=50)
        else:
            image.save(target)
        made.append(target)
    return made


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, embedding_models: Path) -> Iterator[Gallery]:
    photos_dir = shared_photos()
    if photos_dir is None:
        pytest.skip(
            "the shared test photos (../shared/testdata/photos) are not beside this checkout"
        )
    root = tmp_path_factory.mktemp("real-ml")
    source = root / "photos"
    for photo in photos_dir.rglob("*"):
        if photo.is_file() and photo.name != "README.md":
            copy = source / photo.relative_to(photos_dir)  # links out of a source are not read
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(photo, copy)
    for name in ORIGINALS:
        near_copies(photos_dir / name, source / "copies")
    config_file = root / "gallery.yml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "sources": [{"dir": str(source)}],
                "storage": {"dir": str(root / "storage")},
                "database": {"file": str(root / "catalog.db")},
                "extractor": {
                    "video": {"enabled": False},
                    "models": {"dir": str(embedding_models)},
                },
            }
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [*HOMEGALLERY, "-c", str(config_file), "-q", "run", "import", "--initial"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOMEGALLERY_CONFIG": ""},
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "not installed" not in run.stderr
    gallery = Gallery(load_config(config_file))
    yield gallery
    gallery.close()


def entry_id(gallery: Gallery, path: str) -> str:
    found = [e for e in gallery.search(f"file:'{path}'") if e.files[0].path.endswith(path)]
    assert len(found) == 1, path
    return found[0].id


def test_every_near_copy_finds_its_original_first(imported: Gallery) -> None:
    ranks = []
    for name in ORIGINALS:
        original = entry_id(imported, name)
        stem = Path(name).stem
        for kind in COPIES:
            suffix = "png" if kind == "png" else "jpg"
            copy = entry_id(imported, f"copies/{stem}-{kind}.{suffix}")
            found = imported.similar(copy, k=80, min_score=-1.0)
            others = [
                entry.id for entry, _ in found if not entry.files[0].path.startswith("copies/")
            ]
            rank = others.index(original) + 1
            score = dict((entry.id, score) for entry, score in found)[original]
            ranks.append((f"{stem}-{kind}", rank, round(score, 3)))
    print("\nnear-copy → rank of its original among the other photos, cosine:")
    for line in ranks:
        print("  ", *line)
    assert all(rank == 1 for _, rank, _ in ranks), ranks
    assert all(score >= 0.85 for _, _, score in ranks), ranks


def test_photos_of_one_scene_come_before_unrelated_ones(imported: Gallery) -> None:
    # orientation/landscape_1..8: one scene, stored turned and mirrored in eight ways
    query = entry_id(imported, "orientation/landscape_1.jpg")
    found = [entry.files[0].path for entry, _ in imported.similar(query, k=200, min_score=-1.0)]
    scene = [path for path in found if path.startswith("orientation/landscape_")]
    assert len(scene) == 7
    assert found[:7] == scene, found[:10]


def test_the_query_language_ranks_like_gallery_similar(imported: Gallery) -> None:
    copy = entry_id(imported, "copies/DSCN0029-q50.jpg")
    original = entry_id(imported, "gps/DSCN0029.jpg")
    ranked = imported.search_ids(f"similar:{copy}")
    assert ranked[:2] == [copy, original]
    by_order = imported.search_ids(f"similar:{copy[:10]} type:image order by similar")
    assert by_order[:2] == [copy, original]
    nearest = [entry.id for entry, _ in imported.similar(copy, k=5)]
    assert ranked[1 : 1 + len(nearest)] == nearest
    assert imported.count("exists similar") >= 70


def test_labels_are_search_words(imported: Gallery) -> None:
    def paths(query: str) -> set[str]:
        return {entry.files[0].path for entry in imported.search(query)}

    assert "cameras/fujifilm-mx1700.jpg" in paths("label:starfish")
    assert "cameras/Kodak_CX7530.jpg" in paths("label:lizard")
    animals = paths("animal")
    assert {"cameras/fujifilm-mx1700.jpg", "cameras/Kodak_CX7530.jpg"} <= animals
    pumpkins = paths("label:lantern")
    assert "cameras/sony-powershota5.jpg" in pumpkins
    assert {f"copies/sony-powershota5-{kind}.jpg" for kind in ("resized", "q50")} <= pumpkins
    assert "gps/DSCN0040.jpg" in paths("label:monastery")
    entry = imported.entry(entry_id(imported, "cameras/sony-powershota5.jpg"))
    assert entry is not None and entry.labels[0].name == "jack-o'-lantern"
    assert entry.labels[0].score > 0.9


def test_the_api_gives_the_same_neighbours(imported: Gallery) -> None:
    from homegallery.server import create_app
    from homegallery.server.runner import running

    config: Config = imported.config
    copy = entry_id(imported, "copies/sony-powershota5-cropped.jpg")
    original = entry_id(imported, "cameras/sony-powershota5.jpg")
    with running(create_app(config, poll_seconds=0.2)) as url:
        with urllib.request.urlopen(f"{url}/api/entries/{copy}/similar?limit=5") as response:
            similar = json.load(response)
        query = urllib.parse.quote(f"similar:{copy} order by similar")
        with urllib.request.urlopen(f"{url}/api/entries?q={query}&limit=3") as response:
            page = json.load(response)
    assert similar[0]["id"] == original
    assert [item["id"] for item in page["entries"]][:2] == [copy, original]
    assert similar[0]["labels"][0]["name"] == "jack-o'-lantern"


def test_duplicates_groups_each_photo_with_its_near_copies(imported: Gallery) -> None:
    groups = [[entry.files[0].path for entry in group] for group in imported.duplicates(0.85)]
    print("\nnear-duplicate groups at cosine 0.85:")
    for group in groups:
        print("  ", group)
    for name in ORIGINALS:
        stem = Path(name).stem
        (group,) = [group for group in groups if name in group]
        copies = {f"copies/{stem}-{kind}.{'png' if kind == 'png' else 'jpg'}" for kind in COPIES}
        assert set(group) == {name} | copies, group
    (scene,) = [group for group in groups if "orientation/landscape_1.jpg" in group]
    assert {f"orientation/landscape_{n}.jpg" for n in range(1, 9)} <= set(scene)
    # two shots of one building (cosine 0.74) are alike, not duplicates
    assert not any("gps/DSCN0025.jpg" in group and "gps/DSCN0029.jpg" in group for group in groups)
    listed = imported.search_ids("duplicates:0.85")
    assert listed == [
        imported.search_ids(f"file:'{path}'")[0] for group in groups for path in group
    ]
