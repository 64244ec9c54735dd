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


PET_AND_FRIEND = (  # digiKam's regions: a named face elsewhere in the photo and a pet
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" '
    'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
    'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">'
    '<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>'
    '<rdf:li><rdf:Description mwg-rs:Name="Friend" mwg-rs:Type="Face">'
    '<mwg-rs:Area stArea:x="0.9" stArea:y="0.9" stArea:w="0.05" stArea:h="0.05" '
    'stArea:unit="normalized"/></rdf:Description></rdf:li>'
    '<rdf:li><rdf:Description mwg-rs:Name="Rex" mwg-rs:Type="Pet">'
    '<mwg-rs:Area stArea:x="0.1" stArea:y="0.9" stArea:w="0.1" stArea:h="0.1" '
    'stArea:unit="normalized"/></rdf:Description></rdf:li>'
    "</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>\n"
    '<?xpacket end="w"?>\n'
)


def test_named_faces_go_into_mwg_regions_and_come_back_on_import(
    tmp_path: Path, face_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person a user named is written as a face region on every photo of theirs, on
    the picture as stored (a photo turned by its EXIF orientation included); other
    programs' regions stay; a fresh gallery from the same files knows the name."""
    from PIL import Image

    from face_photos import astronaut

    source = tmp_path / "photos"
    source.mkdir()
    with Image.open(astronaut()) as image:
        upright = image.convert("RGB")
    upright.save(source / "astronaut.jpg", quality=92)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise: stored turned the other way
    upright.transpose(Image.Transpose.ROTATE_90).save(
        source / "astronaut-turned.jpg", quality=92, exif=exif.tobytes()
    )
    (source / "astronaut.xmp").write_text(PET_AND_FRIEND, encoding="utf-8")

    def gallery_at(folder: Path) -> Path:
        config_file = folder / "gallery.yml"
        config_file.write_text(
            f"sources: [{{dir: {source}}}]\n"
            "database: {file: data/catalog.db}\nstorage: {dir: data/storage}\n"
            "extractor: {workers: 1, geoReverse: {provider: off},"
            f" models: {{dir: {face_model_dir}, embeddings: off}}}}\n"
        )
        import_update(load_config(config_file), ImportOptions(workers=1, quiet=True))
        return config_file

    config_file = gallery_at(tmp_path)
    with open_gallery(load_config(config_file)) as gallery:
        astronaut_person = next(p for p in gallery.people() if p.count == 2)
        gallery.name_person(astronaut_person.key, "Eileen Collins")
        boxes = {entry.files[0].path: gallery.faces(entry.id)[0].box for entry in gallery}
    assert export(config_file, "--diff") == 0
    output = capsys.readouterr().out
    assert "astronaut.xmp: +face:Eileen Collins" in output
    assert "astronaut-turned.jpg.xmp: +face:Eileen Collins" in output

    kept = xmp(source / "astronaut.xmp")
    names = {value for key, value in kept.items() if key.endswith("/mwg-rs:Name")}
    assert names == {"Friend", "Rex", "Eileen Collins"}
    turned = xmp(source / "astronaut-turned.jpg.xmp")
    prefix = "Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/mwg-rs:"
    assert turned[prefix + "Name"] == "Eileen Collins"
    # On the stored (unturned) picture, the face's centre is turned back from the shown one.
    left, top, width, height = boxes["astronaut-turned.jpg"]
    assert abs(float(str(turned[prefix + "Area/stArea:x"])) - (top + height / 2)) < 1e-3
    assert abs(float(str(turned[prefix + "Area/stArea:y"])) - (1 - left - width / 2)) < 1e-3
    assert turned["Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions/stDim:w"] == str(upright.height)

    assert export(config_file) == 0  # nothing new to write
    assert "0 new and 0 updated sidecars, 2 already up to date" in capsys.readouterr().out

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with open_gallery(load_config(gallery_at(fresh))) as gallery:
        assert {p.name for p in gallery.people()} >= {"Eileen Collins"}
        assert gallery.person("Eileen Collins").count == 2
