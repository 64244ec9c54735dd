"""A model of what HomeGallery stores for a set of photos, to weigh our storage against.

HomeGallery (Node.js, sharp, exiftool-vendored and its API server with TensorFlow.js)
does not run here, so its storage is modelled from what its source says it writes per
photo (``<c[0:2]>/<c[2:4]>/<c[4:]>-<suffix>``, one file per suffix):

- ``image-preview-<size>.jpg``: sizes 1920, 1280, 800, 320 and 128 up to the photo's
  own longest side, each made from the one before it (the 1280 preview from the 1920
  JPEG, and so on), by sharp with ``{quality: 80, progressive: true, optimiseCoding:
  true, mozjpeg: true}``: mozjpeg's trellis quantisation, overshoot deringing,
  optimised scans and quantisation table 3. libvips (which sharp is built on, and whose
  wheel here carries mozjpeg) encodes them with exactly these options.
- ``exif.json``: every tag ``exiftool -json -struct -fast`` reads (exiftool-vendored's
  way; GPS position, altitude and orientation as numbers, ``-TAG#``), written back compact as ``JSON.stringify``
  does. exiftool-vendored turns each date into an object of its parts, which is longer
  than exiftool's text: the model keeps the text, so it errs on HomeGallery's side.
- ``geo-reverse.json`` (photos with a position): Nominatim's reverse answer, its
  documented fields with this photo's place.
- ``similarity-embeddings.json``: 1024 float32 values (MobileNet v1) as JavaScript
  prints them (the shortest text that reads back the same double: float32 values
  widened to doubles take 16-19 characters).
- ``objects.json``: COCO-SSD's boxes (one object per photo assumed).
- ``faces.json``: face-api.js per face: box and score, 68 landmarks, 7 expressions,
  age, gender and a 128-value descriptor; as many faces as our faces step found.
- ``vibrant.json``: node-vibrant's six swatches.

Each file takes whole 4 KiB blocks on ext4. The figures are a model, not a run of
HomeGallery: the previews are what its encoder settings make of the same photos; the
JSON files have its documented shapes with realistic values.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from homegallery.bench.quality import decoded_original, preview_ssim

BLOCK = 4096
SIZES = (1920, 1280, 800, 320, 128)
QUALITY = 80
# sharp's ``jpeg({progressive, optimiseCoding, mozjpeg: true})`` as libvips options
SHARP_MOZJPEG: dict[str, object] = {
    "interlace": True,
    "optimize_coding": True,
    "trellis_quant": True,
    "overshoot_deringing": True,
    "optimize_scans": True,
    "quant_table": 3,
}
EXIFTOOL_ARGS = ("-json", "-struct", "-fast")
# Tags exiftool-vendored reads as numbers (exiftool's ``-TAG#``); asked for apart, as
# ``-all`` beside them would print them as text again.
NUMERIC_TAGS = ("GPSLatitude", "GPSLongitude", "GPSAltitude", "Orientation")
EMBEDDING_VALUES = 1024
OBJECTS_PER_PHOTO = 1


def blocks(size: int, block: int = BLOCK) -> int:
    """Bytes a file of ``size`` bytes takes on disk in whole blocks."""
    return math.ceil(size / block) * block


@dataclass
class Tally:
    """Files, bytes and bytes on disk (whole blocks) of one kind."""

    files: int = 0
    bytes: int = 0
    on_disk: int = 0

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        self.on_disk += blocks(size)


@dataclass
class PreviewQuality:
    """Pixel-weighted SSIM sums of previews (luma and YCbCr)."""

    luma: float = 0.0
    combined: float = 0.0
    pixels: int = 0

    def add(self, luma: float, combined: float, pixels: int) -> None:
        self.luma += luma * pixels
        self.combined += combined * pixels
        self.pixels += pixels

    @property
    def ssim(self) -> tuple[float, float]:
        return (self.luma / self.pixels, self.combined / self.pixels) if self.pixels else (0, 0)


@dataclass
class Model:
    kinds: dict[str, Tally] = field(default_factory=dict)
    quality: PreviewQuality = field(default_factory=PreviewQuality)

    def add(self, kind: str, size: int) -> None:
        self.kinds.setdefault(kind, Tally()).add(size)

    @property
    def total(self) -> Tally:
        total = Tally()
        for tally in self.kinds.values():
            total.files += tally.files
            total.bytes += tally.bytes
            total.on_disk += tally.on_disk
        return total


def chained_previews(
    path: Path, quality: int = QUALITY, sizes: Sequence[int] = SIZES
) -> list[tuple[int, bytes]]:
    """HomeGallery's previews of one photo: each size from the JPEG of the size above."""
    import pyvips

    header = pyvips.Image.new_from_file(str(path))
    longest = max(header.width, header.height)
    wanted = [size for size in sizes if size <= longest]
    options = {"Q": quality, "keep": 0, **SHARP_MOZJPEG}
    results: list[tuple[int, bytes]] = []
    source: bytes | None = None
    for size in wanted:
        if source is None:
            image = pyvips.Image.thumbnail(str(path), size, height=size)
        else:
            image = pyvips.Image.thumbnail_buffer(source, size, height=size)
        data: bytes = image.jpegsave_buffer(**options)
        results.append((size, data))
        source = data
    return results


