"""A tiny embedding model for the plumbing tests, and photos it tells apart.

The graph has the real model's input and outputs (``image`` [N, 3, 224, 224] →
``embedding`` [N, 6], ``logits`` [N, 1000]) but only averages the colour channels: a
red photo's most probable class is "beagle", a green one's "sports car", a blue
one's "seashore". So the whole step (previews, batches, sessions, labels, files)
runs for real in milliseconds, and the labels it gives are known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from homegallery.extract.embed import EmbeddingSettings

BEAGLE, SPORTS_CAR, SEASHORE = 162, 817, 978
COLOURS = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}


def colour_model(path: Path, input_name: str = "image") -> Path:
    """Writes the tiny model to ``path``; channel means (x − 127)/128 drive everything."""
    weights = np.zeros((3, 1000), np.float32)
    weights[0, BEAGLE] = weights[1, SPORTS_CAR] = weights[2, SEASHORE] = 20.0
    weights[:, 0] = -4.0  # a class nothing wins, so the others have some probability
    mix = np.array([[1, 0, 0, 0.5, 0, 0], [0, 1, 0, 0, 0.5, 0], [0, 0, 1, 0, 0, 0.5]], np.float32)
    nodes = [
        helper.make_node("GlobalAveragePool", [input_name], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["means"]),
        helper.make_node("MatMul", ["means", "weights"], ["logits"]),
        helper.make_node("Add", ["means", "one"], ["shifted"]),
        helper.make_node("MatMul", ["shifted", "mix"], ["features"]),
        helper.make_node("LpNormalization", ["features"], ["embedding"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "colours",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 6]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000]),
        ],
        [
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(np.float32(1.0).reshape(1), "one"),
            numpy_helper.from_array(mix, "mix"),
        ],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7, producer_name="test"
    )
    path.write_bytes(model.SerializeToString())
    return path


def colour_settings(model_file: Path, **changes: object) -> EmbeddingSettings:
    settings = EmbeddingSettings(
        model="colours",
        model_tag="colours-1",
        model_file=model_file,
        input_name="image",
        threads=1,
        batch_size=4,
        workers=1,
    )
    return EmbeddingSettings(**{**settings.__dict__, **changes})


def colour_photo(
    path: Path, colour: str, width: int = 1000, height: int = 750, seed: int = 0
) -> Path:
    """A JPEG of one colour with a little noise (so no two are the same file)."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(
        np.array(COLOURS[colour], np.float32) + rng.normal(0, 8, (height, width, 3)), 0, 255
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path, quality=90)
    return path


def die_on(marker: str) -> None:
    """Pool initializer: the worker process dies (as in a segfault) on a preview of ``marker``."""
    import os

    from homegallery.extract import embed

    real = embed.load_input

    def load_or_die(paths: list[Path]) -> object:
        if any(marker in str(path) for path in paths):
            os._exit(11)
        return real(paths)

    embed.load_input = load_or_die  # type: ignore[assignment]
