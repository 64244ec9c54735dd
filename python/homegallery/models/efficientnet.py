"""EfficientNet-Lite0 as an ONNX graph, built from its PyTorch state_dict with numpy.

The Lite variants of EfficientNet were made for phones: ReLU6 instead of swish, no
squeeze-and-excitation, and a fixed stem (32 channels) and head (1280). Weights come
in the layout of the common ``EfficientNet-PyTorch`` code (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` …); channels and kernel sizes are read from the weights,
and the strides, which no weight shows, from the architecture's stage table.

Each batch norm is folded into the convolution before it, so the graph is only
convolutions, clips, adds and the classifier. Padding is TensorFlow's ``SAME`` (the
weights were trained in TensorFlow): for a stride-2 convolution on an even size the
extra row and column go at the bottom and right, which ``SAME_UPPER`` expresses.

Outputs: ``embedding``, the global average pool of the head (1280 values), divided
by its L2 norm so a dot product is the cosine; and ``logits``, the 1000 ImageNet
class scores before softmax.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from homegallery.errors import HomeGalleryError

BATCH_NORM_EPSILON = 1e-3
OPSET = 13
IR_VERSION = 7
INPUT_SIZE = 224
EMBEDDING_SIZE = 1280
CLASSES = 1000

# Stages of EfficientNet-B0/Lite0: (repeats, stride of the first block). Within a
# stage the other blocks have stride 1.
_STAGES = ((1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1))

Tensors = dict[str, npt.NDArray[Any]]


class ConversionError(HomeGalleryError):
    """The weights do not have the shape of EfficientNet-Lite0; the message says which."""


def block_strides() -> list[int]:
    strides = []
    for repeats, stride in _STAGES:
        strides.extend([stride] + [1] * (repeats - 1))
    return strides


def _get(state: Tensors, key: str) -> npt.NDArray[np.float64]:
    try:
        return state[key].astype(np.float64)
    except KeyError:
        raise ConversionError(f"weight {key} is missing") from None


def _fold(
    state: Tensors, conv: str, bn: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Convolution weights and bias with the batch norm after it folded in."""
    weight = _get(state, f"{conv}.weight")
    gamma, beta = _get(state, f"{bn}.weight"), _get(state, f"{bn}.bias")
    mean, var = _get(state, f"{bn}.running_mean"), _get(state, f"{bn}.running_var")
    if not (
        weight.ndim == 4
        and gamma.shape == beta.shape == mean.shape == var.shape == (weight.shape[0],)
    ):
        raise ConversionError(f"{conv} and {bn} do not fit together")
    scale = gamma / np.sqrt(var + BATCH_NORM_EPSILON)
    folded = weight * scale[:, None, None, None]
    bias = beta - mean * scale
    return folded.astype(np.float32), bias.astype(np.float32)


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.count = 0

    def constant(self, name: str, value: npt.NDArray[Any]) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(
        self, x: str, state: Tensors, conv: str, bn: str, stride: int, relu6: bool, groups: int = 1
    ) -> str:
        weight, bias = _fold(state, conv, bn)
        w = self.constant(f"{conv}.weight", weight)
        b = self.constant(f"{conv}.bias", bias)
        kernel = weight.shape[2]
        y = self.node(
            "Conv",
            [x, w, b],
            f"{conv}",
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            group=groups,
            auto_pad="SAME_UPPER",
        )
        if relu6:
            y = self.node("Clip", [y, "relu6.min", "relu6.max"], f"{conv}.relu6")
        return y


def build(state: Tensors) -> onnx.ModelProto:
    """The ONNX model of EfficientNet-Lite0 for a state_dict read by :mod:`.pth`."""
    graph = _Graph()
    graph.constant("relu6.min", np.array(0.0, dtype=np.float32))
    graph.constant("relu6.max", np.array(6.0, dtype=np.float32))
    x = graph.conv("image", state, "_conv_stem", "_bn0", stride=2, relu6=True)
    strides = block_strides()
    for number, stride in enumerate(strides):
        prefix = f"_blocks.{number}"
        if f"{prefix}._depthwise_conv.weight" not in state:
            raise ConversionError(f"weight {prefix}._depthwise_conv.weight is missing")
        block_input = x
        if f"{prefix}._expand_conv.weight" in state:
            x = graph.conv(x, state, f"{prefix}._expand_conv", f"{prefix}._bn0", 1, relu6=True)
        channels = state[f"{prefix}._depthwise_conv.weight"].shape[0]
        x = graph.conv(
            x,
            state,
            f"{prefix}._depthwise_conv",
            f"{prefix}._bn1",
            stride,
            relu6=True,
            groups=channels,
        )
        x = graph.conv(x, state, f"{prefix}._project_conv", f"{prefix}._bn2", 1, relu6=False)
        in_channels = state[f"{prefix}._depthwise_conv.weight"].shape[0]
        expand = state.get(f"{prefix}._expand_conv.weight")
        if expand is not None:
            in_channels = expand.shape[1]
        out_channels = state[f"{prefix}._project_conv.weight"].shape[0]
        if stride == 1 and in_channels == out_channels:
            x = graph.node("Add", [x, block_input], f"{prefix}.residual")
    if f"_blocks.{len(strides)}._depthwise_conv.weight" in state:
        raise ConversionError("the state_dict has more blocks than EfficientNet-Lite0")
    x = graph.conv(x, state, "_conv_head", "_bn1", 1, relu6=True)
    x = graph.node("GlobalAveragePool", [x], "pool")
    features = graph.node("Flatten", [x], "features", axis=1)
    graph.node("LpNormalization", [features], "embedding", axis=1, p=2)
    fc_weight = _get(state, "_fc.weight").astype(np.float32)
    fc_bias = _get(state, "_fc.bias").astype(np.float32)
    if fc_weight.shape != (CLASSES, EMBEDDING_SIZE) or fc_bias.shape != (CLASSES,):
        raise ConversionError(
            f"_fc has shape {fc_weight.shape}, expected {(CLASSES, EMBEDDING_SIZE)}"
        )
    graph.constant("_fc.weight", fc_weight)
    graph.constant("_fc.bias", fc_bias)
    graph.node("Gemm", [features, "_fc.weight", "_fc.bias"], "logits", transB=1)
    onnx_graph = helper.make_graph(
        graph.nodes,
        "efficientnet-lite0",
        [
            helper.make_tensor_value_info(
                "image", TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE]
            )
        ],
        [
            helper.make_tensor_value_info(
                "embedding", TensorProto.FLOAT, ["batch", EMBEDDING_SIZE]
            ),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES]),
        ],
        graph.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="homegallery",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    return model
