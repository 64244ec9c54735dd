"""A TensorFlow.js graph model as an ONNX graph, with numpy and ``onnx`` only.

A TF.js graph model is a ``model.json`` (``modelTopology``: a TensorFlow GraphDef
written as JSON; ``weightsManifest``: the name, shape and dtype of each constant,
optionally quantised, in the order their bytes follow each other through the
``.bin`` shards) and the shards. Installing tensorflow and tf2onnx to convert one
would cost a user 1.7 GB; the graphs the models here use need a dozen TF ops, each
of which is one ONNX operator or a few.

Layout: TF's convolutions and pools here are NHWC and ONNX's are NCHW. Each tensor
is kept as the ONNX value plus the permutation that turns the TF tensor into it, so
a TF ``Transpose`` costs nothing (only the permutation changes) and an explicit
ONNX ``Transpose`` is written only where an operator needs another layout than the
one its input has. A graph exported from PyTorch through onnx-tf (NCHW input, a
transpose around every convolution) so becomes the plain NCHW graph again.

Nodes whose inputs are all constants (shape arithmetic the TF.js converter left
behind: ``SparseToDense``, ``AddV2`` of shapes, casts) are computed here in numpy.
Anything else is refused by name with :class:`TfjsError`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from homegallery.errors import HomeGalleryError

OPSET = 13
IR_VERSION = 7
NHWC_TO_NCHW = (0, 3, 1, 2)

Array = npt.NDArray[Any]


class TfjsError(HomeGalleryError):
    """The model files are broken or use something this converter does not translate."""


# --- reading model.json and the shards ---------------------------------------------------

_DTYPES: dict[str, Any] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "float16": np.dtype("<f2"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
    "bool": np.dtype("?"),
}


def _decode_weight(entry: dict[str, Any], data: bytes, offset: int) -> tuple[Array, int]:
    """One weight from the concatenated shards at ``offset``; returns it and the next offset."""
    shape = [int(size) for size in entry.get("shape", [])]
    count = int(np.prod(shape)) if shape else 1
    dtype = entry.get("dtype", "float32")
    quantization = entry.get("quantization")
    stored = quantization["dtype"] if quantization else dtype
    if stored not in _DTYPES or dtype not in _DTYPES:
        raise TfjsError(f"weight {entry.get('name')!r}: dtype {stored} is not supported")
    stored_type = _DTYPES[stored]
    end = offset + count * stored_type.itemsize
    if end > len(data):
        raise TfjsError(f"weight {entry.get('name')!r} runs past the end of the weight files")
    raw = np.frombuffer(data, dtype=stored_type, count=count, offset=offset)
    if quantization and stored != "float16":
        if "scale" in quantization:
            scale = float(quantization["scale"])
            minimum = float(quantization.get("min", 0.0))
            raw = raw.astype(np.float32) * np.float32(scale) + np.float32(minimum)
        else:
            raise TfjsError(f"weight {entry.get('name')!r}: quantisation without a scale")
    value = raw.astype(_DTYPES[dtype]).reshape(shape)
    return value, end


def read_weights(model_json: Path) -> tuple[dict[str, Any], dict[str, Array]]:
    """The parsed model.json and its weights by name, read from the shards beside it."""
    try:
        model = json.loads(model_json.read_text(encoding="utf-8"))
        groups = model["weightsManifest"]
        model["modelTopology"]["node"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise TfjsError(f"{model_json.name} is not a TF.js graph model: {error}") from None
    weights: dict[str, Array] = {}
    for group in groups:
        chunks = []
        for shard in group.get("paths", []):
            name = Path(shard).name  # only files beside model.json: a path in it is hostile
            try:
                chunks.append((model_json.parent / name).read_bytes())
            except OSError as error:
                raise TfjsError(f"weight file {name}: {error.strerror or error}") from None
        data = b"".join(chunks)
        offset = 0
        for entry in group.get("weights", []):
            weights[entry["name"]], offset = _decode_weight(entry, data, offset)
        if offset != len(data):
            raise TfjsError(f"weight files hold {len(data) - offset} bytes no weight names")
    return model, weights


def _attr(node: dict[str, Any], key: str) -> Any:
    value = node.get("attr", {}).get(key)
    if value is None:
        return None
    if "list" in value:
        items = value["list"]
        return [int(item) for item in items.get("i", [])] or [float(f) for f in items.get("f", [])]
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    return value


def _source(name: str) -> tuple[str, int]:
    """A GraphDef input reference (``node``, ``node:1``, ``^control``) as node and output."""
    name = name.removeprefix("^")
    node, _, index = name.partition(":")
    return node, int(index) if index else 0


def _topological(nodes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {node["name"]: node for node in nodes}
    order: list[dict[str, Any]] = []
    state: dict[str, int] = {}
    for root in nodes:
        stack: list[tuple[str, bool]] = [(root["name"], False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                state[name] = 2
                order.append(by_name[name])
                continue
            if state.get(name):
                if state[name] == 1:
                    continue
                continue
            state[name] = 1
            stack.append((name, True))
            for source in reversed(by_name[name].get("input", [])):
                node, _ = _source(source)
                if node not in by_name:
                    raise TfjsError(f"node {name!r} reads {node!r}, which the graph lacks")
                if not state.get(node):
                    stack.append((node, False))
    return order


# --- the converter's state ----------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A TF tensor as an ONNX value: ``onnx = transpose(tf, perm)``; ``shape`` is TF's."""

    name: str
    shape: tuple[int, ...]
    perm: tuple[int, ...]


