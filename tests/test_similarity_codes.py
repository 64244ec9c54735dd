"""Quantising: HomeGallery's codes by hand, the core against the numpy reference, errors."""

from __future__ import annotations

import base64

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from homegallery.similarity import (
    HOMEGALLERY,
    CodeFormat,
    code_fidelity,
    decode,
    dequantize_int8,
    fit_format,
    pack_base64,
    quantize,
    quantize_int8,
    reference,
    unpack_base64,
)

FLOATS = st.floats(-1e6, 1e6, allow_nan=False, width=32)


def by_hand(value: float) -> int:
    """HomeGallery's formula, written out with the standard library."""
    import math

    x = min(max(value / 2.875, 0.0), 1.0)
    return math.floor(3 * math.sqrt(x) + 0.5)


def test_homegallery_sizes() -> None:
    assert (HOMEGALLERY.values, HOMEGALLERY.code_bytes, HOMEGALLERY.base64_chars) == (342, 86, 116)
    vector = np.linspace(-1, 4, 1024, dtype=np.float32)[None, :]
    (text,) = pack_base64(quantize(vector))
    assert len(text) == 116 and text.endswith("=")


def test_homegallery_code_of_fixed_vector_by_hand() -> None:
    rng = np.random.default_rng(42)
    vector = (rng.gamma(0.6, 1.0, 1024) * rng.choice([-1, 1, 1, 1], 1024)).astype(np.float32)
    # Values right at and around the level thresholds v = 2.875·(n/6)² (n = 1, 3, 5).
    for slot, value in enumerate([0.0, 2.875 / 36, 2.875 / 4, 2.875 * 25 / 36, 2.875, 99.0]):
        vector[3 * slot] = value
    levels = [by_hand(float(value)) for value in vector[::3]]
    expected = bytearray()
    padded = [*levels, 0, 0]
    for start in range(0, len(padded), 4):
        a, b, c, d = padded[start : start + 4]
        expected.append(a << 6 | b << 4 | c << 2 | d)
    code = quantize(vector[None, :])
    assert code.tobytes() == bytes(expected)
    assert levels[:6] == [0, 1, 2, 3, 3, 3]
    assert pack_base64(code) == [base64.b64encode(bytes(expected)).decode()]


def test_levels_decode_as_homegallery() -> None:
    code = np.array([[0b00_01_10_11] + [0] * 85], dtype=np.uint8)
    decoded = decode(code)[0, :4] / np.float32(2.875)
    np.testing.assert_allclose(decoded, [0, 1 / 9, 4 / 9, 1], rtol=1e-6)


@st.composite
def vectors_and_format(draw: st.DrawFn) -> tuple[npt.NDArray[np.float32], CodeFormat]:
    dims = draw(st.integers(1, 70))
    rows = draw(st.integers(0, 6))
    elements = st.one_of(FLOATS, st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.875 / 36]))
    vectors = draw(hnp.arrays(np.float32, (rows, dims), elements=elements))
    code_format = CodeFormat(
        dims=dims,
        stride=draw(st.integers(1, 5)),
        scale=draw(st.floats(1e-3, 1e3)),
        levels=draw(st.sampled_from(["sqrt", "signed"])),
        normalize=draw(st.booleans()),
    )
    return vectors, code_format


@settings(deadline=None)
@given(vectors_and_format())
def test_core_equals_reference(case: tuple[npt.NDArray[np.float32], CodeFormat]) -> None:
    vectors, code_format = case
    codes = quantize(vectors, code_format, threads=1)
    assert codes.shape == (len(vectors), code_format.code_bytes)
    np.testing.assert_array_equal(codes, reference.quantize(vectors, code_format))


def test_many_rows_split_across_threads_equal_reference() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(0.5, 1.2, (5000, 1024)).astype(np.float32)
    one, every = quantize(vectors, threads=1), quantize(vectors, threads=2)
    np.testing.assert_array_equal(one, every)
    np.testing.assert_array_equal(one, reference.quantize(vectors, HOMEGALLERY))


