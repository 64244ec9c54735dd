"""Writes ``python/homegallery/ml/imagenet_labels.py`` and ``coco_labels.py``: each
ImageNet class's and each COCO object class's name and search words.

The image embedding model labels photos with ImageNet-1k classes, and a search for
``dog`` or ``vehicle`` should find a beagle or a sports car although no class has that
name. Each class is a WordNet 3.0 noun synset (its id ``n01440764`` is ``n`` and the
synset's offset in WordNet's ``data.noun``), so its more general words are its
hypernyms. This script reads ``data.noun`` directly (the format of wndb(5WN): one
synset a line, its offset first) and writes, for each class in the model's
index order (``scripts/imagenet_wnids.txt``: the ILSVRC2012 synsets sorted by id):

- a display name: the synset's first lemma, as written ("German shepherd");
- its words, lower-cased, most specific first: every lemma of the class itself, then
  the first lemma of each hypernym up the tree (breadth first, instance hypernyms
  too), then each single word of the multi-word phrases among them ("german",
  "shepherd"), so a whole-word match finds what a phrase search finds.

Left out, because they would make a search find far too much or the wrong things:

- :data:`GENERAL`, hypernyms too general to search by ("entity", "object", "whole",
  "artifact", "organism", "matter", "covering", "structure", ...); the walk up the tree
  stops there. What stays ends at words people search by: "animal", "bird", "fish",
  "mammal", "dog", "plant", "food", "vehicle", "container", "device", "clothing",
  "furniture", "building", "person".
- :data:`SKIPPED_LINKS`, two hypernym links a search should not follow (a wheeled
  vehicle is a "container", alcohol a "drug of abuse");
- the other lemmas of hypernyms: WordNet lists many senses' synonyms there ("brute"
  for animal, "match" and "peer" for a groom's "associate", "garden truck" for
  produce), while the first lemma is the common name;
- scientific names ("Tinca tinca", "Canis familiaris"): a class lemma of two or more
  words whose capitalised first word names a genus WordNet knows ("genus Tinca") or
  is repeated ("Constrictor constrictor");
- in the split words: "of", "and", "the" and the like, single letters, and the
  general words above ("cloth covering" is not split off a "covering").

The object detector's 80 COCO classes get the same walk up WordNet from the synset
that names what COCO means (``scripts/coco_wnids.txt``, chosen by hand: "kite" the
toy, "mouse" the computer's), so a detected horse is found by ``animal`` too; their
words start with COCO's own name ("sports ball"), which is what the catalog stores.

Requires WordNet 3.0 (on Debian, package ``wordnet-base``). Run it and commit the
result; ``tests/test_ml_labels.py`` runs it again and compares.

    .venv/bin/python scripts/make_imagenet_labels.py [--wordnet DIR] [--output FILE]
        [--coco-output FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WNIDS = ROOT / "scripts" / "imagenet_wnids.txt"
OUTPUT = ROOT / "python" / "homegallery" / "ml" / "imagenet_labels.py"
COCO_WNIDS = ROOT / "scripts" / "coco_wnids.txt"
COCO_OUTPUT = ROOT / "python" / "homegallery" / "ml" / "coco_labels.py"
COCO_CLASSES = 80
WORDNET = Path("/usr/share/wordnet")
CLASSES = 1000

# Hypernyms where the walk up stops (left out, and nothing above them is reached
# through them): the offset and the first lemma, which is checked against WordNet.
GENERAL: tuple[tuple[str, str], ...] = (
    ("00001740", "entity"),
    ("00001930", "physical_entity"),
    ("00002137", "abstraction"),
    ("00002684", "object"),
    ("00003553", "whole"),
    ("00004258", "living_thing"),
    ("00004475", "organism"),
    ("00007347", "causal_agent"),
    ("00019128", "natural_object"),
    ("00019613", "substance"),
    ("00020090", "substance"),
    ("00020827", "matter"),
    ("00021939", "artifact"),
    ("00022903", "article"),
    ("00031921", "relation"),
    ("03076708", "commodity"),
    ("03093574", "consumer_goods"),
    ("03122748", "covering"),
    ("03257877", "durables"),
    ("03575240", "instrumentality"),
    ("03892891", "part"),
    ("03932203", "piece"),
    ("04341686", "structure"),
    ("04377057", "system"),
    ("11675842", "reproductive_structure"),
    ("13809207", "part"),
    ("14778436", "agent"),
    ("14939900", "fluid"),
    ("15046900", "solid"),
)

# Hypernym links not followed: true in WordNet's sense, wrong for a search ("container"
# would find every car, "drug" every wine). The child's and the parent's offset and
# first lemma, checked against WordNet.
SKIPPED_LINKS: tuple[tuple[str, str, str, str], ...] = (
    ("04576211", "wheeled_vehicle", "03094503", "container"),
    ("07884567", "alcohol", "03248958", "drug_of_abuse"),
)

# Words of a phrase that are no search word on their own.
JOINING_WORDS = frozenset({"a", "an", "and", "de", "des", "for", "in", "of", "on", "the", "to"})

HYPERNYM_POINTERS = frozenset({"@", "@i"})
SYNSET_LINE = re.compile(r"^\d{8} ")
VERSION_LINE = re.compile(r"\bWordNet (\d+\.\d+) Copyright\b")


@dataclass(frozen=True, slots=True)
class Synset:
    lemmas: tuple[str, ...]
    """Lemmas as WordNet writes them, underscores made spaces."""
    hypernyms: tuple[str, ...]
    """Offsets of hypernyms and instance hypernyms, in the file's order."""


