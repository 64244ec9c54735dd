"""Bring-your-own CLIP: the tokenizer, the image vectors of the embeddings step, the build,
and ``text:`` in the command, the Python API and the HTTP API.

The models are CLIP-shaped and tiny, made here with ``onnx.helper``: the image half
averages each colour channel and maps the three means by a fixed matrix into four
values; the text half looks each token up in a table and averages. Only the tokens
``red``, ``green`` and ``blue`` have vectors in the table (along the channel's axis),
so a text's vector points along its colour words and which photos rank first follows
from the photos' colours. The tokenizer file is made here too, in the published
format (a gzip of a version line and merges).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient
from onnx import TensorProto, helper, numpy_helper

from embedding_helpers import colour_photo
from homegallery.catalog.build import build_from_config
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.schema import open_reader
from homegallery.cli.main import main
from homegallery.config import ConfigError, load_config
from homegallery.extract.schema import embedding_kind, read_embedding
from homegallery.gallery import Gallery
from homegallery.importer import import_update
from homegallery.ml.clip import model_tag
from homegallery.ml.clip_tokenizer import ClipTokenizer, TokenizerError, byte_symbols
from homegallery.server import create_app
from homegallery.storage import RECORD_KIND, Storage

INPUT_SIZE = 32
CONTEXT = 8
# merges that make the three colour words whole tokens (their ids: 512 + the line's place)
MERGES = ["g r", "gr e", "gre e", "gree n</w>", "r e", "re d</w>", "b l", "bl u", "blu e</w>"]
COLOUR_TOKENS = {"red": 512 + 5, "green": 512 + 3, "blue": 512 + 8}
# channel means → image vector: each channel along its own axis, a little of each in the 4th
IMAGE_MAP = np.array([[1, 0, 0, 0.1], [0, 1, 0, 0.1], [0, 0, 1, 0.1]], np.float32)


def tokenizer_file(path: Path) -> Path:
    path.write_bytes(gzip.compress(("#version: 0.2\n" + "\n".join(MERGES) + "\n").encode()))
    return path


def image_model(path: Path, mapping: np.ndarray = IMAGE_MAP) -> Path:
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["pixel_values"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["means"]),
            helper.make_node("MatMul", ["means", "map"], ["image_embeds"]),
        ],
        "clip-image",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 32, 32])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(mapping.astype(np.float32), "map")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    path.write_bytes(model.SerializeToString())
    return path


def text_model(path: Path, vocabulary: int) -> Path:
    table = np.zeros((vocabulary, 4), np.float32)
    for axis, token in enumerate(COLOUR_TOKENS.values()):
        table[token, axis] = 1.0
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),
            helper.make_node("ReduceMean", ["tokens"], ["text_embeds"], axes=[1], keepdims=0),
        ],
        "clip-text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["n", CONTEXT])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    path.write_bytes(model.SerializeToString())
    return path


def test_the_tokenizer_merges_by_rank_and_frames_the_text(tmp_path: Path) -> None:
    tokens = ClipTokenizer.from_file(tokenizer_file(tmp_path / "bpe.txt.gz"))
    assert tokens.size == 512 + len(MERGES) + 2
    assert tokens.encode("Red") == [COLOUR_TOKENS["red"]]
    # an unknown word stays in byte symbols, the last one ending the word
    assert tokens.encode("rex") == [
        tokens.ids["re"],
        tokens.ids[byte_symbols()[ord("x")] + "</w>"],
    ]
    assert tokens.encode("green, &amp; blue!") == [
        COLOUR_TOKENS["green"],
        tokens.ids[",</w>"],
        tokens.ids["&</w>"],
        COLOUR_TOKENS["blue"],
        tokens.ids["!</w>"],
    ]
    framed = tokens.model_input("red green blue red green blue red", CONTEXT)
    assert len(framed) == CONTEXT and framed[0] == tokens.start and framed[-1] == tokens.end
    assert tokens.model_input("red", CONTEXT) == [
        tokens.start, COLOUR_TOKENS["red"], tokens.end, 0, 0, 0, 0, 0,
    ]  # fmt: skip
    # a space byte has a symbol of its own beyond Latin-1 (U+0100 and on)
    assert byte_symbols()[ord(" ")] == chr(0x120) and byte_symbols()[ord("a")] == "a"
    (tmp_path / "bad.txt").write_text("no version line\na b\n")
    with pytest.raises(TokenizerError, match="not a CLIP merges file"):
        ClipTokenizer.from_file(tmp_path / "bad.txt")


@pytest.fixture(scope="module")
def gallery_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clip")
    photos = root / "photos"
    for number, colour in enumerate(["red", "green", "blue", "red", "green"]):
        colour_photo(photos / f"{number}-{colour}.jpg", colour, width=400, height=300, seed=number)
    tokens = tokenizer_file(root / "bpe_simple_vocab.txt.gz")
    vocabulary = ClipTokenizer.from_file(tokens).size
    config = root / "gallery.yml"
    config.write_text(
        f"sources:\n  - dir: {json.dumps(str(photos))}\n"
        f"storage:\n  dir: {json.dumps(str(root / 'storage'))}\n"
        f"database:\n  file: {json.dumps(str(root / 'catalog.db'))}\n"
        "extractor:\n  models:\n    embeddings: 'off'\n    faceDetection: 'off'\n"
        "    faceRecognition: 'off'\n    workers: 1\n    clip:\n"
        f"      image: {json.dumps(str(image_model(root / 'image.onnx')))}\n"
        f"      text: {json.dumps(str(text_model(root / 'text.onnx', vocabulary)))}\n"
        f"      tokenizer: {json.dumps(str(tokens))}\n"
        f"      inputSize: {INPUT_SIZE}\n      mean: [0, 0, 0]\n      std: [1, 1, 1]\n"
        f"      contextLength: {CONTEXT}\n"
    )
    import_update(load_config(config))
    return config


def colours(gallery: Gallery, query: str) -> list[str]:
    return [Path(entry.files[0].path).stem.split("-")[1] for entry in gallery.search(query)]


def test_an_import_stores_clip_vectors_and_text_ranks_by_them(gallery_config: Path) -> None:
    config = load_config(gallery_config)
    tag = model_tag(Path(config.extractor.models.clip.image))
    storage = Storage(config.storage.path)
    gallery = Gallery(config)
    try:
        ids = [entry.id for entry in gallery.search("")]
        vectors = [read_embedding(storage, media_id, tag) for media_id in ids]
        assert all(v is not None and v.shape == (4,) for v in vectors)
        assert colours(gallery, 'text:"a red photo"')[:2] == ["red", "red"]
        assert colours(gallery, "text:green")[:2] == ["green", "green"]
        assert colours(gallery, "text:blue")[0] == "blue"
        # with other keys: only what they allow, still by cosine
        assert colours(gallery, "text:green file:0-") == ["red"]
        assert len(gallery.search("text:blue not file:2-")) == 4
        # each distinct text runs the text model once: pages and counts reuse it
        assert gallery.text_encoder is not None
        runs = gallery.text_encoder.runs
        gallery.search("text:green", limit=1, offset=1)
        gallery.count("text:green")
        assert gallery.text_encoder.runs == runs
        assert len(gallery.search("exists text")) == 5
        # an explicit order wins
        dated = [e.id for e in gallery.search("text:green order by date")]
        assert dated == [e.id for e in gallery.search("order by date")]
    finally:
        gallery.close()
    reader = open_reader(config.database.path)
    try:
        (rows,) = reader.execute(
            "SELECT count(*) FROM clip_vectors WHERE model = ?", (tag,)
        ).fetchone()
    finally:
        reader.close()
    assert rows == 5


def test_the_command_and_the_api_rank_alike(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    gallery = Gallery(config)
    try:
        expected = [entry.id for entry in gallery.search("text:blue")]
    finally:
        gallery.close()
    capsys.readouterr()
    assert main(["search", "--config", str(gallery_config), "--json", "text:blue"]) == 0
    assert [entry["id"] for entry in json.loads(capsys.readouterr().out)] == expected
    with TestClient(create_app(config)) as client:
        pages = [
            client.get("/api/entries", params={"q": "text:blue", "limit": 2, "offset": offset})
            for offset in (0, 2, 4)
        ]
        bad = client.get("/api/entries", params={"q": "text:''"})
    assert [e["id"] for page in pages for e in page.json()["entries"]] == expected
    assert bad.status_code == 400


def test_a_new_model_file_embeds_every_photo_anew(gallery_config: Path, tmp_path: Path) -> None:
    config = load_config(gallery_config)
    old_tag = model_tag(Path(config.extractor.models.clip.image))
    # another export: the map scaled (the cosines stay, the file's hash does not)
    other = image_model(gallery_config.parent / "image-2.onnx", IMAGE_MAP * 2)
    changed = tmp_path / "gallery.yml"
    changed.write_text(gallery_config.read_text().replace("image.onnx", "image-2.onnx"))
    new_config = load_config(changed)
    new_tag = model_tag(other)
    assert new_tag != old_tag
    import_update(new_config)
    storage = Storage(new_config.storage.path)
    gallery = Gallery(new_config)
    try:
        ids = [entry.id for entry in gallery.search("")]
        assert all(storage.exists(i, embedding_kind(new_tag)) for i in ids)
        assert colours(gallery, "text:red")[:2] == ["red", "red"]
    finally:
        gallery.close()
    reader = open_reader(new_config.database.path)
    try:
        models = {row[0] for row in reader.execute("SELECT model FROM clip_vectors")}
    finally:
        reader.close()
    assert models == {new_tag}
    # back to the first model: its stored vectors are there, so none is made again and
    # no id's record (which holds them) is written
    assert all(storage.exists(i, embedding_kind(old_tag)) for i in ids)
    first = [storage.path(i, RECORD_KIND) for i in ids]
    before = [path.stat().st_mtime_ns for path in first]
    import_update(config)
    assert [path.stat().st_mtime_ns for path in first] == before
    reader = open_reader(config.database.path)
    try:
        models = {row[0] for row in reader.execute("SELECT model FROM clip_vectors")}
    finally:
        reader.close()
    assert models == {old_tag}


def test_text_without_a_clip_model_names_the_config_keys(tmp_path: Path) -> None:
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        f"storage:\n  dir: {json.dumps(str(tmp_path / 's'))}\n"
        f"database:\n  file: {json.dumps(str(tmp_path / 'c.db'))}\n"
    )
    config = load_config(config_file)
    build_from_config(config)
    gallery = Gallery(config)
    try:
        with pytest.raises(QueryError, match=r"extractor\.models\.clip") as error:
            gallery.search('year:2020 text:"a dog"')
        assert error.value.column == 16
    finally:
        gallery.close()
    with TestClient(create_app(config)) as client:
        answer = client.get("/api/entries", params={"q": "text:dog"})
    assert answer.status_code == 400 and "extractor.models.clip" in answer.text


def test_a_half_configured_clip_model_is_refused(tmp_path: Path) -> None:
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("extractor:\n  models:\n    clip:\n      image: a.onnx\n")
    with pytest.raises(ConfigError, match="text, tokenizer missing"):
        load_config(config_file)


def test_vectors_are_unit_length(gallery_config: Path) -> None:
    config = load_config(gallery_config)
    tag = model_tag(Path(config.extractor.models.clip.image))
    storage = Storage(config.storage.path)
    gallery = Gallery(config)
    try:
        for entry in gallery.search(""):
            vector = read_embedding(storage, entry.id, tag)
            assert vector is not None
            assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    finally:
        gallery.close()