Operand = Value | Array


def _inverse(perm: Sequence[int]) -> tuple[int, ...]:
    result = [0] * len(perm)
    for index, axis in enumerate(perm):
        result[axis] = index
    return tuple(result)


class _Builder:
    def __init__(self, weights: dict[str, Array]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.counter = 0

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}_{self.counter}"

    def constant(self, value: Array, hint: str) -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def emit(self, op: str, inputs: Sequence[str], hint: str, **attributes: Any) -> str:
        output = self.fresh(hint)
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attributes))
        return output

    def in_layout(self, value: Value, perm: Sequence[int]) -> str:
        """The ONNX name of ``value`` laid out as ``transpose(tf, perm)``."""
        target = tuple(perm)
        if value.perm == target:
            return value.name
        relative = [_inverse(value.perm)[axis] for axis in target]
        return self.emit("Transpose", [value.name], "transpose", perm=relative)

    def operand(self, operand: Operand, perm: Sequence[int], rank: int, hint: str) -> str:
        """An operand of an elementwise op in layout ``perm`` of a rank-``rank`` tensor."""
        if isinstance(operand, Value):
            return self.in_layout(operand, perm)
        array = np.asarray(operand, dtype=np.float32)
        array = array.reshape((1,) * (rank - array.ndim) + array.shape)
        return self.constant(array.transpose(perm), hint)


def _broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*shapes))


# --- one TF op each -----------------------------------------------------------------------

Handler = Callable[[_Builder, dict[str, Any], list[Operand]], Operand]


def _as_const(node: dict[str, Any], operand: Operand, what: str) -> Array:
    if isinstance(operand, Value):
        raise TfjsError(f"{node['op']} {node['name']!r}: its {what} is not a constant")
    return operand