def test_padding_slots_are_zero() -> None:
    code_format = CodeFormat(dims=5, stride=1, scale=1.0, levels="signed")
    code = quantize(np.ones((1, 5), np.float32), code_format)
    assert code.tolist() == [[0xFF, 0b11_00_00_00]]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected_with_row_and_position(bad: float) -> None:
    vectors = np.ones((4, 1024), np.float32)
    vectors[2, 17] = bad
    with pytest.raises(ValueError, match=r"vector 2 has a non-finite value .* position 17"):
        quantize(vectors)
    with pytest.raises(ValueError, match=r"vector 2 has a non-finite value .* position 17"):
        quantize_int8(vectors)


def test_wrong_shapes_and_types_rejected() -> None:
    with pytest.raises(ValueError, match="needs 1024"):
        quantize(np.ones((2, 512), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        quantize(np.ones(1024, np.float32))
    with pytest.raises(TypeError, match="numbers"):
        quantize(np.array([["a"] * 1024]))
    with pytest.raises(ValueError, match="scale"):
        CodeFormat(dims=4, stride=1, scale=0.0, levels="sqrt")
    with pytest.raises(ValueError, match="levels"):
        CodeFormat(dims=4, stride=1, scale=1.0, levels="cubic")  # type: ignore[arg-type]


def test_non_contiguous_and_float64_inputs_give_same_codes() -> None:
    rng = np.random.default_rng(3)
    wide = rng.gamma(0.5, 1.0, (10, 2048))
    view = wide[:, ::2]  # float64 and strided
    np.testing.assert_array_equal(quantize(view), quantize(np.ascontiguousarray(view, np.float32)))


def test_base64_round_trip_and_errors() -> None:
    codes = np.random.default_rng(5).integers(0, 256, (7, 86), dtype=np.uint8)
    texts = pack_base64(codes)
    assert all(len(text) == 116 for text in texts)
    np.testing.assert_array_equal(unpack_base64(texts, HOMEGALLERY.code_bytes), codes)
    with pytest.raises(ValueError, match="code 1 is not valid base64"):
        unpack_base64([texts[0], "not base64!"])
    with pytest.raises(ValueError, match="code 1 has 3 bytes, expected 86"):
        unpack_base64([texts[0], "AAAA"])
    assert unpack_base64([], 86).shape == (0, 86)


@settings(deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(0, 5), st.integers(1, 40)), elements=FLOATS))
@example(np.array([[1e-45], [-1e-40]], dtype=np.float32))  # scale underflows to zero
def test_int8_equals_reference(vectors: npt.NDArray[np.float32]) -> None:
    codes, scales = quantize_int8(vectors, threads=1)
    expected_codes, expected_scales = reference.quantize_int8(vectors)
    np.testing.assert_array_equal(codes, expected_codes)
    np.testing.assert_array_equal(scales, expected_scales)
    restored = dequantize_int8(codes, scales)
    bound = np.abs(vectors).max(axis=1, keepdims=True, initial=0) / 254 * 1.0001 + 1e-30
    assert (np.abs(restored - vectors) <= bound).all()


def test_fitted_format_beats_homegallery_constant_on_signed_vectors() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(0, 1, (3000, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fitted = fit_format(vectors, name="clip-like")
    assert fitted.code_bytes == 128 and fitted.levels == "signed"
    # For unit Gaussian vectors the best uniform 4-level scale is about 1.5·σ.
    assert 1.2 < fitted.scale * np.sqrt(512) < 1.8
    constant = CodeFormat(512, 1, 2.875, "signed", normalize=True)
    assert code_fidelity(vectors, fitted) > 0.93 > code_fidelity(vectors, constant)
    assert CodeFormat.from_dict(fitted.as_dict()) == fitted
    with pytest.raises(ValueError, match="unknown code format keys"):
        CodeFormat.from_dict({**fitted.as_dict(), "bits": 2})
    with pytest.raises(ValueError, match="all zero"):
        fit_format(np.zeros((3, 8), np.float32))