def exif_json(paths: Sequence[Path]) -> dict[Path, dict[str, Any]]:
    """Every tag exiftool reads from each photo, as HomeGallery asks for them."""
    if not paths:
        return {}

    def run(*args: str) -> dict[str, dict[str, Any]]:
        done = subprocess.run(
            ["exiftool", *EXIFTOOL_ARGS, *args, *(str(path) for path in paths)],
            capture_output=True,
            check=False,
        )
        return {answer.get("SourceFile"): answer for answer in json.loads(done.stdout or b"[]")}

    tags = run()
    numbers = run(*(f"-{tag}#" for tag in NUMERIC_TAGS))
    for name, answer in tags.items():
        answer.update(numbers.get(name, {}))
    return {path: tags.get(str(path), {}) for path in paths}


def compact(value: object) -> bytes:
    """``JSON.stringify`` of a value: no spaces, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def js_floats(values: Iterable[float]) -> list[float]:
    """float32 values widened to doubles, as JavaScript prints a ``Float32Array``'s items."""
    return [float(value) for value in np.asarray(list(values), dtype=np.float32)]


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def geo_reverse(latitude: float, longitude: float, place: dict[str, str]) -> dict[str, Any]:
    """Nominatim's reverse answer (``format=json&addressdetails=1``) for a position."""
    address = {
        "road": place.get("road", "Via di Santa Maria"),
        "village": place.get("city", "San Gimignano"),
        "county": place.get("county", "Siena"),
        "state": place.get("state", "Toscana"),
        "ISO3166-2-lvl4": "IT-52",
        "postcode": "53037",
        "country": place.get("country", "Italia"),
        "country_code": place.get("country_code", "it").lower(),
    }
    return {
        "place_id": 129512345,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright",
        "osm_type": "way",
        "osm_id": 167891234,
        "lat": f"{latitude:.7f}",
        "lon": f"{longitude:.7f}",
        "display_name": ", ".join(address[key] for key in address if key != "ISO3166-2-lvl4"),
        "address": address,
        "boundingbox": [
            f"{latitude - 0.0004:.7f}",
            f"{latitude + 0.0004:.7f}",
            f"{longitude - 0.0007:.7f}",
            f"{longitude + 0.0007:.7f}",
        ],
    }


def _embedding_values(vector: np.ndarray[Any, Any] | None, seed: int) -> list[float]:
    """1024 non-negative activations: our model's vector for the photo where there is
    one (scaled to MobileNet's range, its zeros kept), else drawn at random."""
    if vector is not None and vector.size >= EMBEDDING_VALUES:
        values = np.asarray(vector[:EMBEDDING_VALUES], dtype=np.float64)
        values = np.maximum(values, 0) * 20
    else:
        values = np.random.default_rng(seed).gamma(0.8, 0.4, EMBEDDING_VALUES)
    return js_floats(values)


def similarity_embeddings(sha1: str, values: list[float]) -> dict[str, Any]:
    return {"srcSha1sum": sha1, "model": "mobilenet", "version": "v1", "data": values}


