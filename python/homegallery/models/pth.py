"""Reads the tensors of a PyTorch ``.pth`` state_dict with numpy, without torch.

A ``.pth`` file is a pickle, and unpickling runs whatever functions the file names;
so this reader allows only the handful that a plain state_dict needs (the tensor
rebuild function, the typed storage classes, ``OrderedDict``) and refuses the file
with :class:`PthError` for anything else. Two layouts exist:

* the legacy one (torch < 1.6): five pickles one after another (magic number,
  protocol version, system info, the object, the storage keys), then each storage as
  an int64 element count followed by its raw little-endian bytes;
* the zip one (torch ≥ 1.6): ``<name>/data.pkl`` holds the object and each storage
  is the raw file ``<name>/data/<key>``.

In both, a tensor is a view (offset, shape, strides in elements) into a storage.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from homegallery.errors import HomeGalleryError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class PthError(HomeGalleryError):
    """The file is not a state_dict this reader accepts; the message says why."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype[Any]:
        return _STORAGE_DTYPES[self.name]


@dataclass
class _Storage:
    key: str
    dtype: np.dtype[Any]
    count: int
    data: npt.NDArray[Any] | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor(
    storage: _Storage,
    offset: int,
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    *_ignored: object,
) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(shape), tuple(strides))


def _ordered_dict(*args: Any) -> OrderedDict[Any, Any]:
    return OrderedDict(*args)


_ALLOWED: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise PthError(f"the file asks for {module}.{name}, which a state_dict does not need")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise PthError(f"unexpected persistent id {pid!r:.80}")
        storage_type, key, count = pid[1], str(pid[2]), int(pid[4])
        if not isinstance(storage_type, _StorageType):
            raise PthError(f"unexpected storage type {storage_type!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise PthError("storage views are not supported")
        storage = self.storages.get(key)
        if storage is None:
            storage = _Storage(key, storage_type.dtype, count)
            self.storages[key] = storage
        return storage


def _tensor(ref: _TensorRef) -> npt.NDArray[Any]:
    data = ref.storage.data
    if data is None:
        raise PthError(f"storage {ref.storage.key} has no data")
    itemsize = data.dtype.itemsize
    if any(s < 0 for s in ref.strides) or len(ref.strides) != len(ref.shape):
        raise PthError(f"bad strides {ref.strides} for shape {ref.shape}")
    last = ref.offset + sum(
        (n - 1) * s for n, s in zip(ref.shape, ref.strides, strict=True) if n > 0
    )
    if ref.offset < 0 or (all(ref.shape) and last >= data.size):
        raise PthError(f"tensor of shape {ref.shape} reaches past storage {ref.storage.key}")
    view = np.lib.stride_tricks.as_strided(
        data[ref.offset :],
        shape=ref.shape,
        strides=tuple(s * itemsize for s in ref.strides),
        writeable=False,
    )
    return np.array(view, dtype=data.dtype.newbyteorder("="))


def _result(obj: Any) -> dict[str, npt.NDArray[Any]]:
    if not isinstance(obj, dict):
        raise PthError(f"the file holds a {type(obj).__name__}, not a state_dict")
    tensors: dict[str, npt.NDArray[Any]] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, _TensorRef):
            raise PthError(f"entry {key!r:.80} is not a named tensor")
        tensors[key] = _tensor(value)
    return tensors


def _read_legacy(handle: IO[bytes]) -> dict[str, npt.NDArray[Any]]:
    def load(unpickler_storages: dict[str, _Storage]) -> Any:
        return _Unpickler(handle, unpickler_storages).load()

    storages: dict[str, _Storage] = {}
    if load(storages) != _LEGACY_MAGIC:
        raise PthError("not a PyTorch file (wrong magic number)")
    protocol = load(storages)
    if protocol != _LEGACY_PROTOCOL:
        raise PthError(f"unknown PyTorch file protocol {protocol!r:.40}")
    info = load(storages)
    if isinstance(info, dict) and info.get("little_endian") is False:
        raise PthError("big-endian PyTorch files are not supported")
    obj = load(storages)
    keys = load(storages)
    if not isinstance(keys, list):
        raise PthError("the storage key list is missing")
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise PthError(f"storage {key!r:.40} is listed but not used")
        header = handle.read(8)
        if len(header) != 8:
            raise PthError("the file ends inside the storages (truncated?)")
        (count,) = struct.unpack("<q", header)
        if count != storage.count:
            raise PthError(f"storage {key} holds {count} values, the pickle says {storage.count}")
        nbytes = count * storage.dtype.itemsize
        raw = handle.read(nbytes)
        if len(raw) != nbytes:
            raise PthError("the file ends inside the storages (truncated?)")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _result(obj)


def _read_zip(archive: zipfile.ZipFile) -> dict[str, npt.NDArray[Any]]:
    names = archive.namelist()
    pickles = [name for name in names if name.endswith("/data.pkl") and name.count("/") == 1]
    if len(pickles) != 1:
        raise PthError("the zip holds no single <name>/data.pkl: not a PyTorch file")
    prefix = pickles[0].removesuffix("data.pkl")
    storages: dict[str, _Storage] = {}
    with archive.open(pickles[0]) as handle:
        obj = _Unpickler(io.BytesIO(handle.read()), storages).load()
    for key, storage in storages.items():
        member = f"{prefix}data/{key}"
        try:
            raw = archive.read(member)
        except KeyError:
            raise PthError(f"storage {member} is missing from the zip") from None
        nbytes = storage.count * storage.dtype.itemsize
        if len(raw) != nbytes:
            raise PthError(f"storage {member} has {len(raw)} bytes, expected {nbytes}")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _result(obj)


def read_state_dict(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The named tensors of a ``.pth`` file, as numpy arrays in native byte order.

    Raises :class:`PthError` for anything that is not a plain state_dict.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return _read_zip(archive)
        with path.open("rb") as handle:
            return _read_legacy(handle)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, zipfile.BadZipFile) as e:
        raise PthError(f"not a readable PyTorch state_dict: {e}") from None
