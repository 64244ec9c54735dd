"""Metadata of generated and real photos, XMP (embedded and sidecars) and videos."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pyexiv2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from homegallery.extract.meta import MetaError, Sidecar, read_image_meta, read_meta
from homegallery.extract.schema import MediaMeta
from homegallery.samples import write_sample_photo
from media_fixtures import (
    Shot,
    write_broken_exif_jpeg,
    write_heif,
    write_heif_with_extent_offsets,
    write_jpeg,
    write_jpeg_with_unreadable_ifd0,
    write_mpo,
    write_png_exif_after_data,
    xmp_packet,
)

PARIS = Shot(datetime(2023, 7, 14, 18, 30), "+02:00", (48.8566, 2.3522), orientation=6)

SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="{rating}">
   <dc:subject><rdf:Bag><rdf:li>alps</rdf:li><rdf:li>snow</rdf:li></rdf:Bag></dc:subject>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">From the sidecar</rdf:li></rdf:Alt></dc:title>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *arguments], check=True)


def test_generated_photo(tmp_path: Path) -> None:
    photo = write_sample_photo(
        tmp_path / "a.jpg",
        400,
        300,
        seed=4,
        taken=datetime(2018, 1, 10, 11, 39, 53),
        gps=(43.7696, 11.2558),
        orientation=6,
    )
    meta = read_image_meta(photo.path)
    assert meta.type == "image" and meta.format == "jpeg" and meta.mime == "image/jpeg"
    # stored sideways: shown 300 wide and 400 high
    assert (meta.width, meta.height, meta.orientation) == (300, 400, 6)
    assert meta.date == "2018-01-10T11:39:53+01:00" and meta.date_source == "exif"
    assert (meta.make, meta.model) == (photo.make, photo.model)
    assert meta.latitude == pytest.approx(43.7696, abs=1e-4)
    assert meta.longitude == pytest.approx(11.2558, abs=1e-4)


def test_embedded_xmp_and_sidecar_that_wins(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "b.jpg", 200, 100, seed=5)
    with pyexiv2.Image(str(photo.path)) as image:
        image.modify_xmp(
            {
                "Xmp.xmp.Rating": "2",
                "Xmp.dc.subject": ["sea"],
                "Xmp.dc.description": {'lang="x-default"': "Embedded words"},
            }
        )
    embedded = read_image_meta(photo.path)
    assert embedded.rating == 2 and embedded.keywords == ["sea"]
    assert embedded.description == "Embedded words"

    sidecar = tmp_path / "b.xmp"
    sidecar.write_text(SIDECAR.format(rating=5), encoding="utf-8")
    merged = read_image_meta(photo.path, sidecars=[Sidecar(sidecar, "c" * 64)])
    assert merged.rating == 5
    assert merged.title == "From the sidecar"
    assert merged.keywords == ["alps", "snow"]
    assert merged.description == "Embedded words"  # the sidecar does not say otherwise
    assert merged.sidecar_ids == ["c" * 64]


def test_broken_sidecar_is_a_clear_error(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "c.jpg", 200, 100, seed=6)
    sidecar = tmp_path / "c.xmp"
    sidecar.write_text("<x:xmpmeta><rdf:RDF>", encoding="utf-8")
    with pytest.raises(MetaError, match="sidecar") as caught:
        read_image_meta(photo.path, sidecars=[Sidecar(sidecar, "d" * 64)])
    assert str(sidecar) in str(caught.value)


def test_date_falls_back_to_file_name_then_file_time(tmp_path: Path) -> None:
    named = tmp_path / "IMG_20180110_113953.png"
    Image.new("RGB", (64, 48), "teal").save(named)
    meta = read_image_meta(named, mtime_ns=named.stat().st_mtime_ns)
    assert (meta.date, meta.date_source) == ("2018-01-10T11:39:53", "filename")
    assert meta.format == "png" and (meta.width, meta.height) == (64, 48)

    unnamed = tmp_path / "picture.png"
    Image.new("RGB", (64, 48), "teal").save(unnamed)
    meta = read_image_meta(unnamed, mtime_ns=1_500_000_000 * 10**9)
    assert meta.date_source == "file"
    assert meta.date is not None
    assert datetime.fromisoformat(meta.date).timestamp() == 1_500_000_000


def test_not_an_image(tmp_path: Path) -> None:
    junk = tmp_path / "notes.jpg"
    junk.write_text("this is not a picture")
    with pytest.raises(MetaError) as caught:
        read_image_meta(junk)
    assert str(junk) in str(caught.value)


def test_video_with_creation_time_location_and_rotation(tmp_path: Path) -> None:
    plain = tmp_path / "plain.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-metadata", "creation_time=2019-05-04T10:30:00Z",
        "-metadata", "location=+43.7696+011.2558/",
        str(plain),
    )  # fmt: skip
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))

    meta = read_meta(plain, "video")
    assert meta.type == "video" and meta.mime == "video/mp4"
    assert (meta.width, meta.height) == (320, 240)
    assert meta.date == "2019-05-04T10:30:00+00:00" and meta.date_source == "video"
    assert (meta.latitude, meta.longitude) == (43.7696, 11.2558)
    assert meta.duration == pytest.approx(1.0, abs=0.1)
    assert (meta.video_codec, meta.audio_codec, meta.frame_rate) == ("h264", "aac", 25.0)

    turned = read_meta(rotated, "video")
    assert (turned.width, turned.height) == (240, 320)
    assert turned.rotation in (90, 270)


def test_phone_video_local_time_and_make(tmp_path: Path) -> None:
    video = tmp_path / "IMG_0001.mov"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=0.5",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-movflags", "use_metadata_tags",
        "-metadata", "com.apple.quicktime.creationdate=2019-05-04T12:30:00+0200",
        "-metadata", "com.apple.quicktime.location.ISO6709=+43.7696+011.2558+050.000/",
        "-metadata", "com.apple.quicktime.make=Apple",
        "-metadata", "com.apple.quicktime.model=iPhone 12",
        str(video),
    )  # fmt: skip
    meta = read_meta(video, "video")
    assert meta.date == "2019-05-04T12:30:00+02:00"
    assert (meta.make, meta.model, meta.altitude) == ("Apple", "iPhone 12", 50.0)
    assert meta.audio_codec is None


def test_broken_video(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(MetaError) as caught:
        read_meta(broken, "video")
    assert str(broken) in str(caught.value)


# --- the real camera photos --------------------------------------------------------------------


def test_cameras_get_make_model_and_date(photos_dir: Path) -> None:
    files = sorted((photos_dir / "cameras").glob("*.jpg"))
    metas = {path.name: read_image_meta(path) for path in files}
    without_camera = {name for name, meta in metas.items() if not (meta.make and meta.model)}
    # Files with no EXIF Make at all (exiftool finds none either), and one with the
    # camera only in Canon's pre-EXIF CIFF block, which only exiftool reads.
    assert without_camera <= {
        "Canon_40D_photoshop_import.jpg",
        "PaintTool_sample.jpg",
        "Reconyx_HC500_Hyperfire.jpg",
        "long_description.jpg",
        "olympus-d320l.jpg",
        "sony-powershota5.jpg",
    }
    assert len(files) - len(without_camera) >= 29
    assert metas["Canon_40D.jpg"].model == "Canon EOS 40D"
    assert metas["Canon_40D.jpg"].aperture == pytest.approx(7.1)
    assert metas["Canon_40D.jpg"].exposure_time == pytest.approx(1 / 160)
    assert metas["Nikon_D70.jpg"].date == "2008-03-15T09:52:01-04:00"
    # stock texts of cameras are no descriptions; real ones are kept
    assert metas["Konica_Minolta_DiMAGE_Z3.jpg"].description is None
    assert metas["sanyo-vpcg250.jpg"].description is None
    assert (metas["long_description.jpg"].description or "").startswith("Operation Mountain")
    # exiv2 complains about this maker note; the metadata is still read
    assert metas["Nikon_COOLPIX_P1.jpg"].model == "COOLPIX P1"


def test_gps_photos_are_in_tuscany(photos_dir: Path) -> None:
    for path in sorted((photos_dir / "gps").glob("*.jpg")):
        meta = read_image_meta(path)
        assert meta.latitude is not None and meta.longitude is not None, path
        assert 43.0 < meta.latitude < 44.5 and 10.0 < meta.longitude < 12.5, path
        assert meta.date is not None and meta.date.startswith("2008-10")


def test_heic_and_xmp_photos(photos_dir: Path) -> None:
    heic = read_image_meta(photos_dir / "heic" / "IMG_5195.HEIC")
    assert heic.format == "heif" and heic.make == "Apple"
    assert (heic.width, heic.height) == (2566, 3313)  # decoded size, not the EXIF one
    assert heic.date == "2021-04-11T15:47:53-05:00"

    no_exif = read_image_meta(photos_dir / "xmp" / "no_exif.jpg")
    assert no_exif.date_source == "xmp" and no_exif.title
    blue = read_image_meta(photos_dir / "xmp" / "BlueSquare.jpg")
    assert "Blue Square" in blue.keywords and blue.title == "Blue Square Test File - .jpg"


# --- files as phones and cameras write them ----------------------------------------------------


def assert_paris(meta: MediaMeta) -> None:
    assert meta.date == "2023-07-14T18:30:00+02:00" and meta.date_source == "exif"
    assert (meta.make, meta.model) == ("Apple", "iPhone 15 Pro")
    assert meta.latitude == pytest.approx(48.8566, abs=1e-4)
    assert meta.longitude == pytest.approx(2.3522, abs=1e-4)


def test_ten_bit_hif_and_stereo_mpo(tmp_path: Path) -> None:
    hif = read_image_meta(write_heif(tmp_path / "DSC00001.HIF", PARIS, ten_bit=True))
    assert_paris(hif)
    assert hif.mime == "image/heic" and hif.format == "heif"
    # libheif turns the picture by the container's rotation; it is shown 480 x 640
    assert (hif.width, hif.height, hif.orientation) == (480, 640, 1)

    mpo = read_image_meta(write_mpo(tmp_path / "DSCF0001.MPO", PARIS))
    assert_paris(mpo)
    assert (mpo.width, mpo.height, mpo.orientation) == (480, 640, 6)


def test_heif_metadata_that_exiv2_cannot_find_comes_from_libheif(tmp_path: Path) -> None:
    with_exif = write_heif_with_extent_offsets(tmp_path / "IMG_0001.HEIC", PARIS)
    with pyexiv2.Image(str(with_exif)) as image:
        assert image.read_exif() == {}  # the case: exiv2 reads nothing here
    assert_paris(read_image_meta(with_exif))

    xmp = xmp_packet(datetime(2022, 1, 2, 3, 4, 5), "48,51.396N", "2,21.132E")
    only_xmp = write_heif_with_extent_offsets(
        tmp_path / "IMG_0002.HEIC", Shot(datetime(2022, 1, 2)), xmp
    )
    meta = read_image_meta(only_xmp)
    assert meta.latitude == pytest.approx(48.8566, abs=1e-3)
    assert meta.longitude == pytest.approx(2.3522, abs=1e-3)


def test_real_heif_that_exiv2_cannot_read_keeps_its_orientation_block(photos_dir: Path) -> None:
    meta = read_image_meta(photos_dir / "heic" / "samplefilehub.heif")
    assert (meta.width, meta.height, meta.orientation) == (640, 426, 1)


def test_damaged_exif_segment_keeps_size_and_falls_back_to_the_file_name(tmp_path: Path) -> None:
    broken = write_broken_exif_jpeg(tmp_path / "IMG_20190704_101500.jpg", PARIS)
    with pytest.raises(RuntimeError):
        pyexiv2.Image(str(broken))  # the case: exiv2 refuses the whole file
    meta = read_image_meta(broken, mtime_ns=1_500_000_000 * 10**9)
    assert meta.mime == "image/jpeg" and meta.format == "jpeg"
    assert (meta.width, meta.height) == (640, 480)  # from the decoder
    assert (meta.date, meta.date_source) == ("2019-07-04T10:15:00", "filename")

    unnamed = write_broken_exif_jpeg(tmp_path / "scan.jpg", PARIS)
    assert read_image_meta(unnamed, mtime_ns=1_500_000_000 * 10**9).date_source == "file"


def test_truncated_first_directory_keeps_every_readable_tag(tmp_path: Path) -> None:
    cut = write_jpeg_with_unreadable_ifd0(tmp_path / "cut.jpg", PARIS)
    with pyexiv2.Image(str(cut)) as image:
        assert image.read_exif() == {}  # the case: exiv2 gives up on the directory
    meta = read_image_meta(cut)
    assert_paris(meta)
    assert (meta.width, meta.height, meta.orientation) == (480, 640, 6)


def test_png_exif_chunk_after_the_image_data(tmp_path: Path) -> None:
    png = write_png_exif_after_data(tmp_path / "magick.png", PARIS)
    meta = read_image_meta(png)
    assert (meta.width, meta.height, meta.orientation) == (300, 400, 6)
    assert meta.date == "2023-07-14T18:30:00+02:00"


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=8))
def test_any_damage_to_the_exif_segment_keeps_size_and_date(
    tmp_path: Path, damage: list[tuple[int, int]]
) -> None:
    """Bytes of the EXIF segment overwritten at random: the pixels are whole, so the
    photo always keeps its size and a date (from the EXIF left, else the file time)."""
    clean = tmp_path / "clean.jpg"
    if not clean.exists():  # the same folder serves every example
        write_jpeg(clean, PARIS)
    data = bytearray(clean.read_bytes())
    start = data.index(b"Exif\0\0")
    length = int.from_bytes(data[start - 2 : start], "big") - 2  # the APP1 segment's
    for offset, value in damage:
        data[start + offset % length] = value
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(bytes(data))
    meta = read_image_meta(damaged, mtime_ns=1_500_000_000 * 10**9)
    assert meta.date is not None and (meta.width, meta.height) in ((640, 480), (480, 640))