def _elementwise(op: str, numpy_op: Callable[[Array, Array], Array]) -> Handler:
    def handle(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
        left, right = inputs
        if not isinstance(left, Value) and not isinstance(right, Value):
            return numpy_op(left, right)
        values = [operand for operand in inputs if isinstance(operand, Value)]
        shape = _broadcast_shape(
            *(np.shape(o) if not isinstance(o, Value) else o.shape for o in inputs)
        )
        perm = values[0].perm if len(values[0].shape) == len(shape) else tuple(range(len(shape)))
        names = [builder.operand(o, perm, len(shape), "constant") for o in inputs]
        return Value(builder.emit(op, names, op.lower()), shape, perm)

    return handle


def _unary(op: str, **attributes: Any) -> Handler:
    def handle(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
        (value,) = inputs
        if not isinstance(value, Value):
            raise TfjsError(f"{node['op']} {node['name']!r} of a constant is not supported")
        extra = dict(attributes)
        if node["op"] == "LeakyRelu":
            extra["alpha"] = float(_attr(node, "alpha") or 0.2)
        return Value(builder.emit(op, [value.name], op.lower(), **extra), value.shape, value.perm)

    return handle


def _identity(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    return inputs[0]


def _transpose(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    value, perm_operand = inputs
    perm = tuple(int(axis) for axis in _as_const(node, perm_operand, "permutation"))
    if not isinstance(value, Value):
        return np.transpose(value, perm)
    shape = tuple(value.shape[axis] for axis in perm)
    return Value(value.name, shape, tuple(_inverse(perm)[axis] for axis in value.perm))


def _check_nhwc(node: dict[str, Any]) -> None:
    if (_attr(node, "data_format") or "NHWC") != "NHWC":
        raise TfjsError(f"{node['op']} {node['name']!r}: only NHWC is supported")
    if _attr(node, "padding") not in ("VALID", "SAME"):
        raise TfjsError(f"{node['op']} {node['name']!r}: padding {_attr(node, 'padding')}")


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """TF's SAME padding along one axis: (before, after, output size)."""
    output = -(-size // stride)
    total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2, output


def _window(
    node: dict[str, Any], height: int, width: int, kernel: tuple[int, int]
) -> tuple[list[int], list[int], list[int], tuple[int, int]]:
    strides = _attr(node, "strides") or [1, 1, 1, 1]
    dilations = _attr(node, "dilations") or [1, 1, 1, 1]
    stride, dilation = [strides[1], strides[2]], [dilations[1], dilations[2]]
    pads_before, pads_after, sizes = [], [], []
    for size, k, s, d in zip((height, width), kernel, stride, dilation, strict=True):
        if _attr(node, "padding") == "SAME":
            before, after, output = _same_pads(size, k, s, d)
        else:
            before, after, output = 0, 0, (size - (k - 1) * d - 1) // s + 1
        pads_before.append(before)
        pads_after.append(after)
        sizes.append(output)
    return stride, dilation, pads_before + pads_after, (sizes[0], sizes[1])


def _conv2d(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    value, filter_operand = inputs
    _check_nhwc(node)
    if not isinstance(value, Value):
        raise TfjsError(f"Conv2D {node['name']!r} of a constant is not supported")
    kernel = _as_const(node, filter_operand, "filter").astype(np.float32)  # H, W, in, out
    batch, height, width, channels = value.shape
    if channels % kernel.shape[2]:
        raise TfjsError(f"Conv2D {node['name']!r}: {channels} channels, filter {kernel.shape}")
    stride, dilation, pads, (out_h, out_w) = _window(node, height, width, kernel.shape[:2])
    weight = builder.constant(kernel.transpose(3, 2, 0, 1), "weight")
    output = builder.emit(
        "Conv",
        [builder.in_layout(value, NHWC_TO_NCHW), weight],
        "conv",
        kernel_shape=list(kernel.shape[:2]),
        strides=stride,
        dilations=dilation,
        pads=pads,
        group=channels // kernel.shape[2],
    )
    return Value(output, (batch, out_h, out_w, kernel.shape[3]), NHWC_TO_NCHW)


def _depthwise(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    value, filter_operand = inputs
    kernel = _as_const(node, filter_operand, "filter")  # H, W, in, multiplier
    height, width, channels, multiplier = kernel.shape
    grouped = kernel.reshape(height, width, 1, channels * multiplier)
    return _conv2d(builder, node, [value, grouped])


def _max_pool(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    (value,) = inputs
    _check_nhwc(node)
    if not isinstance(value, Value):
        raise TfjsError(f"MaxPool {node['name']!r} of a constant is not supported")
    ksize = _attr(node, "ksize")
    batch, height, width, channels = value.shape
    stride, _, pads, (out_h, out_w) = _window(node, height, width, (ksize[1], ksize[2]))
    output = builder.emit(
        "MaxPool",
        [builder.in_layout(value, NHWC_TO_NCHW)],
        "maxpool",
        kernel_shape=[ksize[1], ksize[2]],
        strides=stride,
        pads=pads,
    )
    return Value(output, (batch, out_h, out_w, channels), NHWC_TO_NCHW)


def _pad(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    value, paddings_operand = inputs[:2]
    paddings = _as_const(node, paddings_operand, "paddings").astype(np.int64)
    fill = float(_as_const(node, inputs[2], "fill value")) if len(inputs) > 2 else 0.0
    if not isinstance(value, Value):
        raise TfjsError(f"{node['op']} {node['name']!r} of a constant is not supported")
    onnx_pads = [int(paddings[axis, 0]) for axis in value.perm] + [
        int(paddings[axis, 1]) for axis in value.perm
    ]
    pads = builder.constant(np.array(onnx_pads, dtype=np.int64), "pads")
    fill_name = builder.constant(np.array(fill, dtype=np.float32), "fill")
    output = builder.emit("Pad", [value.name, pads, fill_name], "pad", mode="constant")
    shape = tuple(
        size + int(before) + int(after)
        for size, (before, after) in zip(value.shape, paddings, strict=True)
    )
    return Value(output, shape, value.perm)


def _concat(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    *parts, axis_operand = inputs
    axis = int(_as_const(node, axis_operand, "axis"))
    if not all(isinstance(part, Value) for part in parts):
        if any(isinstance(part, Value) for part in parts):
            raise TfjsError(f"ConcatV2 {node['name']!r} mixes constants and tensors")
        return np.concatenate(parts, axis=axis)  # type: ignore[arg-type]
    values = [part for part in parts if isinstance(part, Value)]
    rank = len(values[0].shape)
    axis %= rank
    perm = values[0].perm
    names = [builder.in_layout(value, perm) for value in values]
    output = builder.emit("Concat", names, "concat", axis=_inverse(perm)[axis])
    shape = list(values[0].shape)
    shape[axis] = sum(value.shape[axis] for value in values)
    return Value(output, tuple(shape), perm)


def _split_v(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> list[Operand]:
    value, sizes_operand, axis_operand = inputs
    sizes = [int(size) for size in _as_const(node, sizes_operand, "sizes")]
    axis = int(_as_const(node, axis_operand, "axis"))
    if not isinstance(value, Value) or -1 in sizes:
        raise TfjsError(f"SplitV {node['name']!r}: only fixed sizes of a tensor are supported")
    axis %= len(value.shape)
    split = builder.constant(np.array(sizes, dtype=np.int64), "split")
    outputs = [builder.fresh("split") for _ in sizes]
    builder.nodes.append(
        helper.make_node(
            "Split", [value.name, split], outputs, name=outputs[0], axis=_inverse(value.perm)[axis]
        )
    )
    results: list[Operand] = []
    for name, size in zip(outputs, sizes, strict=True):
        shape = list(value.shape)
        shape[axis] = size
        results.append(Value(name, tuple(shape), value.perm))
    return results


def _reshape(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    value, shape_operand = inputs
    target = [int(size) for size in _as_const(node, shape_operand, "shape")]
    if not isinstance(value, Value):
        return np.reshape(value, target)
    total = int(np.prod(value.shape))
    if -1 in target:
        known = int(np.prod([size for size in target if size != -1]))
        target[target.index(-1)] = total // known
    plain = builder.in_layout(value, tuple(range(len(value.shape))))
    shape_name = builder.constant(np.array(target, dtype=np.int64), "shape")
    output = builder.emit("Reshape", [plain, shape_name], "reshape")
    return Value(output, tuple(target), tuple(range(len(target))))


def _resize_bilinear(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
    value, size_operand = inputs
    height, width = (int(size) for size in _as_const(node, size_operand, "size"))
    if not isinstance(value, Value):
        raise TfjsError(f"ResizeBilinear {node['name']!r} of a constant is not supported")
    if _attr(node, "align_corners"):
        mode = "align_corners"
    elif _attr(node, "half_pixel_centers"):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    batch, _, _, channels = value.shape
    sizes = builder.constant(np.array([batch, channels, height, width], dtype=np.int64), "sizes")
    output = builder.emit(
        "Resize",
        [builder.in_layout(value, NHWC_TO_NCHW), "", "", sizes],
        "resize",
        mode="linear",
        coordinate_transformation_mode=mode,
    )
    return Value(output, (batch, height, width, channels), NHWC_TO_NCHW)


def _constant_only(compute: Callable[[dict[str, Any], list[Array]], Array]) -> Handler:
    def handle(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> Operand:
        if any(isinstance(operand, Value) for operand in inputs):
            raise TfjsError(f"{node['op']} {node['name']!r} on a tensor is not supported")
        return compute(node, [operand for operand in inputs if not isinstance(operand, Value)])

    return handle


def _sparse_to_dense(node: dict[str, Any], inputs: list[Array]) -> Array:
    indices, shape, values, default = inputs
    dense = np.full([int(size) for size in np.atleast_1d(shape)], default, dtype=values.dtype)
    if np.size(indices) == 0:
        return dense
    rows = np.asarray(indices, dtype=np.int64).reshape(-1, dense.ndim)
    flat_values = np.broadcast_to(values, (rows.shape[0],))
    index = rows
    for position, entry in zip(index, flat_values, strict=True):
        dense[tuple(position)] = entry
    return dense


_CAST_TYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64}


def _cast(node: dict[str, Any], inputs: list[Array]) -> Array:
    target = node.get("attr", {}).get("DstT", {}).get("type", "DT_FLOAT")
    if target not in _CAST_TYPES:
        raise TfjsError(f"Cast {node['name']!r} to {target} is not supported")
    return inputs[0].astype(_CAST_TYPES[target])


_HANDLERS: dict[str, Handler] = {
    "Identity": _identity,
    "Add": _elementwise("Add", np.add),
    "AddV2": _elementwise("Add", np.add),
    "Sub": _elementwise("Sub", np.subtract),
    "Mul": _elementwise("Mul", np.multiply),
    "LeakyRelu": _unary("LeakyRelu"),
    "Relu": _unary("Relu"),
    "Sigmoid": _unary("Sigmoid"),
    "Transpose": _transpose,
    "Conv2D": _conv2d,
    "DepthwiseConv2dNative": _depthwise,
    "MaxPool": _max_pool,
    "Pad": _pad,
    "PadV2": _pad,
    "ConcatV2": _concat,
    "Reshape": _reshape,
    "ResizeBilinear": _resize_bilinear,
    "SparseToDense": _constant_only(_sparse_to_dense),
    "Cast": _constant_only(_cast),
}


# --- the whole graph ----------------------------------------------------------------------


def _placeholder(node: dict[str, Any], input_name: str) -> tuple[Value, onnx.ValueInfoProto]:
    dims = node["attr"]["shape"]["shape"]["dim"]
    shape = tuple(max(1, int(dim.get("size", 1))) for dim in dims)
    info = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)
    return Value(input_name, shape, tuple(range(len(shape)))), info


def _run_node(builder: _Builder, node: dict[str, Any], inputs: list[Operand]) -> list[Operand]:
    if node["op"] == "SplitV":
        return _split_v(builder, node, inputs)
    handler = _HANDLERS.get(node["op"])
    if handler is None:
        raise TfjsError(f"TF op {node['op']} (node {node['name']!r}) is not supported")
    return [handler(builder, node, inputs)]


def _graph_output(builder: _Builder, operand: Operand, onnx_name: str) -> onnx.ValueInfoProto:
    if not isinstance(operand, Value):
        raise TfjsError(f"output {onnx_name!r} is a constant")
    plain = builder.in_layout(operand, tuple(range(len(operand.shape))))
    builder.nodes.append(helper.make_node("Identity", [plain], [onnx_name], name=onnx_name))
    return helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, operand.shape)


def convert(model_json: Path, input_name: str, output_names: dict[str, str]) -> onnx.ModelProto:
    """The ONNX model of a TF.js graph model; ``output_names`` renames TF outputs (node names).

    The graph's one placeholder becomes the input ``input_name``; the outputs are
    the named nodes in the order of ``output_names``, laid out as in TF.
    """
    model, weights = read_weights(model_json)
    builder = _Builder(weights)
    results: dict[str, list[Operand]] = {}
    graph_inputs: list[onnx.ValueInfoProto] = []
    for node in _topological(model["modelTopology"]["node"]):
        name, op = node["name"], node["op"]
        if op == "Const":
            if name not in weights:
                raise TfjsError(f"constant {name!r} is not in the weights manifest")
            results[name] = [weights[name]]
        elif op == "Placeholder":
            if graph_inputs:
                raise TfjsError("the graph has more than one input")
            value, info = _placeholder(node, input_name)
            results[name] = [value]
            graph_inputs.append(info)
        else:
            inputs = [
                results[_source(source)[0]][_source(source)[1]]
                for source in node.get("input", [])
                if not source.startswith("^")
            ]
            results[name] = _run_node(builder, node, inputs)
    missing = [tf_name for tf_name in output_names if tf_name not in results]
    if missing:
        raise TfjsError(f"the graph has no output node {missing[0]!r}")
    graph_outputs = [
        _graph_output(builder, results[tf_name][0], onnx_name)
        for tf_name, onnx_name in output_names.items()
    ]
    graph = helper.make_graph(
        builder.nodes, "tfjs", graph_inputs, graph_outputs, initializer=builder.initializers
    )
    result = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="homegallery",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(result)
    return result
