"""NanoDet's raw outputs as COCO objects: GFL boxes per stride, then NMS per class.

NanoDet answers per grid cell of three strides (8, 16, 32) at a fixed 416 × 416
input: ``cls_<s>`` the 80 class scores (already through a sigmoid) and ``box_<s>``
each side's distance from the cell centre as a distribution over 11 bins (General
Focal Loss): the distance is the expectation, ``softmax(bins) · [0..10] · stride``.
Boxes of one class that overlap by IoU 0.5 or more are one object (the best kept);
objects of different classes may overlap (a person on a bicycle).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

STRIDES = (8, 16, 32)
INPUT_SIZE = 416
BINS = 11
NMS_IOU = 0.5
MAX_OBJECTS = 50  # per photo, best first: more is noise for a search

# The 80 COCO classes in the model's order, named as COCO (and HomeGallery) name them.
COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck",
    "boat", "traffic light", "fire hydrant", "stop sign", "parking meter", "bench",
    "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra",
    "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis",
    "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
    "surfboard", "tennis racket", "bottle", "wine glass", "cup", "fork", "knife",
    "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot",
    "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
    "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip


@functools.cache
def object_words() -> tuple[tuple[str, ...], ...]:
    """Each class's search words in the model's order: its COCO name, its WordNet
    synset's lemmas and more general terms (``horse`` → ``equine``, ``mammal``,
    ``animal``), generated into :mod:`homegallery.ml.coco_labels`."""
    from homegallery.ml import coco_labels  # lazy: the table is read on first use

    rows = [line.split("|") for line in coco_labels.TABLE.splitlines()]
    if [row[1] for row in rows] != list(COCO_CLASSES):
        raise RuntimeError("the COCO word table does not list the detector's classes in order")
    return tuple(tuple(row[2:]) for row in rows)


@dataclass(frozen=True)
class Detection:
    """One object in input pixels: class index, score, box (left, top, right, bottom)."""

    class_id: int
    score: float
    box: tuple[float, float, float, float]

    @property
    def name(self) -> str:
        return COCO_CLASSES[self.class_id]


def _softmax(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    result: npt.NDArray[np.float64] = shifted / shifted.sum(axis=-1, keepdims=True)
    return result


def decode(outputs: Mapping[str, npt.NDArray[Any]], threshold: float) -> list[Detection]:
    """Every (cell, class) whose score reaches ``threshold``, as boxes in input pixels."""
    found: list[Detection] = []
    steps = np.arange(BINS, dtype=np.float64)
    for stride in STRIDES:
        grid = INPUT_SIZE // stride
        scores = outputs[f"cls_{stride}"].reshape(grid * grid, len(COCO_CLASSES))
        cells, classes = np.nonzero(scores >= threshold)
        if not cells.size:
            continue
        bins = outputs[f"box_{stride}"].reshape(grid * grid, 4, BINS)[cells].astype(np.float64)
        distances = (_softmax(bins) @ steps) * stride  # left, top, right, bottom
        rows, columns = np.divmod(cells, grid)
        centre_x = (columns + 0.5) * stride
        centre_y = (rows + 0.5) * stride
        for at in range(cells.size):
            left, top, right, bottom = distances[at]
            found.append(
                Detection(
                    int(classes[at]),
                    float(scores[cells[at], classes[at]]),
                    (
                        float(centre_x[at] - left),
                        float(centre_y[at] - top),
                        float(centre_x[at] + right),
                        float(centre_y[at] + bottom),
                    ),
                )
            )
    return found


def iou(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    width = min(first[2], second[2]) - max(first[0], second[0])
    height = min(first[3], second[3]) - max(first[1], second[1])
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    area_first = (first[2] - first[0]) * (first[3] - first[1])
    area_second = (second[2] - second[0]) * (second[3] - second[1])
    return overlap / (area_first + area_second - overlap)


def nms(found: list[Detection], threshold: float = NMS_IOU) -> list[Detection]:
    """The best of each group of same-class boxes overlapping by ``threshold``, best first."""
    kept: list[Detection] = []
    for detection in sorted(found, key=lambda item: (-item.score, item.class_id, item.box)):
        if any(
            other.class_id == detection.class_id and iou(other.box, detection.box) >= threshold
            for other in kept
        ):
            continue
        kept.append(detection)
        if len(kept) == MAX_OBJECTS:
            break
    return kept
