"""What the extractors store per media id, and how other stages read it back.

These structs are the contract between extract (the writer) and the catalog build
(the reader): both import them from here, so a field added on one side is seen on the
other. Every stored file is JSON encoded by msgspec; unknown fields are ignored on
reading so that an older build can read a newer storage (new fields are additive),
and ``schema`` counts incompatible changes so a reader can tell an outdated file.

Storage kinds (``Storage.path(media_id, kind)``; named in
:data:`homegallery.storage.KINDS`, which the Rust core defines):

- ``meta.json``: :class:`MediaMeta`
- ``place.json``: :class:`Place`
- ``image-preview-<size>.jpg``: previews, longest side ``size`` (see :func:`preview_kind`)
- ``video-preview-<size>.mp4``: web video, height ``size`` (default 720)
- ``video-frame-1.jpg``: poster frame of a video, full preview size
- ``embedding-<model>-<version>.npy``: the image embedding (float32, L2-normalised)
- ``labels-<model>-<version>.json``: :class:`Labels`, the model's most probable classes
- ``faces-<detector>-<recogniser>.json``: :class:`Faces`, every face found in an image
- ``objects-<model>-<version>.json``: :class:`Objects`, the COCO objects found in an image
- ``failed-<step>.json``: :class:`Failure`, one per step that failed for the id

The JSON and ``.npy`` kinds are kept together in the id's record (``record.bin``, see
:mod:`homegallery.storage`), each with the bytes its file would have; read and write
them through ``Storage`` (``get``, ``write``, ``exists``, ``delete``), never by path.

The embedding and label kinds carry the model's name and version, so a new model (or
a new version of one) finds its files missing and embeds again, while the old files
stay readable until they are removed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:  # numpy is imported where embeddings are read: the structs load without it
    import numpy as np
    import numpy.typing as npt

from homegallery.extract.steps import Step
from homegallery.storage import KINDS, Storage
from homegallery.storage import StoredFileError as StoredFileError  # re-exported

META_SCHEMA = 1
PLACE_SCHEMA = 1
LABELS_SCHEMA = 1
FACES_SCHEMA = 1
OBJECTS_SCHEMA = 1

META_KIND = KINDS["meta"]
PLACE_KIND = KINDS["place"]
POSTER_KIND = KINDS["video_frame"].format(1)

MediaType = Literal["image", "rawImage", "video"]
# Where the date came from, best first: the capture time in EXIF, XMP or the video
# container, a date written in the file name, or (last resort) the file's mtime.
DateSource = Literal["exif", "xmp", "video", "filename", "file"]
PlaceSource = Literal["offline", "nominatim"]


class FaceRegion(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A face someone named in another program (MWG regions in XMP): who and where.

    The box is relative to the picture as displayed (left, top, width, height).
    """

    name: str
    x: float
    y: float
    width: float
    height: float


