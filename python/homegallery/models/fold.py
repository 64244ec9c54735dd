"""Folding constant ``DequantizeLinear`` nodes of an ONNX model into float weights.

Some registry packages ship models whose weights are stored quantised, with a
``DequantizeLinear`` node per weight that turns them back into floats at run time.
Block-wise quantisation (``block_size``) is newer than many runtimes: onnxruntime
refuses such files. When all of a node's inputs are initialisers, its output is a
constant, so it is computed here once with numpy, ``(q − zero_point) · scale``, and
stored as an initialiser under the node's output name. Initialisers and graph
inputs that nothing reads any more are dropped (some exporters list every weight as
a graph input too, which makes runtimes treat them as feedable).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from homegallery.errors import HomeGalleryError


class FoldError(HomeGalleryError):
    """A DequantizeLinear node whose attributes or shapes make no sense."""


def _expand(
    values: npt.NDArray[Any], shape: tuple[int, ...], axis: int, block: int
) -> npt.NDArray[Any]:
    """Scale or zero point repeated to the quantised tensor's shape."""
    if values.ndim == 0 or (values.size == 1 and block == 0):
        return values.reshape(())
    if block == 0:
        if values.ndim != 1 or values.shape[0] != shape[axis]:
            raise FoldError(f"per-axis scale of shape {values.shape} for axis {axis} of {shape}")
        view = [1] * len(shape)
        view[axis] = shape[axis]
        return values.reshape(view)
    if values.ndim != len(shape):
        raise FoldError(f"block scale of shape {values.shape} for a tensor of shape {shape}")
    repeated = np.repeat(values, block, axis=axis)
    index = [slice(None)] * len(shape)
    index[axis] = slice(0, shape[axis])
    result = repeated[tuple(index)]
    if result.shape != shape:
        raise FoldError(f"block scale of shape {values.shape} does not cover {shape}")
    return result


def dequantize(
    quantised: npt.NDArray[Any],
    scale: npt.NDArray[Any],
    zero_point: npt.NDArray[Any] | None,
    axis: int,
    block_size: int,
) -> npt.NDArray[Any]:
    """What onnxruntime's DequantizeLinear computes, in the scale's float type."""
    shape = quantised.shape
    if quantised.ndim:
        axis = axis % quantised.ndim
    values = quantised.astype(np.int32)
    if zero_point is not None:
        values = values - _expand(zero_point.astype(np.int32), shape, axis, block_size)
    result: npt.NDArray[Any] = values.astype(scale.dtype) * _expand(scale, shape, axis, block_size)
    return result.astype(scale.dtype)


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    return {
        attribute.name: onnx.helper.get_attribute_value(attribute) for attribute in node.attribute
    }


def fold_dequantize(model: onnx.ModelProto) -> int:
    """Folds every constant DequantizeLinear in place; returns how many were folded."""
    graph = model.graph
    initialisers = {tensor.name: tensor for tensor in graph.initializer}
    kept: list[onnx.NodeProto] = []
    folded: list[onnx.TensorProto] = []
    for node in graph.node:
        inputs = [name for name in node.input if name]
        if (
            node.op_type != "DequantizeLinear"
            or node.domain not in ("", "ai.onnx")
            or not all(name in initialisers for name in inputs)
        ):
            kept.append(node)
            continue
        attributes = _attributes(node)
        arrays = [numpy_helper.to_array(initialisers[name]) for name in inputs]
        value = dequantize(
            arrays[0],
            arrays[1],
            arrays[2] if len(arrays) > 2 else None,
            int(attributes.get("axis", 1)),
            int(attributes.get("block_size", 0)),
        )
        folded.append(numpy_helper.from_array(value, node.output[0]))
    read = {name for node in kept for name in node.input} | {output.name for output in graph.output}
    # Names read inside subgraphs (If, Loop) count too.
    for node in kept:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                read |= {name for inner in attribute.g.node for name in inner.input}
    all_initialisers = [tensor for tensor in graph.initializer if tensor.name in read] + [
        tensor for tensor in folded if tensor.name in read
    ]
    constant_names = {tensor.name for tensor in all_initialisers}
    inputs = [
        value for value in graph.input if value.name in read and value.name not in constant_names
    ]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(all_initialisers)
    del graph.input[:]
    graph.input.extend(inputs)
    return len(folded)
