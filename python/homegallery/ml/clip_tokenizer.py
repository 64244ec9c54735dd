"""CLIP's byte-pair tokenizer, read from the merges file a CLIP model is published with.

A CLIP text model takes token ids, not text, and the ids must be the ones it was
trained with: OpenCLIP and OpenAI's CLIP read them from ``bpe_simple_vocab_16e6.txt.gz``
(a gzip or plain text file: a version line, then one merge a line, ``a b``). The ids
follow from that file alone: the 256 byte symbols, the same with ``</w>`` (end of a
word), one token per merge in the file's order, then ``<|startoftext|>`` and
``<|endoftext|>``. A text is cleaned (HTML entities, runs of white space), lower-cased,
split into words, numbers and punctuation, each piece's UTF-8 bytes turned into byte
symbols and merged pair by pair (the earliest merge in the file first) until no merge
applies. The model's input is ``<|startoftext|>``, the tokens, ``<|endoftext|>``, cut
to the context length (the end token kept) and padded with 0.

Written here in plain Python so that a text query needs no tokenizer package; a query
is a few words, tokenized once per distinct text.
"""

from __future__ import annotations

import functools
import gzip
import html
import re
from pathlib import Path

from homegallery.errors import HomeGalleryError

START = "<|startoftext|>"
END = "<|endoftext|>"
_END_OF_WORD = "</w>"
# OpenCLIP reads this many merges from its file (its vocabulary is 49,408 tokens).
MAX_MERGES = 49152 - 256 - 2

# Pieces of a cleaned, lower-cased text: the special tokens, English contractions,
# runs of letters, single digits, runs of anything else but white space.
_PIECES = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+",
    re.IGNORECASE,
)


class TokenizerError(HomeGalleryError):
    """The tokenizer file cannot be read as CLIP's merges."""


@functools.cache
def byte_symbols() -> tuple[str, ...]:
    """A printable character for each byte: printable Latin-1 bytes stand for themselves,
    the others (controls, space) for characters from U+0100 on, in byte order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    symbols: list[str] = []
    extra = 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(256 + extra))
            extra += 1
    return tuple(symbols)


def clean(text: str) -> str:
    """HTML entities resolved (twice, as they come double-escaped in captions), white
    space runs made one space, lower-cased."""
    text = html.unescape(html.unescape(text))
    return re.sub(r"\s+", " ", text).strip().lower()


class ClipTokenizer:
    """Token ids of texts for one merges file."""

    def __init__(self, merges: list[tuple[str, str]]) -> None:
        symbols = byte_symbols()
        vocabulary = [*symbols, *(symbol + _END_OF_WORD for symbol in symbols)]
        vocabulary.extend(first + second for first, second in merges)
        vocabulary.extend((START, END))
        self.ids = {token: index for index, token in enumerate(vocabulary)}
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.start = self.ids[START]
        self.end = self.ids[END]
        self._pieces: dict[str, list[int]] = {}

    @property
    def size(self) -> int:
        """How many tokens there are: the text model's embedding table has as many rows."""
        return len(self.ids)

    @classmethod
    def from_file(cls, path: Path) -> ClipTokenizer:
        """Reads a merges file (gzip or plain text); :class:`TokenizerError` if it is not one."""
        try:
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            lines = data.decode("utf-8").splitlines()
        except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as error:
            raise TokenizerError(f"{path}: cannot read the CLIP tokenizer: {error}") from None
        merges: list[tuple[str, str]] = []
        for number, line in enumerate(lines[1 : MAX_MERGES + 1], start=2):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise TokenizerError(
                    f"{path}: line {number} is not a merge of two symbols: {line[:40]!r}"
                )
            merges.append((parts[0], parts[1]))
        if not lines or not lines[0].startswith("#"):
            raise TokenizerError(
                f"{path}: not a CLIP merges file (the first line is a '#version' line)"
            )
        return cls(merges)

    def _merge(self, piece: str) -> list[int]:
        """The ids of one piece: its byte symbols merged by rank, the last ending the word."""
        known = self._pieces.get(piece)
        if known is not None:
            return known
        symbols = byte_symbols()
        word = [symbols[byte] for byte in piece.encode("utf-8")]
        word[-1] += _END_OF_WORD
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda pair: self.ranks.get(pair, len(self.ranks)))
            if best not in self.ranks:
                break
            merged: list[str] = []
            index = 0
            while index < len(word):
                if index < len(word) - 1 and (word[index], word[index + 1]) == best:
                    merged.append(word[index] + word[index + 1])
                    index += 2
                else:
                    merged.append(word[index])
                    index += 1
            word = merged
        ids = [self.ids[token] for token in word]
        if len(self._pieces) < 10_000:
            self._pieces[piece] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """The tokens of ``text``, without the start and end tokens."""
        ids: list[int] = []
        for piece in _PIECES.findall(clean(text)):
            if piece in (START, END):
                ids.append(self.ids[piece])
            else:
                ids.extend(self._merge(piece))
        return ids

    def model_input(self, text: str, context_length: int) -> list[int]:
        """Start, tokens, end, cut to ``context_length`` (the end kept) and padded with 0."""
        ids = [*[self.start, *self.encode(text)][: context_length - 1], self.end]
        return ids + [0] * (context_length - len(ids))