class MediaMeta(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Metadata of one media file, merged from embedded EXIF/XMP, sidecars and ffprobe.

    ``width``/``height`` are as displayed, i.e. after EXIF orientation (a portrait
    photo stored sideways has width < height here) and after video rotation. ``date``
    is ISO 8601; it carries a UTC offset (``2018-01-10T11:39:53+01:00``) only when the
    file says which zone it was taken in, and is naive local time otherwise.
    """

    schema: int = META_SCHEMA
    type: MediaType
    mime: str | None = None
    format: str | None = None  # short container/codec name: jpeg, heif, png, mp4, dng …
    width: int | None = None
    height: int | None = None
    orientation: int = 1  # EXIF orientation 1-8 of the original
    date: str | None = None
    date_source: DateSource | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    iso: int | None = None
    aperture: float | None = None  # f-number, e.g. 2.8
    exposure_time: float | None = None  # seconds, e.g. 0.004 for 1/250
    focal_length: float | None = None  # millimetres, as recorded (not 35 mm equivalent)
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None  # metres above sea level; negative below
    rating: int | None = None  # XMP rating, -1 (rejected) to 5
    title: str | None = None
    description: str | None = None
    keywords: list[str] = msgspec.field(default_factory=list)
    face_regions: list[FaceRegion] = msgspec.field(default_factory=list)
    duration: float | None = None  # seconds (videos)
    video_codec: str | None = None
    audio_codec: str | None = None
    frame_rate: float | None = None
    rotation: int | None = None  # degrees the player turns the video (0, 90, 180, 270)
    # Content ids of the .xmp sidecars merged in: a sidecar edit changes its id but not
    # the photo's, so the runner compares this list to re-read changed sidecars.
    sidecar_ids: list[str] = msgspec.field(default_factory=list)


class Place(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The place a media's GPS position falls in (reverse geocoding)."""

    schema: int = PLACE_SCHEMA
    source: PlaceSource
    country: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2, upper case
    state: str | None = None  # region / first-level administrative area
    county: str | None = None  # second-level administrative area, where known
    city: str | None = None
    road: str | None = None  # Nominatim only
    latitude: float | None = None  # the position that was looked up
    longitude: float | None = None


class StoredLabel(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One class the model gave the image: its WordNet id, its name and its probability."""

    id: str  # ImageNet class as its WordNet 3.0 id ("n02088364"), the same for every model
    name: str
    score: float


class Labels(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The classes a model found most probable for an image, most probable first.

    All of the model's top classes are kept, whatever their probability: which of them
    count as labels of the photo is decided by the catalog build
    (``extractor.models.labelThreshold``), so that changing the threshold needs a build,
    not the model run again.
    """

    schema: int = LABELS_SCHEMA
    model: str
    version: str
    labels: list[StoredLabel] = msgspec.field(default_factory=list)


class StoredFace(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One face: where it is, how sure the detector is, and its descriptor.

    Box and landmarks are relative to the image as displayed (0..1 of its width and
    height, after EXIF orientation), so they hold for every preview size and for the
    original. Landmarks in the detector's order: right eye, left eye, nose tip, right
    and left mouth corner (the person's sides). ``descriptor``: the recogniser's
    values, L2-normalised (the cosine of two faces is their dot product).
    """

    x: float
    y: float
    width: float
    height: float
    score: float
    landmarks: list[tuple[float, float]]
    descriptor: list[float]


class Faces(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The faces found in one image, best-scoring first; an empty list means none.

    The file's presence means "done": a photo without faces has one with no faces,
    so it is not looked at again. A face is named by the media id and its place in
    this list, which stays the same as long as the models do.
    """

    schema: int = FACES_SCHEMA
    detector: str
    recogniser: str
    preview: int  # the preview's long side the faces were found on
    faces: list[StoredFace] = msgspec.field(default_factory=list)


class StoredObject(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One object as HomeGallery stores it: COCO class name, score, box relative to the
    image as displayed (0..1 of its width and height)."""

    class_: str = msgspec.field(name="class")
    score: float
    x: float
    y: float
    width: float
    height: float


class Objects(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The objects found in one image, best first; an empty list means none.

    Stored down to :data:`homegallery.extract.objects.STORED_SCORE`, below the
    config's ``objectScore``, so that a lower threshold (the build applies it) needs
    no new look at the photos, and the score of each object stays for ranking.
    """

    schema: int = OBJECTS_SCHEMA
    detector: str  # model tag: name and version
    preview: int  # the preview's long side the objects were found on
    objects: list[StoredObject] = msgspec.field(default_factory=list)


class Failure(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Why one step failed for one media id; stored so a re-run does not retry it.

    ``reason`` is a short stable word for grouping in summaries (``decode``,
    ``unsupported``, ``too-large``, ``timeout``, ``ffmpeg``, ``io``, ``crash`` …);
    ``message`` is the full cause for the user.
    """

    step: Step
    reason: str
    message: str
    path: str  # the original file, absolute, at the time of the failure
    time: str  # ISO 8601 UTC
    attempts: int = 1


def preview_kind(size: int) -> str:
    return KINDS["image_preview"].format(size)


def video_kind(size: int = 720) -> str:
    return KINDS["video_preview"].format(size)


def failure_kind(step: Step) -> str:
    return KINDS["failure"].format(step)


def embedding_kind(model_tag: str) -> str:
    """``embedding-efficientnet-lite0-1.npy`` for the tag ``efficientnet-lite0-1``."""
    return KINDS["embedding"].format(model_tag)


def labels_kind(model_tag: str) -> str:
    return KINDS["labels"].format(model_tag)


def faces_models_tag(detector_tag: str, recogniser_tag: str) -> str:
    """The tag of a pair of face models (``yunet-1-sface-1``): names their stored faces."""
    return f"{detector_tag}-{recogniser_tag}"


def faces_kind(models_tag: str) -> str:
    """``faces-yunet-1-sface-1.json`` for the tag ``yunet-1-sface-1``."""
    return KINDS["faces"].format(models_tag)


def objects_kind(model_tag: str) -> str:
    """``objects-nanodet-m-1.json`` for the tag ``nanodet-m-1``."""
    return KINDS["objects"].format(model_tag)


def encode(value: msgspec.Struct) -> bytes:
    """Stored JSON form: compact, one trailing newline so ``cat`` stays readable."""
    return msgspec.json.encode(value) + b"\n"


def _read(storage: Storage, media_id: str, kind: str, type_: type[msgspec.Struct]) -> object:
    data = storage.get(media_id, kind)
    if data is None:
        return None
    path: Path = storage.path(media_id, kind)
    try:
        return msgspec.json.decode(data, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise StoredFileError(f"{path}: cannot read {kind}: {error}") from None


def read_meta(storage: Storage, media_id: str) -> MediaMeta | None:
    """The stored metadata of ``media_id``, or None when not extracted (yet)."""
    value = _read(storage, media_id, META_KIND, MediaMeta)
    assert value is None or isinstance(value, MediaMeta)
    return value


def read_place(storage: Storage, media_id: str) -> Place | None:
    """The stored place of ``media_id``, or None (no GPS, geo off, or not yet done)."""
    value = _read(storage, media_id, PLACE_KIND, Place)
    assert value is None or isinstance(value, Place)
    return value


def read_labels(storage: Storage, media_id: str, model_tag: str) -> Labels | None:
    """The stored labels of ``media_id`` by one model, or None when not made (yet)."""
    value = _read(storage, media_id, labels_kind(model_tag), Labels)
    assert value is None or isinstance(value, Labels)
    return value


def read_faces(storage: Storage, media_id: str, models_tag: str) -> Faces | None:
    """The stored faces of ``media_id`` by one pair of models, or None when not looked for."""
    value = _read(storage, media_id, faces_kind(models_tag), Faces)
    assert value is None or isinstance(value, Faces)
    return value


def read_objects(storage: Storage, media_id: str, model_tag: str) -> Objects | None:
    """The stored objects of ``media_id`` by one detector, or None when not looked for."""
    value = _read(storage, media_id, objects_kind(model_tag), Objects)
    assert value is None or isinstance(value, Objects)
    return value


def encode_embedding(vector: npt.ArrayLike) -> bytes:
    """The ``.npy`` form of one embedding: float32, one row, readable by ``numpy.load``."""
    import numpy as np

    array = np.ascontiguousarray(np.asarray(vector, dtype="<f4"))
    if array.ndim != 1 or not np.isfinite(array).all():
        raise ValueError(f"an embedding is one row of finite numbers, not {array.shape}")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


_NPY_HEADERS: dict[int, bytes] = {}  # values → the header ``encode_embedding`` writes


def _npy_header(values: int) -> bytes:
    header = _NPY_HEADERS.get(values)
    if header is None:
        header = encode_embedding_header(values)
        _NPY_HEADERS[values] = header
    return header


def encode_embedding_header(values: int) -> bytes:
    """The ``.npy`` header of an embedding of ``values`` float32 values."""
    import numpy as np

    data = encode_embedding(np.zeros(values, "<f4"))
    return data[: len(data) - 4 * values]


def decode_embedding(data: bytes, where: object = "embedding") -> npt.NDArray[np.float32]:
    """One embedding from its ``.npy`` bytes; StoredFileError for anything else.

    A file with exactly the header this module writes is read straight from its bytes
    (``numpy.load`` parses the header anew each time, which was most of a build's time
    for the vectors); anything else goes through ``numpy.load``.
    """
    import numpy as np

    if len(data) > 10 and data[:8] == b"\x93NUMPY\x01\x00":
        header_length = 10 + int.from_bytes(data[8:10], "little")
        values, rest = divmod(len(data) - header_length, 4)
        if values > 0 and not rest and data[:header_length] == _npy_header(values):
            vector: npt.NDArray[np.float32] = np.frombuffer(data, "<f4", offset=header_length)
            if not np.isfinite(vector).all():
                raise StoredFileError(f"{where}: not an embedding (values that are not finite)")
            return vector
    try:
        array: npt.NDArray[Any] = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise StoredFileError(f"{where}: not an embedding: {error}") from None
    if array.dtype != np.dtype("<f4") or array.ndim != 1 or not np.isfinite(array).all():
        raise StoredFileError(
            f"{where}: not an embedding (expected finite float32 values in one row, "
            f"found {array.dtype} {array.shape})"
        )
    return array


def read_embedding(
    storage: Storage, media_id: str, model_tag: str
) -> npt.NDArray[np.float32] | None:
    """The stored embedding of ``media_id`` by one model, or None when not made (yet)."""
    data = storage.get(media_id, embedding_kind(model_tag))
    if data is None:
        return None
    return decode_embedding(data, storage.path(media_id, embedding_kind(model_tag)))


def read_failure(storage: Storage, media_id: str, step: Step) -> Failure | None:
    value = _read(storage, media_id, failure_kind(step), Failure)
    assert value is None or isinstance(value, Failure)
    return value


def write_meta(storage: Storage, media_id: str, meta: MediaMeta) -> Path:
    return storage.write(media_id, META_KIND, encode(meta))


def write_place(storage: Storage, media_id: str, place: Place) -> Path:
    return storage.write(media_id, PLACE_KIND, encode(place))


def write_labels(storage: Storage, media_id: str, model_tag: str, labels: Labels) -> Path:
    return storage.write(media_id, labels_kind(model_tag), encode(labels))


def write_embedding(storage: Storage, media_id: str, model_tag: str, vector: npt.ArrayLike) -> Path:
    return storage.write(media_id, embedding_kind(model_tag), encode_embedding(vector))


def write_faces(storage: Storage, media_id: str, models_tag: str, faces: Faces) -> Path:
    return storage.write(media_id, faces_kind(models_tag), encode(faces))


def write_objects(storage: Storage, media_id: str, model_tag: str, objects: Objects) -> Path:
    return storage.write(media_id, objects_kind(model_tag), encode(objects))


def write_failure(storage: Storage, media_id: str, failure: Failure) -> Path:
    return storage.write(media_id, failure_kind(failure.step), encode(failure))
