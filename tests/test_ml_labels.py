"""ImageNet classes become names and search words; model outputs become labels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homegallery.ml import coco_labels, imagenet_labels
from homegallery.ml.labels import (
    CLASS_COUNT,
    label_name,
    label_wnid,
    label_words,
    softmax,
    words_for,
)

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "make_imagenet_labels.py"
DATA_NOUN = Path("/usr/share/wordnet/data.noun")

# Words that would make a search find nearly everything (WordNet's top levels).
TOO_GENERAL = {
    "entity",
    "physical entity",
    "abstraction",
    "object",
    "whole",
    "artifact",
    "organism",
    "living thing",
    "matter",
    "substance",
    "instrumentality",
    "commodity",
    "covering",
    "structure",
    "part",
    "relation",
}


def test_there_are_1000_classes_in_the_models_order() -> None:
    wnids = [label_wnid(index) for index in range(CLASS_COUNT)]
    assert len(set(wnids)) == CLASS_COUNT
    # ILSVRC2012's class order is its synset ids sorted.
    assert wnids == sorted(wnids)
    assert wnids[0] == "n01440764"
    assert wnids[-1] == "n15075141"
    listed = (ROOT / "scripts" / "imagenet_wnids.txt").read_text(encoding="ascii").split()
    assert wnids == listed


@pytest.mark.parametrize(
    ("index", "name", "wnid"),
    [
        (0, "tench", "n01440764"),
        (1, "goldfish", "n01443537"),
        (162, "beagle", "n02088364"),
        (207, "golden retriever", "n02099601"),
        (235, "German shepherd", "n02106662"),
        (281, "tabby", "n02123045"),
        (409, "analog clock", "n02708093"),
        (817, "sports car", "n04285008"),
        (954, "banana", "n07753592"),
        (967, "espresso", "n07920052"),
        (999, "toilet tissue", "n15075141"),
    ],
)
def test_well_known_indices_have_their_names(index: int, name: str, wnid: str) -> None:
    assert label_name(index) == name
    assert label_wnid(index) == wnid


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (162, {"beagle", "hound", "hunting dog", "dog", "canine", "mammal", "animal"}),
        (207, {"golden retriever", "retriever", "dog", "animal"}),
        (235, {"german shepherd", "alsatian", "dog", "german", "shepherd"}),
        (281, {"tabby", "tabby cat", "cat", "domestic cat", "animal"}),
        (1, {"goldfish", "fish", "animal"}),
        (817, {"sports car", "car", "motor vehicle", "vehicle"}),
        (967, {"espresso", "coffee", "beverage", "food"}),
        (985, {"daisy", "flower", "plant"}),
        (954, {"banana", "fruit", "food"}),
    ],
)
def test_a_class_is_found_by_its_more_general_words(index: int, expected: set[str]) -> None:
    assert expected <= set(label_words(index))


def test_no_class_is_found_by_an_over_general_or_misleading_word() -> None:
    for index in range(CLASS_COUNT):
        assert not TOO_GENERAL & set(label_words(index)), label_name(index)
    # WordNet calls a wheeled vehicle a container: a search for one must not list cars.
    assert "container" not in label_words(817)
    assert "container" in label_words(504)  # coffee mug


def test_words_are_lower_case_distinct_and_most_specific_first() -> None:
    for index in range(CLASS_COUNT):
        words = label_words(index)
        assert words, label_name(index)
        assert words[0] == label_name(index).lower()
        assert len(set(words)) == len(words)
        assert all(word == word.lower() and word.strip() == word and word for word in words)
    beagle = label_words(162)
    assert beagle.index("hound") < beagle.index("dog") < beagle.index("animal")


def test_scientific_names_are_left_out_but_names_that_look_alike_stay() -> None:
    assert "tinca tinca" not in label_words(0)
    assert "carassius auratus" not in label_words(1)
    assert "constrictor constrictor" not in label_words(61)
    assert "boa constrictor" in label_words(61)  # "genus Boa" exists, lower-case "boa" is no genus
    assert "lhasa apso" in label_words(204)


def test_a_bad_index_is_refused() -> None:
    for bad in (CLASS_COUNT, -1):
        with pytest.raises(IndexError, match="0 to 999"):
            label_name(bad)
    with pytest.raises(TypeError):
        label_words(1.0)  # type: ignore[arg-type]
    assert label_name(np.int64(162)) == "beagle"


def test_softmax_gives_probabilities_for_one_image_or_a_batch() -> None:
    logits = np.array([1000.0, 1001.0, 999.0])  # naive exp would overflow
    probabilities = softmax(logits)
    assert probabilities.sum() == pytest.approx(1.0)
    assert probabilities.argmax() == 1
    expected = np.exp([-1.0, 0.0, -2.0]) / np.exp([-1.0, 0.0, -2.0]).sum()
    np.testing.assert_allclose(probabilities, expected)
    batch = softmax(np.stack([logits, np.zeros(3)]).astype(np.float32))
    np.testing.assert_allclose(batch.sum(axis=-1), [1.0, 1.0])
    np.testing.assert_allclose(batch[1], [1 / 3] * 3)
    for bad in (np.array([1.0, np.nan]), np.array([np.inf, 0.0]), np.zeros(0), np.float64(1)):
        with pytest.raises(ValueError, match="logits"):
            softmax(bad)


def test_words_for_lists_the_likely_classes_with_their_words() -> None:
    logits = np.zeros(CLASS_COUNT, dtype=np.float32)
    logits[[162, 167, 817]] = [9.0, 8.0, 3.0]  # beagle, English foxhound, sports car
    probabilities = softmax(logits)
    labels = words_for(probabilities, threshold=0.1, top_k=5)
    assert [label.index for label in labels] == [162, 167]
    beagle = labels[0]
    assert beagle.name == "beagle"
    assert beagle.probability == pytest.approx(float(probabilities[162]))
    assert {"dog", "animal"} <= set(beagle.words)
    assert labels[0].probability > labels[1].probability
    assert [label.index for label in words_for(probabilities, 0.0, 3)] == [162, 167, 817]
    assert [label.index for label in words_for(probabilities, 0.0, 1)] == [162]
    assert words_for(probabilities, threshold=0.99, top_k=5) == []


def test_words_for_orders_equal_probabilities_by_index() -> None:
    uniform = np.full(CLASS_COUNT, 1 / CLASS_COUNT)
    assert [label.index for label in words_for(uniform, 0.0, 4)] == [0, 1, 2, 3]


def test_words_for_refuses_what_is_not_one_images_probabilities() -> None:
    probabilities = np.full(CLASS_COUNT, 1 / CLASS_COUNT)
    with pytest.raises(ValueError, match="1000 values"):
        words_for(probabilities[:10], 0.5, 5)
    with pytest.raises(ValueError, match="1000 values"):
        words_for(np.stack([probabilities, probabilities]), 0.5, 5)
    with pytest.raises(ValueError, match="softmax"):
        words_for(np.linspace(-3.0, 3.0, CLASS_COUNT), 0.5, 5)  # logits, not probabilities
    nan = probabilities.copy()
    nan[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        words_for(nan, 0.5, 5)
    with pytest.raises(ValueError, match="threshold"):
        words_for(probabilities, 1.5, 5)
    with pytest.raises(ValueError, match="top_k"):
        words_for(probabilities, 0.5, 0)


def run_generator(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_generated_table_is_what_the_generator_makes_from_wordnet(tmp_path: Path) -> None:
    if not DATA_NOUN.is_file():
        message = f"{DATA_NOUN} missing: install WordNet 3.0 (scripts/bootstrap.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    output = tmp_path / "imagenet_labels.py"
    coco_output = tmp_path / "coco_labels.py"
    result = run_generator("--output", output, "--coco-output", coco_output)
    assert result.returncode == 0, result.stderr
    assert imagenet_labels.DATA_NOUN_SHA256 in output.read_text(encoding="utf-8"), (
        "this data.noun is not the one the table was made from"
    )
    for made, module in ((output, imagenet_labels), (coco_output, coco_labels)):
        assert made.read_text(encoding="utf-8") == Path(str(module.__file__)).read_text("utf-8"), (
            f"{made.name} differs from the generator's output: run scripts/make_imagenet_labels.py"
        )


def test_the_generator_refuses_another_wordnet_version(tmp_path: Path) -> None:
    (tmp_path / "data.noun").write_text(
        "  1 WordNet 2.1 Copyright 2005 by Princeton University.  All rights reserved.  \n"
        "00001740 03 n 01 entity 0 000 | that which is perceived  \n",
        encoding="utf-8",
    )
    result = run_generator(
        "--wordnet", tmp_path, "--output", tmp_path / "labels.py",
        "--coco-output", tmp_path / "coco.py",
    )  # fmt: skip
    assert result.returncode == 1
    assert "WordNet 2.1" in result.stderr and "3.0" in result.stderr
    assert not (tmp_path / "labels.py").exists()
    missing = run_generator(
        "--wordnet", tmp_path / "absent", "--output", tmp_path / "labels.py",
        "--coco-output", tmp_path / "coco.py",
    )  # fmt: skip
    assert missing.returncode == 1
    assert "wordnet-base" in missing.stderr


@pytest.mark.parametrize(
    ("name", "general", "not_general"),
    [
        ("horse", {"equine", "mammal", "animal"}, {"vehicle"}),
        ("car", {"automobile", "motor vehicle", "vehicle"}, {"animal"}),
        ("kite", {"plaything"}, {"bird", "animal"}),  # the toy, not the bird of prey
        ("mouse", {"computer mouse", "device"}, {"rodent", "animal"}),
        ("tie", {"necktie"}, {"equality"}),
    ],
)
def test_a_coco_class_is_found_by_its_more_general_words(
    name: str, general: set[str], not_general: set[str]
) -> None:
    from homegallery.ml.objects import COCO_CLASSES, object_words

    words = set(object_words()[COCO_CLASSES.index(name)])
    assert name in words and general <= words
    assert not (not_general & words)
    assert not (TOO_GENERAL & words)
