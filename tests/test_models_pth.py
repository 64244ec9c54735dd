"""The torch-free ``.pth`` reader: both of torch's layouts, and hostile files refused."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from homegallery.models.pth import PthError, read_state_dict

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["tiny_zip.pth", "tiny_legacy.pth"])
def test_reads_what_torch_saved(name: str) -> None:
    """Files written by torch.save (scripts/make_pth_fixtures.py), values from torch."""
    state = read_state_dict(FIXTURES / name)
    with np.load(FIXTURES / "pth_expected.npz") as expected:
        assert list(state) == ["conv.weight", "half", "count", "transposed", "row"]
        for key, value in state.items():
            assert value.dtype == expected[key].dtype, key
            assert np.array_equal(value, expected[key]), key


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("echo owned",))


def _zip_with_pickle(path: Path, payload: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)


def test_a_pickle_that_calls_a_function_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    _zip_with_pickle(path, pickle.dumps({"w": _Evil()}, protocol=2))
    with pytest.raises(PthError, match=r"asks for (posix|os)\.system"):
        read_state_dict(path)


def test_a_pickle_that_is_not_a_state_dict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.pth"
    _zip_with_pickle(path, pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(PthError, match="holds a list, not a state_dict"):
        read_state_dict(path)


def test_a_truncated_legacy_file_is_refused(tmp_path: Path) -> None:
    data = (FIXTURES / "tiny_legacy.pth").read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[:-10])
    with pytest.raises(PthError, match="truncated"):
        read_state_dict(path)


def test_a_zip_storage_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    source = zipfile.ZipFile(FIXTURES / "tiny_zip.pth")
    path = tmp_path / "short.pth"
    with zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if "/data/" in info.filename and not info.filename.endswith(".pkl"):
                data = data[:-4]
            target.writestr(info.filename, data)
    with pytest.raises(PthError, match="bytes, expected"):
        read_state_dict(path)


def test_garbage_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "noise.pth"
    path.write_bytes(io.BytesIO(bytes(range(256)) * 4).getvalue())
    with pytest.raises(PthError) as caught:
        read_state_dict(path)
    assert "\n" not in str(caught.value)