class WordNetError(Exception):
    """data.noun is missing, of another version, or not in the format expected."""


def parse_synset(line: str) -> tuple[str, Synset]:
    """One data.noun line: ``offset lex_filenum ss_type w_cnt (word lex_id)… p_cnt ptr…``."""
    fields = line.split(" | ", 1)[0].split()
    offset, word_count = fields[0], int(fields[3], 16)
    lemmas = tuple(fields[4 + 2 * i].replace("_", " ") for i in range(word_count))
    position = 4 + 2 * word_count
    pointer_count = int(fields[position])
    hypernyms = []
    for start in range(position + 1, position + 1 + 4 * pointer_count, 4):
        symbol, target, part_of_speech = fields[start : start + 3]
        if symbol in HYPERNYM_POINTERS and part_of_speech == "n":
            hypernyms.append(target)
    return offset, Synset(lemmas, tuple(hypernyms))


def read_wordnet(data_noun: Path) -> tuple[str, dict[str, Synset]]:
    """WordNet's version (from the licence header) and every noun synset by offset."""
    if not data_noun.is_file():
        raise WordNetError(f"{data_noun} not found: install WordNet 3.0 (Debian: wordnet-base)")
    version = None
    synsets = {}
    with data_noun.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not SYNSET_LINE.match(line):
                found = VERSION_LINE.search(line) if line.startswith("  ") else None
                if found and version is None:
                    version = found.group(1)
                continue
            try:
                offset, synset = parse_synset(line)
            except (IndexError, ValueError) as error:
                raise WordNetError(f"{data_noun}:{number}: not a synset line ({error})") from None
            synsets[offset] = synset
    if version != "3.0":
        raise WordNetError(f"{data_noun} is WordNet {version}; ImageNet's ids are WordNet 3.0's")
    return version, synsets


def read_wnids(path: Path) -> list[str]:
    wnids = path.read_text(encoding="ascii").split()
    if len(wnids) != CLASSES or len(set(wnids)) != CLASSES or wnids != sorted(wnids):
        raise ValueError(f"{path}: expected {CLASSES} distinct ImageNet ids in sorted order")
    if not all(re.fullmatch(r"n\d{8}", wnid) for wnid in wnids):
        raise ValueError(f"{path}: every line must be an id such as n01440764")
    return wnids


@dataclass(frozen=True, slots=True)
class Pruning:
    general: frozenset[str]
    """Offsets where the walk up stops."""
    skipped: frozenset[tuple[str, str]]
    """(child, parent) links the walk does not follow."""
    genera: frozenset[str]
    """Capitalised genus names ("Tinca" from "genus Tinca")."""
    unsplit: frozenset[str]
    """Words a phrase is not split into: joining words and the general synsets' lemmas."""


def ancestors(offset: str, synsets: dict[str, Synset], pruning: Pruning) -> list[str]:
    """The hypernyms of a synset, nearest first (breadth first), without general ones."""
    found: list[str] = []
    queue = [(offset, parent) for parent in synsets[offset].hypernyms]
    while queue:
        child, current = queue.pop(0)
        if current in pruning.general or (child, current) in pruning.skipped:
            continue
        if current not in found:
            found.append(current)
            queue.extend((current, parent) for parent in synsets[current].hypernyms)
    return found


def is_scientific_name(lemma: str, genera: frozenset[str]) -> bool:
    """A capitalised genus and more, "Tinca tinca" or "Ursus Maritimus" ("boa constrictor" stays)."""
    parts = lemma.split(" ")
    if len(parts) < 2 or not parts[0][:1].isupper():
        return False
    return parts[0] in genera or parts[0].lower() == parts[1].lower()


def class_words(offset: str, synsets: dict[str, Synset], pruning: Pruning) -> tuple[str, ...]:
    phrases = [
        lemma for lemma in synsets[offset].lemmas if not is_scientific_name(lemma, pruning.genera)
    ]
    phrases += [synsets[hypernym].lemmas[0] for hypernym in ancestors(offset, synsets, pruning)]
    words = list(dict.fromkeys(phrase.lower() for phrase in phrases))
    for phrase in list(words):
        words += [
            part
            for part in phrase.split(" ")
            if " " in phrase and len(part) > 1 and part not in pruning.unsplit
        ]
    return tuple(dict.fromkeys(words))


