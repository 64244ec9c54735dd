"""YuNet's raw outputs as faces, and a face aligned for SFace by its five landmarks.

YuNet answers per grid cell of three strides (8, 16, 32) at a fixed 640 × 640 input;
:func:`decode` turns those cells into boxes, scores and landmarks in input pixels and
:func:`nms` keeps the best of overlapping ones (IoU 0.3, OpenCV's default for this
model). SFace wants the face warped by a similarity transform (rotation, uniform scale,
shift: no shear, so the face keeps its shape) that puts the five landmarks as near as
possible onto the ArcFace template; :func:`similarity_transform` is the least-squares
fit (Umeyama's method) and :func:`align` applies it. Landmark order, as YuNet gives
it: the person's right eye (left in the picture), left eye, nose tip, right and left
mouth corner — the template's order too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

STRIDES = (8, 16, 32)
INPUT_SIZE = 640
NMS_IOU = 0.3
ALIGNED_SIZE = 112
# Where SFace (and ArcFace) expect the five landmarks in its 112 × 112 input.
TEMPLATE: npt.NDArray[np.float64] = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)


@dataclass(frozen=True)
class Detection:
    """One face in some picture's pixels: box (left, top, width, height), five (x, y)."""

    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float], ...]
    score: float

    def moved(self, dx: float, dy: float, factor: float) -> Detection:
        """The same face after shifting by (dx, dy) and then scaling by ``factor``."""
        left, top, width, height = self.box
        return Detection(
            ((left + dx) * factor, (top + dy) * factor, width * factor, height * factor),
            tuple(((x + dx) * factor, (y + dy) * factor) for x, y in self.landmarks),
            self.score,
        )


def decode(outputs: Mapping[str, npt.NDArray[Any]], threshold: float) -> list[Detection]:
    """The cells whose score reaches ``threshold``, as faces in input pixels (before NMS)."""
    found: list[Detection] = []
    for stride in STRIDES:
        cols = INPUT_SIZE // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0.0, 1.0)
        scores = np.sqrt(cls * obj)
        cells = np.flatnonzero(scores >= threshold)
        if not cells.size:
            continue
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)[cells].astype(np.float64)
        kps = outputs[f"kps_{stride}"].reshape(-1, 10)[cells].astype(np.float64)
        rows, columns = np.divmod(cells, cols)
        centre_x = (columns + bbox[:, 0]) * stride
        centre_y = (rows + bbox[:, 1]) * stride
        width = np.exp(bbox[:, 2]) * stride
        height = np.exp(bbox[:, 3]) * stride
        for at in range(cells.size):
            landmarks = tuple(
                (
                    float((kps[at, 2 * n] + columns[at]) * stride),
                    float((kps[at, 2 * n + 1] + rows[at]) * stride),
                )
                for n in range(5)
            )
            found.append(
                Detection(
                    (
                        float(centre_x[at] - width[at] / 2),
                        float(centre_y[at] - height[at] / 2),
                        float(width[at]),
                        float(height[at]),
                    ),
                    landmarks,
                    float(scores[cells[at]]),
                )
            )
    return found


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (left, top, width, height) boxes."""
    left = max(a[0], b[0])
    top = max(a[1], b[1])
    right = min(a[0] + a[2], b[0] + b[2])
    bottom = min(a[1] + a[3], b[1] + b[3])
    overlap = max(0.0, right - left) * max(0.0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - overlap
    return overlap / union if union > 0 else 0.0


def nms(detections: list[Detection], threshold: float = NMS_IOU) -> list[Detection]:
    """The best-scoring faces, each dropping the weaker ones it overlaps by > ``threshold``."""
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda found: -found.score):
        if all(iou(detection.box, other.box) <= threshold for other in kept):
            kept.append(detection)
    return kept


def similarity_transform(
    source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The 2 × 3 matrix of the similarity that maps ``source`` points nearest onto ``target``.

    Umeyama (1991): centre both point sets, take the SVD of their covariance for the
    rotation, the ratio of variances for the scale. A reflection is never returned
    (the determinant's sign is corrected), so a mirrored face is not flipped back.
    """
    source_mean = source.mean(axis=0)
    target_mean = target.mean(axis=0)
    source_centred = source - source_mean
    target_centred = target - target_mean
    covariance = target_centred.T @ source_centred / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    variance = source_centred.var(axis=0).sum()
    scale = float((singular * np.diag(sign)).sum() / variance) if variance > 0 else 1.0
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]])


def align(picture: Any, landmarks: tuple[tuple[float, float], ...]) -> npt.NDArray[np.uint8]:
    """The face as SFace's 112 × 112 RGB input, warped from ``picture`` (a Pillow image)."""
    from PIL import Image

    matrix = similarity_transform(np.asarray(landmarks, dtype=np.float64), TEMPLATE)
    # Pillow's affine transform maps output pixels to input pixels: the inverse.
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    rgb = picture.convert("RGB") if picture.mode != "RGB" else picture
    warped = rgb.transform(
        (ALIGNED_SIZE, ALIGNED_SIZE),
        Image.Transform.AFFINE,
        tuple(float(value) for value in inverse.reshape(-1)),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(warped, dtype=np.uint8)


def normalise(vector: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """``vector`` scaled to length 1 (cosine = dot product), as float32."""
    values = np.asarray(vector, dtype=np.float64).reshape(-1)
    length = float(np.linalg.norm(values))
    if not np.isfinite(length) or length == 0.0:
        raise ValueError("a face descriptor of length zero or not finite")
    return (values / length).astype(np.float32)
