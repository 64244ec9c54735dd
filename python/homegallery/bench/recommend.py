"""Settings for this machine, read off the figures of a benchmark run.

Each rule names the figure it rests on, so a user can see why a setting was chosen.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from homegallery.atomic import write_text
from homegallery.bench.report import Figure, Report
from homegallery.config import load_config
from homegallery.progress import counted

log = logging.getLogger("homegallery.bench")


@dataclass
class Recommendation:
    workers: int = 0
    engine: str = "pyvips"
    checksum_threads: int = 0
    defer_videos: bool = False
    # the embedding model's layout; 0 workers: nothing measured, leave the config as it is
    model_workers: int = 0
    model_threads: int = 1
    model_precision: str = "fp32"
    reasons: list[str] = field(default_factory=list)


_LAYOUT = re.compile(r"^(fp32|int8), (\d+) workers? x (\d+) threads?$")
INT8_AGREEMENT = 95.0  # % of the top-5 classes int8 must share with fp32 to be chosen
INT8_GAIN = 1.1  # and how much faster it must be to be worth it


def _find(report: Report, group: str, pattern: str) -> list[Figure]:
    return [f for f in report.figures if f.group == group and re.search(pattern, f.name)]


def recommend(report: Report) -> Recommendation:
    advice = Recommendation()
    scaling = _find(report, "workers", r"\d+ workers?\b")
    if scaling:
        best = max(scaling, key=lambda figure: figure.value)
        advice.workers = int(best.name.split(" worker")[0].split(", ")[-1])
        advice.reasons.append(
            f"workers {advice.workers}: {best.value:.1f} photos/s, {best.ratio or 1:.2f}x one worker"
        )
    previews = _find(report, "previews", r"^all sizes")
    if previews:
        figure = previews[0]
        advice.engine = "pyvips" if (figure.ratio or 0) >= 1 else "pillow"
        advice.reasons.append(
            f"engine {advice.engine}: pyvips {figure.value:.0f} ms vs pillow "
            f"{figure.baseline_value:.0f} ms per photo"
        )
    checksums = _find(report, "checksums", r"\d+ threads?$")
    if checksums:
        best = max(checksums, key=lambda figure: figure.value)
        advice.checksum_threads = int(best.name.split(", ")[-1].split(" ")[0])
        advice.reasons.append(f"checksum threads {advice.checksum_threads}: {best.value:,.0f} MB/s")
    video = _find(report, "transcode", r"\(default\)")
    if video:
        speed = video[0].value
        advice.defer_videos = speed < 2.0
        advice.reasons.append(
            f"{'defer' if advice.defer_videos else 'do not defer'} videos: web video at "
            f"{speed:.2f}x real time"
        )
    _recommend_embeddings(report, advice)
    return advice


def _recommend_embeddings(report: Report, advice: Recommendation) -> None:
    """The fastest worker × thread layout; int8 only where it is faster and agrees."""
    best: dict[str, tuple[float, int, int]] = {}
    for figure in report.figures:
        match = _LAYOUT.match(figure.name) if figure.group == "embeddings" else None
        if match:
            precision, workers, threads = match.group(1), int(match.group(2)), int(match.group(3))
            if figure.value > best.get(precision, (0.0, 0, 0))[0]:
                best[precision] = (figure.value, workers, threads)
    if "fp32" not in best:
        return
    agreement = _find(report, "embeddings", r"^int8 top-5 agreement")
    precision = "fp32"
    if "int8" in best and agreement:
        agrees = agreement[0].value >= INT8_AGREEMENT
        faster = best["int8"][0] >= best["fp32"][0] * INT8_GAIN
        if agrees and faster:
            precision = "int8"
        else:
            why = "agrees on only" if not agrees else "is not faster at"
            advice.reasons.append(
                f"embeddings fp32: int8 {why} {agreement[0].value:.0f}% top-5 agreement, "
                f"{best['int8'][0]:.0f} against {best['fp32'][0]:.0f} images/s"
            )
    rate, advice.model_workers, advice.model_threads = best[precision]
    advice.model_precision = precision
    advice.reasons.append(
        f"embeddings {precision}: {counted(advice.model_workers, 'worker')} x "
        f"{counted(advice.model_threads, 'thread')}, {rate:.0f} images/s"
    )


def _set_key(text: str, section_path: list[str], key: str, value: str) -> str:
    """Sets ``key`` under the nested sections, keeping every comment of the file."""
    lines = text.splitlines(keepends=True)
    depth_indent: list[int] = []
    wanted = 0
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        while depth_indent and indent <= depth_indent[-1]:
            depth_indent.pop()
            wanted = min(wanted, len(depth_indent))
        if wanted < len(section_path) and stripped == f"{section_path[wanted]}:":
            if len(depth_indent) == wanted:
                depth_indent.append(indent)
                wanted += 1
            continue
        if wanted == len(section_path) and re.match(rf"{re.escape(key)}\s*:", stripped):
            comment = ""
            if " #" in line:
                comment = "  #" + line.split(" #", 1)[1].rstrip("\n")
            lines[number] = f"{' ' * indent}{key}: {value}{comment}\n"
            return "".join(lines)
    raise KeyError(f"{'.'.join([*section_path, key])} not found in the config file")


def apply(recommendation: Recommendation, config_file: Path) -> None:
    """Writes workers, engine and the model layout into the config file, then checks it
    still loads (and puts the file back as it was when it does not)."""
    original = config_file.read_text(encoding="utf-8")
    text = _set_key(original, ["extractor"], "workers", str(recommendation.workers))
    text = _set_key(text, ["extractor", "image"], "engine", recommendation.engine)
    if recommendation.model_workers:
        models = ["extractor", "models"]
        for key, value in (
            ("workers", str(recommendation.model_workers)),
            ("threads", str(recommendation.model_threads)),
            ("precision", recommendation.model_precision),
        ):
            try:
                text = _set_key(text, models, key, value)
            except KeyError:  # a config from before these keys: add them by hand
                log.warning("--apply: extractor.models.%s is not in %s; left out", key, config_file)
    write_text(config_file, text)
    try:
        load_config(config_file)
    except Exception:
        write_text(config_file, original)
        raise