def read_coco(path: Path) -> list[tuple[str, str]]:
    """(COCO name, WordNet offset) of each class, in the detector's order."""
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, offset = line.rpartition(" ")
            rows.append((name, offset))
    if len(rows) != COCO_CLASSES or not all(re.fullmatch(r"\d{8}", o) for _, o in rows):
        raise ValueError(f"{path}: expected {COCO_CLASSES} lines of a name and an 8-digit offset")
    return rows


_IMAGENET_DOC = (
    "ImageNet-1k classes in the model's index order: id, display name, search words.",
    "One line a class: id|display name|word|word|... The words are the class's own",
)
_COCO_DOC = (
    "COCO's 80 object classes in the detector's order: WordNet id, COCO name, words.",
    "One line a class: id|COCO name|word|word|... The words are COCO's name, the synset's",
)


def render(
    version: str,
    checksum: str,
    rows: list[tuple[str, str, tuple[str, ...]]],
    doc: tuple[str, str] = _IMAGENET_DOC,
) -> str:
    """A module holding one string: importing it costs no more than reading the text."""
    lines = [
        f'"""{doc[0]}',
        "",
        "Generated by scripts/make_imagenet_labels.py from WordNet's data.noun; do not edit.",
        doc[1],
        "lemmas, the first lemma of each hypernym below the general ones the script lists,",
        "then the single words of multi-word phrases; lower-cased, most specific first.",
        '"""',
        "",
        f'WORDNET_VERSION = "{version}"',
        f'DATA_NOUN_SHA256 = "{checksum}"',
        "",
        'TABLE = """\\',
    ]
    lines.extend("|".join((wnid, name, *words)) for wnid, name, words in rows)
    lines.append('"""')
    return "\n".join(lines) + "\n"


def _check_text(text: str) -> str:
    """Lemmas are plain printable text; nothing that could end the string or a field."""
    if not text.isprintable() or any(char in text for char in '|"\\'):
        raise ValueError(f"unexpected character in WordNet lemma {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--wordnet", type=Path, default=WORDNET, help="folder with data.noun")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="module to write")
    parser.add_argument(
        "--coco-output", type=Path, default=COCO_OUTPUT, help="COCO classes' module to write"
    )
    arguments = parser.parse_args(argv)
    data_noun = arguments.wordnet / "data.noun"
    try:
        version, synsets = read_wordnet(data_noun)
    except WordNetError as error:
        print(f"make_imagenet_labels: {error}", file=sys.stderr)
        return 1
    checksum = hashlib.sha256(data_noun.read_bytes()).hexdigest()
    named = [*GENERAL, *((child, name) for child, name, _, _ in SKIPPED_LINKS)]
    named += [(parent, name) for _, _, parent, name in SKIPPED_LINKS]
    for offset, first_lemma in named:
        if offset not in synsets or synsets[offset].lemmas[0] != first_lemma.replace("_", " "):
            raise ValueError(f"synset {offset} is not {first_lemma!r} in {data_noun}")
    pruning = Pruning(
        general=frozenset(offset for offset, _ in GENERAL),
        skipped=frozenset((child, parent) for child, _, parent, _ in SKIPPED_LINKS),
        genera=frozenset(
            lemma.removeprefix("genus ")
            for synset in synsets.values()
            for lemma in synset.lemmas
            if lemma.startswith("genus ") and lemma[6:7].isupper()
        ),
        unsplit=JOINING_WORDS
        | {lemma.lower() for offset, _ in GENERAL for lemma in synsets[offset].lemmas},
    )
    rows = []
    for wnid in read_wnids(WNIDS):
        offset = wnid[1:]
        if offset not in synsets:
            raise ValueError(f"{wnid} is not a noun synset in {data_noun}")
        words = class_words(offset, synsets, pruning)
        name = _check_text(synsets[offset].lemmas[0])
        rows.append((wnid, name, tuple(map(_check_text, words))))
    coco_rows = []
    for coco_name, offset in read_coco(COCO_WNIDS):
        if offset not in synsets:
            raise ValueError(f"{coco_name}: {offset} is not a noun synset in {data_noun}")
        words = (coco_name, *class_words(offset, synsets, pruning))
        coco_rows.append((f"n{offset}", coco_name, tuple(map(_check_text, dict.fromkeys(words)))))
    for output, text, count in (
        (arguments.output, render(version, checksum, rows), len(rows)),
        (arguments.coco_output, render(version, checksum, coco_rows, _COCO_DOC), len(coco_rows)),
    ):
        temporary = output.with_name(output.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(output)
        print(f"{output}: {count} classes (WordNet {version}, data.noun sha256 {checksum})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
