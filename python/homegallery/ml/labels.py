"""ImageNet-1k class indices as names and search words, and model outputs as labels.

The image embedding model ends in 1000 ImageNet logits. A photo is labelled with the
classes it gives a high probability, and each label brings the words that find it:
the class's own names and its more general WordNet terms, so a beagle is found by
``beagle``, ``dog`` and ``animal`` (see ``scripts/make_imagenet_labels.py``). The
table is read on first use, so importing this module costs almost nothing.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import SupportsIndex

import numpy as np
import numpy.typing as npt

from homegallery.ml import imagenet_labels

CLASS_COUNT = 1000


@dataclass(frozen=True, slots=True)
class Label:
    """One class a model saw in an image, with the words a search finds it by."""

    index: int
    name: str
    probability: float
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Class:
    wnid: str
    name: str
    words: tuple[str, ...]


@functools.cache
def _classes() -> tuple[_Class, ...]:
    classes = []
    for line in imagenet_labels.TABLE.splitlines():
        wnid, name, *words = line.split("|")
        classes.append(_Class(wnid, name, tuple(words)))
    if len(classes) != CLASS_COUNT:
        raise RuntimeError(f"the ImageNet label table has {len(classes)} classes, not 1000")
    return tuple(classes)


def _class(index: SupportsIndex) -> _Class:
    position = operator.index(index)
    if not 0 <= position < CLASS_COUNT:
        raise IndexError(f"ImageNet class index must be 0 to {CLASS_COUNT - 1}, not {position}")
    return _classes()[position]


def label_name(index: SupportsIndex) -> str:
    """The class's usual name as written ("German shepherd", "sports car")."""
    return _class(index).name


def label_words(index: SupportsIndex) -> tuple[str, ...]:
    """Lower-cased words and phrases that find the class, most specific first."""
    return _class(index).words


def label_wnid(index: SupportsIndex) -> str:
    """The class's WordNet 3.0 id ("n02088364"), the same for every ImageNet-1k model."""
    return _class(index).wnid


def softmax(logits: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Probabilities from logits along the last axis (one image or a batch)."""
    values = np.asarray(logits, dtype=np.float64)
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError("logits must have at least one value along the last axis")
    if not np.isfinite(values).all():
        raise ValueError("logits must be finite numbers (found NaN or infinity)")
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    result: npt.NDArray[np.float64] = shifted / shifted.sum(axis=-1, keepdims=True)
    return result


def words_for(probabilities: npt.ArrayLike, threshold: float, top_k: int) -> list[Label]:
    """The at most ``top_k`` most probable classes of one image with probability ≥ threshold.

    Most probable first; equal probabilities in index order, so the result is the
    same on every run.
    """
    values = np.asarray(probabilities, dtype=np.float64)
    if values.shape != (CLASS_COUNT,):
        raise ValueError(
            f"probabilities must be one image's {CLASS_COUNT} values, not shape {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ValueError("probabilities must be finite numbers (found NaN or infinity)")
    if values.min() < 0.0 or values.max() > 1.0:
        raise ValueError("probabilities must be from 0 to 1: pass logits through softmax first")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a probability from 0 to 1, not {threshold}")
    count = operator.index(top_k)
    if count < 1:
        raise ValueError(f"top_k must be at least 1, not {count}")
    order = np.argsort(-values, kind="stable")[:count]
    labels = []
    for index in order.tolist():
        probability = float(values[index])
        if probability < threshold:
            break
        found = _classes()[index]
        labels.append(Label(index, found.name, probability, found.words))
    return labels
