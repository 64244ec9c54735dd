"""Code formats: which values of a vector a 2-bit code keeps and how it quantises them.

A format belongs to a model (its embedding size and value distribution), so the
catalog stores it next to the codes it made; :meth:`CodeFormat.as_dict` and
:meth:`CodeFormat.from_dict` give the plain form to store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Levels = Literal["sqrt", "signed"]
LEVEL_NAMES: tuple[Levels, ...] = ("sqrt", "signed")

# Decoded levels as integers proportional to the real ones: (q/3)² is q²/9 and
# (2q-3)/3 is (2q-3)/3, and cosine ignores the common factor. Scans add these exactly.
INTEGER_LEVELS: dict[Levels, tuple[int, int, int, int]] = {
    "sqrt": (0, 1, 4, 9),
    "signed": (-3, -1, 1, 3),
}
LEVEL_VALUES: dict[Levels, tuple[float, float, float, float]] = {
    "sqrt": (0.0, 1 / 9, 4 / 9, 1.0),
    "signed": (-1.0, -1 / 3, 1 / 3, 1.0),
}


@dataclass(frozen=True)
class CodeFormat:
    """Everything that decides the packed code of a vector.

    ``dims``: length of the model's vectors. ``stride``: keep values 0, stride,
    2·stride, …. ``scale``: the value that maps to the top level. ``levels``: "sqrt"
    (HomeGallery's, for non-negative activations) or "signed" (for embeddings with
    both signs). ``normalize``: divide each vector by its L2 norm first, so one scale
    fits vectors of any length.
    """

    dims: int
    stride: int
    scale: float
    levels: Levels
    normalize: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if self.dims < 1 or self.stride < 1:
            raise ValueError(f"dims ({self.dims}) and stride ({self.stride}) must be at least 1")
        if not (self.scale > 0 and self.scale != float("inf")):
            raise ValueError(f"scale must be a positive finite number, not {self.scale}")
        if self.levels not in LEVEL_NAMES:
            raise ValueError(f"levels must be one of {LEVEL_NAMES}, not {self.levels!r}")

    @property
    def values(self) -> int:
        """Values kept from each vector."""
        return -(-self.dims // self.stride)

    @property
    def code_bytes(self) -> int:
        """Bytes of one packed code: four values per byte."""
        return -(-self.values // 4)

    @property
    def base64_chars(self) -> int:
        """Characters of one code in base64 with padding, as HomeGallery stores it."""
        return 4 * -(-self.code_bytes // 3)

    @property
    def label(self) -> str:
        return self.name or f"{self.dims}-d {self.levels} stride {self.stride}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CodeFormat:
        """The format stored with :meth:`as_dict`; unknown or missing keys are errors."""
        fields = {"dims", "stride", "scale", "levels", "normalize", "name"}
        unknown = set(data) - fields
        if unknown:
            raise ValueError(f"unknown code format keys: {sorted(unknown)}")
        try:
            return cls(
                dims=int(data["dims"]),
                stride=int(data["stride"]),
                scale=float(data["scale"]),
                levels=data["levels"],
                normalize=bool(data.get("normalize", False)),
                name=str(data.get("name", "")),
            )
        except KeyError as error:
            raise ValueError(f"code format lacks {error.args[0]!r}") from None


HOMEGALLERY = CodeFormat(
    dims=1024, stride=3, scale=2.875, levels="sqrt", normalize=False, name="homegallery"
)
"""HomeGallery's code of MobileNet v1 embeddings: 342 values, 86 bytes, 116 base64 chars."""
