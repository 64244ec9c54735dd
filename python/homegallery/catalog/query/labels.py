"""Which ImageNet classes a word finds: ``dog`` → every dog breed, ``animal`` → ~400 classes.

A photo's labels are stored as their classes' WordNet ids (one row each in
``entry_values``), and the words that find a class (its names and more general
terms, from :mod:`homegallery.ml.labels`) are matched here, at query time, against
the 1000 classes: a label brings a dozen words, and storing them per photo made
the catalog build twice as slow. Both query engines ask this module, so they agree.
"""

from __future__ import annotations

import functools

from homegallery.ml.labels import CLASS_COUNT, label_wnid, label_words


@functools.cache
def _classes() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(WordNet id, its words casefolded) of every class, in the model's order."""
    return tuple(
        (label_wnid(index), tuple(word.casefold() for word in label_words(index)))
        for index in range(CLASS_COUNT)
    )


@functools.lru_cache(maxsize=4096)
def classes_matching(text: str, whole: bool) -> tuple[str, ...]:
    """Ids of the classes with a word equal to ``text`` (``whole``) or containing it.

    ``text`` is casefolded already, as every query value is. A whole class id
    (``n02088364``) matches its class too; part of one matches nothing, or ``n0``
    would find every labelled photo.
    """
    if not text:
        return ()
    found = []
    for wnid, words in _classes():
        if text == wnid or (text in words if whole else any(text in word for word in words)):
            found.append(wnid)
    return tuple(found)