def objects(sha1: str, count: int, width: int, height: int) -> dict[str, Any]:
    found = [
        {
            "bbox": js_floats([width * 0.21, height * 0.33, width * 0.4, height * 0.51]),
            "class": "person",
            "score": js_floats([0.8731])[0],
        }
        for _ in range(count)
    ]
    return {"srcSha1sum": sha1, "model": "cocossd", "version": "v2", "width": width,
            "height": height, "data": found}  # fmt: skip


def _face(rng: np.random.Generator, width: int, height: int) -> dict[str, Any]:
    box = js_floats([width * 0.4, height * 0.3, width * 0.12, height * 0.16])
    points = js_floats(rng.uniform(0, min(width, height), 136))
    expressions = js_floats(rng.dirichlet(np.ones(7)))
    names = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
    return {
        "alignedRect": {
            "_imageDims": {"_width": width, "_height": height},
            "_score": js_floats([rng.uniform(0.6, 1)])[0],
            "_classScore": js_floats([rng.uniform(0.6, 1)])[0],
            "_className": "",
            "_box": dict(zip(("_x", "_y", "_width", "_height"), box, strict=True)),
        },
        "landmarks": {
            "_imgDims": {"_width": width, "_height": height},
            "_shift": {"_x": box[0], "_y": box[1]},
            "_positions": [
                {"_x": points[2 * n], "_y": points[2 * n + 1]} for n in range(len(points) // 2)
            ],
        },
        "expressions": dict(zip(names, expressions, strict=True)),
        "age": js_floats([rng.uniform(5, 80)])[0],
        "gender": "female",
        "genderProbability": js_floats([rng.uniform(0.5, 1)])[0],
        "descriptor": js_floats(rng.normal(0, 0.09, 128)),
    }


def faces(sha1: str, count: int, width: int, height: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "srcSha1sum": sha1,
        "model": "face-api",
        "data": [_face(rng, width, height) for _ in range(count)],
    }


def vibrant(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    names = ("Vibrant", "Muted", "DarkVibrant", "DarkMuted", "LightVibrant", "LightMuted")
    return {
        name: {"rgb": [int(v) for v in rng.integers(0, 256, 3)], "population": int(rng.integers(0, 4000))}
        for name in names
    }  # fmt: skip


@dataclass(frozen=True)
class OurSide:
    """What our extract stored for one photo, where the model borrows realistic values."""

    embedding: np.ndarray[Any, Any] | None = None
    faces: int = 0
    place: dict[str, str] = field(default_factory=dict)


def model_photos(
    paths: Sequence[Path],
    ours: dict[Path, OurSide] | None = None,
    quality: int = QUALITY,
    with_ssim: bool = True,
) -> Model:
    """HomeGallery's storage for ``paths`` (photos), per kind, in bytes and blocks."""
    model = Model()
    tags = exif_json(paths)
    for number, path in enumerate(paths):
        side = (ours or {}).get(path, OurSide())
        previews = chained_previews(path, quality)
        original = decoded_original(path) if with_ssim else None
        for size, data in previews:
            model.add(f"previews {size} px", len(data))
            if original is not None:
                model.quality.add(*preview_ssim(original, data))
        exif = tags.get(path, {})
        model.add("exif.json", len(compact(exif)))
        sha1 = _sha1(path)
        width = int(exif.get("ImageWidth") or 0)
        height = int(exif.get("ImageHeight") or 0)
        latitude, longitude = exif.get("GPSLatitude"), exif.get("GPSLongitude")
        if isinstance(latitude, int | float) and isinstance(longitude, int | float):
            model.add(
                "geo-reverse.json", len(compact(geo_reverse(latitude, longitude, side.place)))
            )
        values = _embedding_values(side.embedding, number)
        model.add("similarity-embeddings.json", len(compact(similarity_embeddings(sha1, values))))
        model.add("objects.json", len(compact(objects(sha1, OBJECTS_PER_PHOTO, width, height))))
        model.add("faces.json", len(compact(faces(sha1, side.faces, width, height, number))))
        model.add("vibrant.json", len(compact(vibrant(number))))
    return model
