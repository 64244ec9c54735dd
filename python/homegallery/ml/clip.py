"""A CLIP model the user brings: its image and text halves as ONNX files, run here.

CLIP maps photos and texts into one space, so a text finds the photos it describes
by cosine. No registry package ships CLIP weights, so homegallery downloads none:
the user exports a model's two halves (see ``scripts/export_openclip.py``) and names
them, with the tokenizer file and the model's pre-processing, in
``extractor.models.clip``. The image half runs in the ``embeddings`` step (stored
per photo under the image file's hash, so another model file means new vectors); the
text half runs where a query with ``text:`` is searched.

Each half is expected to take one input and give the embedding as its first output:
images as float32 ``[N, 3, size, size]`` RGB, normalised by the model's mean and std;
texts as token ids ``[N, context length]`` (int64 or int32).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery.errors import HomeGalleryError
from homegallery.ml.sessions import cpu_session

FloatMatrix = npt.NDArray[np.float32]


class ClipModelError(HomeGalleryError):
    """A CLIP model file is missing, unreadable or of an unexpected shape."""


@dataclass(frozen=True)
class ClipImageSettings:
    """What the image half needs (small, picklable: it goes to the worker processes)."""

    model_file: Path
    model_tag: str  # ``clip-<hash>``: names the stored vectors
    input_size: int = 224
    mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
    threads: int = 1
    batch_size: int = 16
    workers: int = 0


def model_tag(image_model: Path) -> str:
    """``clip-`` and the first 16 hex digits of the image model file's SHA-256: vectors of
    one file are comparable, and a new file (another model, another export) is a new tag."""
    digest = hashlib.sha256()
    try:
        with image_model.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise ClipModelError(
            f"{image_model}: cannot read the CLIP image model: {error.strerror or error}"
        ) from None
    return f"clip-{digest.hexdigest()[:16]}"


def image_input(image: Any, settings: ClipImageSettings) -> FloatMatrix:
    """A PIL image as the image half's input ``[3, size, size]``: the short side resized to
    ``size`` (bicubic), the centre cut out, scaled to 0-1 and normalised."""
    from PIL import Image

    size = settings.input_size
    width, height = image.size
    factor = size / min(width, height)
    resized = image.convert("RGB").resize(
        (max(size, round(width * factor)), max(size, round(height * factor))),
        Image.Resampling.BICUBIC,
    )
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    cropped = resized.crop((left, top, left + size, top + size))
    pixels = np.asarray(cropped, dtype=np.float32) / np.float32(255)
    pixels = (pixels - np.array(settings.mean, np.float32)) / np.array(settings.std, np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)


def session(model_file: Path, threads: int = 1) -> Any:
    """An onnxruntime session on the CPU; :class:`ClipModelError` when the file is not a model."""
    if not model_file.is_file():
        raise ClipModelError(f"{model_file}: no such CLIP model file")
    try:
        return cpu_session(model_file, threads)
    except Exception as error:  # onnxruntime raises its own untyped errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise ClipModelError(f"{model_file}: cannot load the CLIP model: {first}") from None


def run_model(model: Any, batch: npt.NDArray[Any]) -> FloatMatrix:
    """The first output of a one-input model for ``batch``, each row L2-normalised."""
    name = model.get_inputs()[0].name
    (output, *_) = model.run(None, {name: batch})
    rows = np.asarray(output, dtype=np.float32).reshape(len(batch), -1)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    normalised: FloatMatrix = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return normalised


def text_input(model: Any, ids: list[int]) -> npt.NDArray[Any]:
    """Token ids as the text half's input ``[1, context length]`` in the type it takes."""
    kind = model.get_inputs()[0].type
    return np.array([ids], np.int32 if kind == "tensor(int32)" else np.int64)
