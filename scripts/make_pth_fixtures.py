#!/usr/bin/env python3
"""Writes tiny ``.pth`` files in both of torch's layouts for the state_dict reader's tests.

Needs torch, so it runs once in a scratch environment (see
make_efficientnet_reference.py); the files are small and kept in tests/fixtures.
Each holds the same tensors (float32, float16, int64, a transposed view, a tensor
that starts inside a shared storage); ``pth_expected.npz`` holds their values.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    out = Path("tests/fixtures")
    out.mkdir(parents=True, exist_ok=True)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    state = collections.OrderedDict(
        [
            ("conv.weight", base.clone()),
            ("half", torch.linspace(-2, 2, 5, dtype=torch.float16)),
            ("count", torch.tensor(12345678901, dtype=torch.int64)),
            ("transposed", base.t()),
            ("row", base[2]),
        ]
    )
    torch.save(state, out / "tiny_zip.pth")
    torch.save(state, out / "tiny_legacy.pth", _use_new_zipfile_serialization=False)
    np.savez(out / "pth_expected.npz", **{key: value.numpy() for key, value in state.items()})


if __name__ == "__main__":
    main()
