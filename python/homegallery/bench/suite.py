"""Every stage benchmark in one run: the machinery behind ``homegallery bench``.

Stages run one after another (never two at once, so each has the machine to itself)
and a stage that cannot run here (no model installed, no ffmpeg) is reported as
skipped with its reason rather than failing the whole run.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from homegallery.bench.report import Report
from homegallery.bench.stages import STAGES

log = logging.getLogger("homegallery.bench")


@dataclass
class SuiteResult:
    report: Report
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def run_suite(
    quick: bool = False,
    stages: list[str] | None = None,
    data: Path | None = None,
    models_dir: Path | None = None,
) -> SuiteResult:
    """Runs the chosen stages (all by default) into one report.

    ``models_dir``: where the embeddings stage finds the installed models (default: the
    default config's).
    """
    report = Report("homegallery bench" + (" --quick" if quick else ""))
    result = SuiteResult(report)
    for stage in stages or list(STAGES):
        started = time.monotonic()
        log.info("bench: %s …", stage)
        try:
            module = importlib.import_module(f"homegallery.bench.{STAGES[stage]}")
            if stage == "embeddings":
                sub = module.run(quick, models_dir=models_dir, data=data)
            elif data is not None and stage in ("previews", "metadata"):
                sub = module.run(quick, data=data)
            else:
                sub = module.run(quick)
        except StageSkipped as skipped:
            result.skipped[stage] = str(skipped)
            continue
        report.figures.extend(sub.figures)
        result.seconds[stage] = time.monotonic() - started
    return result


class StageSkipped(Exception):  # noqa: N818  (a skip is not an error)
    """A stage that cannot run on this machine; the message says why."""
