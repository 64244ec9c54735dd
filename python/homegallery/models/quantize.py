"""The int8 variant of a model, made on the user's machine by onnxruntime's quantiser.

Static quantisation (int8 activations with ranges measured beforehand, per-channel
int8 weights, QDQ format) rather than dynamic: onnxruntime's dynamic quantisation
turns convolutions into ``ConvInteger``, which ran 4× slower than fp32 here and lost
more accuracy. Weights use 7 bits (``reduce_range``) only where the CPU needs it:
x86 CPUs without VNNI multiply uint8 × int8 pairs into int16 sums that saturate with
full 8-bit weights, while VNNI (AVX-512 or AVX) and ARM sum into int32. The int8 file
is made on the machine that runs it, so it is made for that CPU: on the VNNI test
machine full 8-bit weights raised the top-1 agreement with fp32 from 74% to 79%, the
top-5 overlap from 0.89 to 0.93 and the embedding cosine from 0.988 to 0.994 (66 real
photos none of which were calibrated on), at the same speed.

Some layers stay in float (:data:`FLOAT_LAYERS`). Quantising one layer at a time
and comparing embeddings on real photos, the stem and the first two blocks (full
resolution, few channels) cost by far the most accuracy: cosine to fp32 0.81 with
only the stem quantised, 0.91 with only block 0, 0.977 with only block 1, ≥ 0.997
for every other layer. Measured on the 2-core x86 test machine (batch 8, 1 thread)
against fp32, on 35 real photos, with 7-bit weights:

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
with scores within 0.1 (21 with the first and head convolutions quantised too), and
all 25 with the calibration pictures and 8-bit weights below; 1.5×
faster on the 2-core x86 test machine, 5.3 MB instead of 15.2 MB.

Ranges are calibrated on generated pictures from a fixed seed, so the int8 file is
made the same way everywhere, without photos. The pictures have the spectrum of
natural photos (power falling as 1/f², one shared luminance field plus a little
colour of its own per channel): the earlier smooth colour fields with white noise
left the late layers' ranges too narrow for real photos, which clipped the logits and
halved the probabilities (the most probable class 0.17 against fp32's 0.32), so
int8 kept only 22 of fp32's 47 labels at the 0.2 threshold on 66 real photos; with
these pictures it keeps 44 (and adds 9 fp32 does not give), and the most probable
class averages 0.32 as in fp32.
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
    "static QDQ, uint8 activations, int8 per-channel weights{range}; stem and blocks 0-1 in fp32"
)
NANODET_HEAD_CONVOLUTIONS = 6  # class and box convolutions of the three strides
NANODET_METHOD = (
    "static QDQ of the convolutions, uint8 activations, int8 per-channel weights{range}; "
    "first and head convolutions in fp32"
)
_SATURATION_FREE_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "avx512vnni"})
CALIBRATION_PICTURES = 32
_SEED = 1234


def calibration_pictures(count: int = CALIBRATION_PICTURES) -> list[npt.NDArray[np.uint8]]:
    """Deterministic 320 × 240 RGB pictures with a natural photo's 1/f spectrum."""
    generator = np.random.Generator(np.random.PCG64(_SEED))
    height, width = 240, 320
    frequency = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.rfftfreq(width)[None, :])
    frequency[0, 0] = 1.0

    def field() -> npt.NDArray[np.float64]:
        shape = frequency.shape
        spectrum = (generator.normal(size=shape) + 1j * generator.normal(size=shape)) / frequency
        values = np.fft.irfft2(spectrum, s=(height, width))
        return np.asarray((values - values.mean()) / values.std())

    pictures = []
    for _ in range(count):
        luminance = field()
        channels = [
            (0.7 * luminance + 0.3 * field()) * generator.uniform(30, 70)
            + generator.uniform(60, 190)
            for _ in range(3)
        ]
        pictures.append(np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8))
    return pictures


def needs_reduced_range(machine: str | None = None, cpuinfo: str | None = None) -> bool:
    """Whether 8-bit weights could saturate this CPU's int8 kernels (x86 without VNNI)."""
    import platform

    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return False
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return True  # unknown x86: the safe choice
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return not (_SATURATION_FREE_FLAGS & set(line.split(":", 1)[-1].split()))
    return True


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
    reduce_range = needs_reduced_range()
    logging.disable(logging.WARNING)
    try:
        _quantize(source, target, Reader(), recipe, reduce_range)
    except Exception as error:  # the quantiser raises many kinds; the user needs one line
        raise ConversionError(f"int8 quantisation failed: {error}") from None
    finally:
        logging.disable(logging.NOTSET)
    return recipe.method.format(range=" (7-bit: no VNNI)" if reduce_range else "")


def _quantize(source: Path, target: Path, reader: Any, recipe: _Recipe, reduce_range: bool) -> None:
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
        reduce_range=reduce_range,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=kept_float,
        **extra,
    )
