"""Which classes a word finds: ``dog`` → every dog breed, ``animal`` → ~400 classes.

A photo's labels are stored as their classes' WordNet ids (one row each in
``entry_values``), and the words that find a class (its names and more general
terms, from :mod:`homegallery.ml.labels`) are matched here, at query time, against
the 1000 classes: a label brings a dozen words, and storing them per photo made
the catalog build twice as slow. Objects are stored by their COCO name, and a bare
word reaches them the same way through the 80 classes' words (``animal`` → horse,
dog, …; :func:`homegallery.ml.objects.object_words`). The query checker asks this
module.
"""

from __future__ import annotations

import functools
from typing import Literal

from homegallery.catalog.fold import fold
from homegallery.catalog.query.fields import MATCH_PART, MATCH_WHOLE, MATCH_WORD
from homegallery.ml.labels import CLASS_COUNT, label_wnid, label_words
from homegallery.ml.objects import COCO_CLASSES, object_words

Kind = Literal["label", "object"]


@functools.cache
def _classes(kind: Kind = "label") -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(the class as stored, its words casefolded as query words are) of every class,
    in order: a label's WordNet id, an object's COCO name."""
    if kind == "object":
        return tuple(
            (name, tuple(fold(word) for word in words))
            for name, words in zip(COCO_CLASSES, object_words(), strict=True)
        )
    return tuple(
        (label_wnid(index), tuple(fold(word) for word in label_words(index)))
        for index in range(CLASS_COUNT)
    )


@functools.lru_cache(maxsize=4096)
def classes_matching(text: str, whole: bool, kind: Kind = "label") -> tuple[str, ...]:
    """Ids of the classes with a word equal to ``text`` (``whole``) or containing it.

    ``text`` is casefolded already, as every query value is. A whole class id
    (``n02088364``) matches its class too; part of one matches nothing, or ``n0``
    would find every labelled photo.
    """
    if not text:
        return ()
    found = []
    for wnid, words in _classes(kind):
        if text == wnid or (text in words if whole else any(text in word for word in words)):
            found.append(wnid)
    return tuple(found)


# How much a label counts for a word that names a more general term of its class: a
# class's words list its own names, then its WordNet hypernyms from the nearest up, so
# the word's place in that list is its distance (``beagle`` 0, ``dog`` 3, ``animal``
# 10); each place costs ``1 - HYPERNYM_DECAY``, down to ``HYPERNYM_FLOOR``.
HYPERNYM_DECAY = 0.85
HYPERNYM_FLOOR = 0.15


@functools.lru_cache(maxsize=4096)
def class_weights(text: str, kind: Kind = "label") -> tuple[float, ...]:
    """For each class of ``classes_matching(text, whole=False)``, in that order, how well
    ``text`` names it: the match (a whole word of the class, a word inside one of its
    phrases, or a part of a word: ``MATCH_WHOLE``/``MATCH_WORD``/``MATCH_PART``) times
    the hypernym distance's decay, the best over the class's words."""
    wanted = set(classes_matching(text, whole=False, kind=kind))
    weights = []
    for wnid, words in _classes(kind):
        if wnid not in wanted:
            continue
        best = MATCH_WHOLE if text == wnid else 0.0
        for distance, word in enumerate(words):
            if text == word:
                match = MATCH_WHOLE
            elif text in word.split():
                match = MATCH_WORD
            elif text in word:
                match = MATCH_PART
            else:
                continue
            best = max(best, match * max(HYPERNYM_FLOOR, HYPERNYM_DECAY**distance))
        weights.append(best)
    return tuple(weights)
