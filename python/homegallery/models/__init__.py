"""Local ML models: which exist (:mod:`.spec`), which are installed, where to load them.

The extract steps ask here for the ONNX file of the model the config picks for a
task; :class:`ModelNotInstalled` carries the one line to show the user (the command
that installs it). Installing lives in :mod:`.install`, which needs numpy, onnx and
onnxruntime; this module and :mod:`.spec` import none of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.models.spec import MODELS, ModelSpec, UnknownModelError, get_spec
from homegallery.models.store import ModelNotInstalled, Precision, model_path, task_model

if TYPE_CHECKING:
    from homegallery.config import Config

__all__ = [
    "MODELS",
    "ModelNotInstalled",
    "ModelSpec",
    "UnknownModelError",
    "get_spec",
    "installed_model",
    "model_for_task",
]


def model_for_task(task: str, config: Config) -> ModelSpec | None:
    """The model the config picks for ``task``, or None when the task is ``off``."""
    return task_model(task, config.extractor.models.choices)


def installed_model(name: str, config: Config, precision: Precision | None = None) -> Path:
    """The ONNX file of an installed model (int8 when the config or caller asks for it).

    Raises :class:`ModelNotInstalled` naming the install command when it is missing.
    """
    models = config.extractor.models
    return model_path(get_spec(name), models.path, precision or models.precision)
