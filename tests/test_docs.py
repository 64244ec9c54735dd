"""The README against the code: every command, option and config key is documented,
and every config key the README names exists.

Commands and options come from the parser ``homegallery --help`` prints, config keys
from the config schema (``homegallery.config.Config``), so a new option or key fails
here until the README says what it does, and a key renamed in the code fails here
until the README follows.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from homegallery.cli.main import build_parser
from homegallery.config import Config

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
_FENCED = re.compile(r"^```\w*\n(.*?)^```", re.S | re.M)
# Code: fenced blocks, and the spans in backticks of the text between them; a key of
# list items may be written `sources[].dir`.
_CODE = [
    code.replace("[]", "")
    for code in _FENCED.findall(README) + re.findall(r"`([^`\n]+)`", _FENCED.sub("", README))
]


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def _options() -> list[tuple[str, str]]:
    """(command, option) for every option of every command (``-v/--verbose`` as one)."""
    found = []
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            strings = [s for s in action.option_strings if s not in ("-h", "--help")]
            if strings:
                found.append((" ".join(path) or "homegallery", "/".join(strings)))
    return found


@pytest.mark.parametrize(
    "command", [" ".join(path) for path, _ in _commands(build_parser()) if path]
)
def test_every_command_is_documented(command: str) -> None:
    assert f"homegallery {command}" in README


@pytest.mark.parametrize(("command", "option"), _options())
def test_every_option_is_documented(command: str, option: str) -> None:
    assert any(
        re.search(rf"(?<![\w-]){re.escape(string)}(?![\w-])", README)
        for string in option.split("/")
    ), f"`homegallery {command} {option}` is not in the README"


def _config_keys(
    struct: type, prefix: str = "", in_list: bool = False
) -> Iterator[tuple[str, bool]]:
    """(dotted key, whether it belongs to the items of a list) for every leaf key."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        path = f"{prefix}{field.encode_name}"
        kind = field.type
        items = isinstance(kind, msgspec.inspect.ListType)
        inner = kind.item_type if isinstance(kind, msgspec.inspect.ListType) else kind
        if isinstance(inner, msgspec.inspect.StructType):
            yield from _config_keys(inner.cls, path + ".", in_list or items)
        else:
            yield path, in_list


CONFIG_KEYS = dict(_config_keys(Config))
SECTIONS = {key.split(".")[0] for key in CONFIG_KEYS}


@pytest.mark.parametrize("key", sorted(CONFIG_KEYS))
def test_every_config_key_is_documented(key: str) -> None:
    """By its dotted name; a key of list items (a source, a user) by its own name too."""
    names = [key] + ([key.rsplit(".", 1)[1]] if CONFIG_KEYS[key] else [])
    assert any(
        re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", code)
        for code in _CODE
        for name in names
    ), f"config key `{key}` is not in the README"


def _dotted_names() -> set[str]:
    """Dotted names in the README's code that start with a config section."""
    found = set()
    for code in _CODE:
        for name in re.findall(r"(?<![\w./{-])([a-z][A-Za-z]*(?:\.[a-z][A-Za-z0-9]*)+)", code):
            if name.split(".")[0] in SECTIONS:
                found.add(name)
    return found


def test_the_readme_names_config_keys() -> None:
    assert len(_dotted_names()) >= 20


@pytest.mark.parametrize("name", sorted(_dotted_names()))
def test_every_config_key_in_the_readme_exists(name: str) -> None:
    sections = {key.rsplit(".", 1)[0] for key in CONFIG_KEYS}
    assert name in CONFIG_KEYS or name in sections, f"`{name}` is not a config key"
