"""The int8 variant of a model, made on the user's machine by onnxruntime's quantiser.

Static quantisation (int8 activations with ranges measured beforehand, per-channel
int8 weights, QDQ format) rather than dynamic: onnxruntime's dynamic quantisation
turns convolutions into ``ConvInteger``, which ran 4× slower than fp32 here and lost
more accuracy. Weights use 7 bits (``reduce_range``): x86 CPUs without VNNI
multiply uint8 × int8 pairs into int16 sums that saturate with full 8-bit weights.

Some layers stay in float (:data:`FLOAT_LAYERS`). Quantising one layer at a time
and comparing embeddings on real photos, the stem and the first two blocks (full
resolution, few channels) cost by far the most accuracy: cosine to fp32 0.81 with
only the stem quantised, 0.91 with only block 0, 0.977 with only block 1, ≥ 0.997
for every other layer. Measured on the 2-core x86 test machine (batch 8, 1 thread)
against fp32, on 35 real photos:

=============================  =======  ====================  ===============
in float                       speed    top-5 overlap (fp32)  cosine mean/min
=============================  =======  ====================  ===============
stem                           1.56×    0.80                  0.969 / 0.906
stem, blocks 0–1 (chosen)      1.47×    0.88                  0.987 / 0.970
stem, blocks 0–1, 8, 11, 15,   1.29×    0.91                  0.994 / 0.983
head
=============================  =======  ====================  ===============

NanoDet-m: only its convolutions are quantised (with every operator quantised, the
sigmoid class scores and the box bins lost all detections), and its first and six
head convolutions stay in float. On the seven darknet demo photos, of the 25
objects fp32 finds at score 0.4, int8 finds 24 at 0.3 in the same place (IoU 0.7)
with scores within 0.1 (21 with the first and head convolutions quantised too); 1.5×
faster on the 2-core x86 test machine, 5.3 MB instead of 15.2 MB.

Ranges are calibrated on generated pictures (smooth colour fields with noise, from a
fixed seed), so the int8 file is made the same way everywhere, without photos: on
the shared real photos they matched ranges from real photos in top-5 agreement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from homegallery.models.convert import ConversionError
from homegallery.models.preprocess import efficientnet_input, nanodet_input
from homegallery.models.spec import ModelSpec

FLOAT_LAYERS = ("_conv_stem", "_blocks.0.", "_blocks.1.")
METHOD = (
    "static QDQ, uint8 activations, int8 per-channel weights (reduce_range); "
    "stem and blocks 0-1 in fp32"
)
NANODET_HEAD_CONVOLUTIONS = 6  # class and box convolutions of the three strides
NANODET_METHOD = (
    "static QDQ of the convolutions, uint8 activations, int8 per-channel weights "
    "(reduce_range); first and head convolutions in fp32"
)
CALIBRATION_PICTURES = 16
_SEED = 1234


def calibration_pictures(count: int = CALIBRATION_PICTURES) -> list[npt.NDArray[np.uint8]]:
    """Deterministic 320 × 240 RGB pictures: upsampled coarse colour grids plus noise."""
    generator = np.random.Generator(np.random.PCG64(_SEED))
    pictures = []
    for number in range(count):
        coarse = generator.random((4 + number % 5, 4 + (number * 3) % 7, 3))
        smooth = Image.fromarray((coarse * 255).astype(np.uint8)).resize(
            (320, 240), Image.Resampling.BICUBIC
        )
        noisy = np.asarray(smooth).astype(np.float32) + generator.normal(0, 12, (240, 320, 3))
        pictures.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return pictures


def _nanodet_input(picture: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    return nanodet_input(Image.fromarray(picture, "RGB"))[0]


def _efficientnet_float(graph: Any) -> list[str]:
    return [node.name for node in graph.node if node.name.startswith(FLOAT_LAYERS)]


def _nanodet_float(graph: Any) -> list[str]:
    """NanoDet's first convolution and its six head convolutions (the last in the graph)."""
    convolutions = [node.name for node in graph.node if node.op_type == "Conv"]
    return convolutions[:1] + convolutions[-NANODET_HEAD_CONVOLUTIONS:]


@dataclass(frozen=True)
class _Recipe:
    make_input: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.float32]]
    kept_float: Callable[[Any], list[str]]  # graph → names of the nodes left in float
    method: str
    op_types: tuple[str, ...] | None = None  # only these are quantised (None: all)


_RECIPES: dict[str, _Recipe] = {
    "efficientnet-lite0": _Recipe(efficientnet_input, _efficientnet_float, METHOD),
    "tfjs-nanodet": _Recipe(_nanodet_input, _nanodet_float, NANODET_METHOD, ("Conv",)),
}


def quantise_int8(spec: ModelSpec, source: Path, target: Path) -> str:
    """Writes the int8 model of ``source`` to ``target``; returns how it was made."""
    from onnxruntime.quantization import CalibrationDataReader

    if spec.converter not in _RECIPES:
        raise ConversionError(f"{spec.name} has no int8 recipe")
    recipe = _RECIPES[spec.converter]
    inputs = [recipe.make_input(picture)[None] for picture in calibration_pictures()]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches = iter(inputs)

        def get_next(self) -> dict[str, Any] | None:
            batch = next(self.batches, None)
            return None if batch is None else {spec.input.name: batch}

    # The quantiser logs each weight scale it widens on the root logger (dozens of
    # lines a user cannot act on); those are silenced for the call.
    logging.disable(logging.WARNING)
    try:
        _quantize(source, target, Reader(), recipe)
    except Exception as error:  # the quantiser raises many kinds; the user needs one line
        raise ConversionError(f"int8 quantisation failed: {error}") from None
    finally:
        logging.disable(logging.NOTSET)
    return recipe.method


def _quantize(source: Path, target: Path, reader: Any, recipe: _Recipe) -> None:
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    graph = onnx.load(str(source), load_external_data=False).graph
    kept_float = recipe.kept_float(graph)
    extra = {} if recipe.op_types is None else {"op_types_to_quantize": list(recipe.op_types)}

    quantize_static(
        str(source),
        str(target),
        reader,
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=kept_float,
        **extra,
    )
