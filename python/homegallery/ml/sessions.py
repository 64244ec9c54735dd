"""onnxruntime sessions for the model steps: made one way, and kept once per process.

Every model step runs its model in worker processes that each take a share of the
cores, so a session gets ``threads`` for its one operator at a time (sequential
execution, no inter-op pool: more threads than cores only queue) and keeps quiet
(warnings about the graph are not the user's to act on). A worker process keeps the
sessions of the model files it was last asked for and makes them again only when
those change: loading a model costs 0.1-1 s, a batch a fraction of that.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def cpu_session(model_file: Path, threads: int = 1) -> Any:
    """An onnxruntime session of ``model_file`` on the CPU with ``threads`` threads."""
    import onnxruntime as ort  # lazy: the model steps' workers load it, nothing else

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


class ProcessSessions(Generic[T]):
    """What one model step keeps in a worker process: the sessions made for one key
    (the model files and threads), made again when the key changes."""

    def __init__(self) -> None:
        self._key: Hashable | None = None
        self._sessions: T | None = None

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if self._sessions is None or self._key != key:
            self._sessions = None  # the old ones are freed before the new ones are made
            self._sessions = make()
            self._key = key
        return self._sessions
