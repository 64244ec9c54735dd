"""Shared machinery for benchmarks: timing, figures, ratios against a baseline, tables.

Every script in ``benches/`` and ``homegallery bench`` measures through here, so all
figures are taken the same way (best of several repeats after a warm-up, which is the
figure least disturbed by other work on a small machine) and print in the same shape:
the candidate, its baseline measured in the same run, and the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from homegallery.atomic import write_text

# One clause of a target: "< 150 ms", ">= 1.5x", ">= 95%", "< 10 s at 100k".
_CLAUSE = re.compile(r"^(<=|>=|<|>)\s*([\d,]+(?:\.\d+)?)\s*(x|%|[^\s,]*)")
_AT = re.compile(r"\bat (\d+)(k?)\b")  # "at 100k": a target for samples of that size


@dataclass
class Timing:
    """Seconds of each repeat of one measured call."""

    name: str
    seconds: list[float]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(name: str, function: Callable[[], object], repeat: int = 5, warmup: int = 1) -> Timing:
    """Times ``function`` ``repeat`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return Timing(name, seconds)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; exact for the small samples a benchmark takes."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Figure:
    """One result line: a value with its unit, optionally compared with a baseline."""

    group: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float = 0.0
    higher_is_better: bool = True
    target: str = ""  # clauses such as "< 150 ms, >= 1.5x" or "< 10 s at 100k"
    at: int = 0  # how many entries or files the figure was measured at (for "at 100k")
    note: str = ""  # a line of context, printed under the table

    @property
    def verdict(self) -> str:
        """``pass`` or ``FAIL`` against every clause of the target; empty without one;
        ``n/a at <n>`` when the target is for a bigger sample than this one."""
        if not self.target:
            return ""
        results = [self._check(clause.strip()) for clause in self.target.split(", ")]
        if "FAIL" in results:
            return "FAIL"
        unjudged = [result for result in results if result not in ("pass", "")]
        return unjudged[0] if unjudged else "pass"

    def _check(self, clause: str) -> str:
        match = _CLAUSE.match(clause)
        if match is None:
            return ""
        op, number_text, unit = match.groups()
        limit = float(number_text.replace(",", ""))
        scale = _AT.search(clause)
        if scale is not None:
            wanted = int(scale.group(1)) * (1000 if scale.group(2) else 1)
            if self.at < wanted:
                return f"n/a at {self.at:,}" if self.at else "n/a"
        if unit == "x":
            value = self.ratio
            if value is None:
                return ""
        elif unit == "%" and self.unit == "%":
            value = self.value
        elif unit and not self.unit.startswith(unit):
            return ""
        else:
            value = self.value
        passed = {"<": value < limit, "<=": value <= limit, ">": value > limit}.get(
            op, value >= limit
        )
        return "pass" if passed else "FAIL"

    @property
    def ratio(self) -> float | None:
        """How many times better than the baseline (> 1 means better)."""
        if not self.baseline_name or self.baseline_value == 0 or self.value == 0:
            return None
        if self.higher_is_better:
            return self.value / self.baseline_value
        return self.baseline_value / self.value


@dataclass
class Report:
    """Figures of one run, with the machine they were taken on."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=lambda: machine_facts())

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def table(self) -> str:
        """The figures as a table: each value with whether more or less is better, its
        baseline and how many times better it is (> 1x: better), its target and whether
        it met it; then the notes the figures carry, numbered."""
        rows = [("group", "measure", "value", "better", "baseline", "ratio", "target", "met")]
        notes: list[str] = []
        for figure in self.figures:
            baseline = (
                f"{_number(figure.baseline_value)} {figure.unit} ({figure.baseline_name})"
                if figure.baseline_name
                else ""
            )
            ratio = figure.ratio
            name = figure.name
            if figure.note:
                notes.append(figure.note)
                name = f"{name} [{len(notes)}]"
            rows.append(
                (
                    figure.group,
                    name,
                    f"{_number(figure.value)} {figure.unit}".rstrip(),
                    "higher" if figure.higher_is_better else "lower",
                    baseline,
                    f"{ratio:.2f}x" if ratio is not None else "",
                    figure.target,
                    figure.verdict,
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        lines = [f"{self.title}  ({self.machine['summary']})"]
        for index, row in enumerate(rows):
            lines.append(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
            if index == 0:
                lines.append("  ".join("-" * width for width in widths))
        lines += [f"[{number}] {note}" for number, note in enumerate(notes, start=1)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "machine": self.machine,
            "figures": [
                asdict(figure) | {"ratio": figure.ratio, "verdict": figure.verdict}
                for figure in self.figures
            ],
        }

    def write_json(self, path: Path) -> None:
        write_text(path, json.dumps(self.to_json(), indent=2) + "\n")


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if float(value).is_integer():  # counts: files, entries, nodes
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


def machine_facts() -> dict[str, Any]:
    cores = os.cpu_count() or 1
    facts: dict[str, Any] = {
        "machine": platform.machine(),
        "system": platform.system(),
        "python": platform.python_version(),
        "cores": cores,
    }
    model = ""
    try:
        fields = dict(
            line.split(":", 1)
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if ":" in line
        )
        fields = {key.strip().lower(): value.strip() for key, value in fields.items()}
        # x86 names the CPU in "model name"; many ARM kernels only in "hardware"/"model".
        model = fields.get("model name") or fields.get("hardware") or fields.get("model", "")
    except OSError:
        pass
    facts["cpu"] = model
    facts["summary"] = f"{facts['machine']}, {cores} cores, {model or 'unknown CPU'}"
    return facts


def print_report(report: Report, json_path: Path | None = None) -> None:
    """Prints the table; writes JSON too when a path is given (benches take --json)."""
    print(report.table())
    sys.stdout.flush()
    if json_path is not None:
        report.write_json(json_path)


def quick_stage_main(
    doc: str | None, quick_help: str, run: Callable[[bool], Report], argv: Sequence[str] | None
) -> int:
    """The command line of a stage benchmark whose only choices are --quick and --json."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick), args.json)
    return 0
