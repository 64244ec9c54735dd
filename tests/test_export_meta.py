"""``homegallery export meta``: tags and ratings into XMP sidecars, and back on import.

Real photos, real exiv2 (through pyexiv2) for writing and for reading back, the real
import for the round trip.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyexiv2
import pytest

from homegallery.cli.main import main
from homegallery.config import Config, load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_update

FOREIGN = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:darktable="http://darktable.sf.net/" darktable:history_end="3">'
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Old tower</rdf:li></rdf:Alt></dc:title>'
    "<dc:subject><rdf:Bag><rdf:li>tuscany</rdf:li></rdf:Bag></dc:subject>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
    '<?xpacket end="w"?>\n'
)


def xmp(path: Path) -> dict[str, object]:
    with pyexiv2.Image(str(path)) as image:
        return dict(image.read_xmp())


def originals(folder: Path) -> dict[str, str]:
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() != ".xmp"
    }


def tags_by_path(config: Config) -> dict[str, tuple[list[str], int | None]]:
    with open_gallery(config) as gallery:
        return {
            file.path: (entry.tags, entry.rating) for entry in gallery for file in entry.files
            if file.kind == "image"
        }  # fmt: skip


def export(config_file: Path, *args: str) -> int:
    return main(["export", "meta", "--config", str(config_file), "-q", *args])


@pytest.fixture
def gallery_config(photos_dir: Path, tmp_path: Path) -> Path:
    source = tmp_path / "photos"
    shutil.copytree(photos_dir / "gps", source / "gps")
    (source / "cameras").mkdir()
    (source / "copies").mkdir()
    for name in ("Canon_40D.jpg", "Nikon_D70.jpg", "Pentax_K10D.jpg"):
        shutil.copy(photos_dir / "cameras" / name, source / "cameras" / name)
    shutil.copy(photos_dir / "cameras" / "Pentax_K10D.jpg", source / "copies" / "pentax copy.jpg")
    (source / "gps" / "DSCN0010.xmp").write_text(FOREIGN, encoding="utf-8")  # darktable's
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\n"
        "database: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 1, image: {previewSizes: [128]}, geoReverse: {provider: off},"
        " models: {embeddings: off}}\n"
    )
    config = load_config(config_file)
    import_update(config, ImportOptions(workers=1, quiet=True))
    with open_gallery(config) as gallery:
        (nikon,) = gallery.search_ids("file:Nikon_D70.jpg")
        (tower,) = gallery.search_ids("file:DSCN0010.jpg")
        (pentax,) = gallery.search_ids("file:Pentax_K10D.jpg")
        gallery.tag([nikon], add=["sea", "Summer, 2021", "Ünïcode"])
        gallery.rate([nikon], 4)
        gallery.tag([tower], add=["hike"])
        gallery.tag([pentax], add=["copy"])
    return config_file


def test_sidecars_are_written_and_read_back_by_the_import(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    source = config.sources[0].path
    before_files = originals(source)
    before_tags = tags_by_path(config)
    assert before_tags["gps/DSCN0010.jpg"] == (["tuscany", "hike"], None)

    assert export(gallery_config, "--dry-run", "--diff") == 0
    output = capsys.readouterr().out
    assert "3 changed entries: would write 3 new and 1 updated sidecars" in output
    assert "cameras/Nikon_D70.jpg.xmp: +sea +Summer, 2021 +Ünïcode rating -→4" in output
    assert "gps/DSCN0010.xmp: +hike" in output
    assert not (source / "cameras" / "Nikon_D70.jpg.xmp").exists()

    assert export(gallery_config) == 0
    assert "wrote 3 new and 1 updated sidecars" in capsys.readouterr().out
    nikon = xmp(source / "cameras" / "Nikon_D70.jpg.xmp")
    assert nikon["Xmp.dc.subject"] == ["sea", "Summer, 2021", "Ünïcode"]
    assert nikon["Xmp.xmp.Rating"] == "4"
    tower = xmp(source / "gps" / "DSCN0010.xmp")  # updated, its other fields kept
    assert tower["Xmp.dc.subject"] == ["tuscany", "hike"]
    assert tower["Xmp.dc.title"] == {'lang="x-default"': "Old tower"}
    assert tower["Xmp.darktable.history_end"] == "3"
    for copy in ("cameras/Pentax_K10D.jpg.xmp", "copies/pentax copy.jpg.xmp"):  # one per copy
        assert xmp(source / copy)["Xmp.dc.subject"] == ["copy"]
    assert originals(source) == before_files

    import_update(config, ImportOptions(workers=1, quiet=True))
    assert tags_by_path(config) == before_tags
    assert export(gallery_config) == 0
    assert "0 new and 0 updated sidecars, 4 already up to date" in capsys.readouterr().out


def test_an_edit_by_another_program_is_not_overwritten(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    sidecar = config.sources[0].path / "cameras" / "Nikon_D70.jpg.xmp"
    assert export(gallery_config) == 0
    with pyexiv2.Image(str(sidecar)) as image:  # digiKam adds a keyword
        image.modify_xmp({"Xmp.dc.subject": ["sea", "Summer, 2021", "Ünïcode", "digikam"]})
    edited = sidecar.read_bytes()
    with open_gallery(config) as gallery:
        gallery.tag(gallery.search_ids("file:Nikon_D70.jpg"), add=["boat"])
    capsys.readouterr()
    assert export(gallery_config) == 0
    output = capsys.readouterr().out
    assert "1 edited elsewhere" in output
    assert f"conflict: {sidecar}: changed by another program since the last export" in output
    assert sidecar.read_bytes() == edited

    import_update(config, ImportOptions(workers=1, quiet=True))  # reads digiKam's keyword
    assert export(gallery_config) == 0
    assert "0 edited elsewhere" in capsys.readouterr().out
    assert xmp(sidecar)["Xmp.dc.subject"] == ["sea", "Summer, 2021", "Ünïcode", "digikam", "boat"]


def test_a_mirror_leaves_the_sources_alone(
    gallery_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    source = config.sources[0].path
    before = {str(p): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    mirror = tmp_path / "mirror"
    assert export(gallery_config, "--mirror", str(mirror)) == 0
    assert {str(p): p.read_bytes() for p in source.rglob("*") if p.is_file()} == before
    assert xmp(mirror / "photos" / "cameras" / "Nikon_D70.jpg.xmp")["Xmp.xmp.Rating"] == "4"
    tower = xmp(mirror / "photos" / "gps" / "DSCN0010.xmp")  # a copy of the source's, updated
    assert tower["Xmp.dc.subject"] == ["tuscany", "hike"]
    assert tower["Xmp.dc.title"] == {'lang="x-default"': "Old tower"}


def test_only_what_changed_after_a_date_and_matches_the_query(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(gallery_config, "--changes-after", "2999-01-01", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("0 changed entries")
    assert export(gallery_config, "--query", "make:nikon", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("2 changed entries")
    assert export(gallery_config, "--changes-after", "last week") == 1
    assert "not a date: 'last week'" in capsys.readouterr().err


def test_digikam_and_lightroom_tag_trees_follow(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    sidecar = config.sources[0].path / "gps" / "DSCN0010.xmp"
    with pyexiv2.Image(str(sidecar)) as image:  # digiKam and Lightroom keep a tree too
        image.modify_xmp({
            "Xmp.digiKam.TagsList": ["Places/Italy/tuscany", "People/Anna"],
            "Xmp.lr.hierarchicalSubject": ["Places|Italy|tuscany"],
        })  # fmt: skip
    import_update(config, ImportOptions(workers=1, quiet=True))
    with open_gallery(config) as gallery:
        tower = gallery.search_ids("file:DSCN0010.jpg")
        gallery.tag(tower, remove=["tuscany"])
    assert export(gallery_config) == 0
    written = xmp(sidecar)
    assert written["Xmp.dc.subject"] == ["hike"]
    assert written["Xmp.digiKam.TagsList"] == ["People/Anna", "hike"]
    assert written["Xmp.lr.hierarchicalSubject"] == ["hike"]
