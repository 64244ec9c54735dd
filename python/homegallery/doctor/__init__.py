"""``homegallery doctor``: what this machine and this config can do, and what to fix.

A Raspberry Pi owner meets missing pieces one at a time otherwise: an import that makes
no web videos, a similar search that says "no vectors", a disk that fills up halfway.
Each check here answers in one line, with the fix beside every problem. ``system``
looks at the machine (Python, the Rust core, ffmpeg, libvips, onnxruntime); ``gallery``
at what the config asks of it (folders, models, disk, memory, privacy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# ok: works; note: works, with a limit worth knowing; problem: something the config
# needs is missing or broken (the command exits 1).
Status = Literal["ok", "note", "problem"]


@dataclass(frozen=True)
class Finding:
    status: Status
    topic: str
    text: str
    fix: str = ""


def problems(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.status == "problem"]
