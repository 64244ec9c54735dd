"""Embeddings per second: EfficientNet-Lite0 fp32 and int8, previews decoded included.

Runs the extract step's own code (preview choice and DCT-scaled decode, the model's
pre-processing, one onnxruntime session per worker process, batches of 16) on 800 px
previews of the user's photos (``--data``) or of generated pictures, and measures

- images per second for fp32 and for the int8 variant, decode included, for each
  layout of worker processes × onnxruntime threads that fits the cores; the
  recommendation picks the fastest layout, and int8 only where it is faster and
  agrees with fp32 on at least 95% of the top-5 classes;
- how often int8 and fp32 agree: fp32's class among int8's top 5 (the target), the
  overlap of the two top-5 lists, top-1, the stored labels and the embeddings' cosine;
- memory per worker process with its session loaded, after a batch;
- a Raspberry Pi 4 estimate from the cost per operation: the model's multiply-adds
  per image (counted from the graph) at the share of this CPU's peak rate that
  onnxruntime reaches here, moved to the Pi 4's peak (four Cortex-A72 cores at
  1.5 GHz, 8 float multiply-adds per cycle each); decoding scaled by the clock and
  half the work per clock.

    .venv/bin/python benches/bench_embeddings.py  (or: homegallery bench) [--quick]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from homegallery import xdg
from homegallery.bench.report import Figure, Report, quick_stage_main
from homegallery.bench.suite import StageSkipped
from homegallery.config import Models, load_config, parse_config
from homegallery.extract import embed
from homegallery.extract.preview import PreviewError, VipsEngine
from homegallery.models import store
from homegallery.models.preprocess import efficientnet_input
from homegallery.models.spec import EFFICIENTNET_LITE0 as SPEC
from homegallery.progress import counted
from homegallery.samples import write_sample_photo

BATCH = 16
PREVIEW = 800  # the preview the step decodes for a camera photo (short side 600 → 300)
AGREEMENT_TARGET = 0.95
GENERATED_PREFIX = "preview-g"  # previews of generated pictures, beside the user's photos
PI4_CORES = 4
PI4_HZ = 1.5e9
PI4_MACS_PER_CYCLE = 8  # two 128-bit NEON pipelines, each four fp32 fused multiply-adds
PI4_DECODE_SLOWDOWN = 2.0  # work per clock of an A72 against a recent x86 core, roughly


@dataclass(frozen=True)
class Layout:
    workers: int
    threads: int

    @property
    def name(self) -> str:
        return f"{counted(self.workers, 'worker')} x {counted(self.threads, 'thread')}"


def layouts(cores: int) -> list[Layout]:
    """Worker × thread layouts that use at most every core: one of each kind at least."""
    found = {Layout(1, 1), Layout(1, cores), Layout(cores, 1)}
    if cores >= 4:
        found.add(Layout(cores // 2, 2))
    return sorted(found, key=lambda layout: (layout.workers, layout.threads))


# --- worker side ------------------------------------------------------------------------


_before_session = 0  # this worker's resident bytes before its session was made


def _worker_run(paths: Sequence[str], model_file: str, threads: int) -> tuple[int, float, int, int]:
    """(images, seconds, resident bytes, of them the session's) of one batch in this
    process; the session is made at the first batch and reused."""
    global _before_session
    import numpy as np

    settings = embed.EmbeddingSettings(
        model="bench", model_tag="bench", model_file=Path(model_file), input_name="image",
        threads=threads,
    )  # fmt: skip
    started = time.perf_counter()
    batch = np.stack([efficientnet_input(embed.load_input([Path(path)])) for path in paths])
    if not _before_session:
        _before_session = _resident_bytes()
    embed.session_for(settings).run(["embedding", "logits"], {"image": batch})
    resident = _resident_bytes()
    return len(paths), time.perf_counter() - started, resident, resident - _before_session


def _resident_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


@dataclass
class Throughput:
    images_per_second: float
    resident: int  # the largest worker's resident bytes with its session loaded
    session: int  # of them, what loading and running the session added


def throughput(
    paths: Sequence[str], model_file: Path, layout: Layout, repeat: int = 1
) -> Throughput:
    """Images per second of ``layout`` on ``paths`` (best of ``repeat``) and memory."""
    batches = [list(paths[start : start + BATCH]) for start in range(0, len(paths), BATCH)]
    context = get_context("forkserver" if sys.platform.startswith("linux") else "spawn")
    model = str(model_file)
    with ProcessPoolExecutor(layout.workers, mp_context=context) as pool:
        # every worker makes its session and runs a batch before the clock starts
        warm = [
            pool.submit(_worker_run, batches[0], model, layout.threads)
            for _ in range(layout.workers)
        ]
        results = [future.result() for future in warm]
        best = 0.0
        for _ in range(repeat):
            started = time.perf_counter()
            done = list(
                pool.map(
                    _worker_run, batches, [model] * len(batches), [layout.threads] * len(batches)
                )
            )
            best = max(best, sum(r[0] for r in done) / (time.perf_counter() - started))
            results.extend(done)
    return Throughput(best, max(r[2] for r in results), max(r[3] for r in results))


# --- pictures, agreement, operation counts ----------------------------------------------------


def previews(folder: Path, count: int, data: Path | None) -> list[str]:
    """800 px previews (as the preview step makes them) of ``data``'s JPEGs or of pictures."""
    engine = VipsEngine()
    sources: list[Path] = []
    if data is not None:
        sources = sorted(p for p in data.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    made: list[str] = []
    for number, source in enumerate(sources):
        if len(made) == count:
            break
        try:
            rendered = engine.render(source, [PREVIEW], 80)
        except PreviewError:
            continue
        path = folder / f"preview-{number}.jpg"
        path.write_bytes(rendered[0][1])
        made.append(str(path))
    number = 0
    while len(made) < count:
        photo = write_sample_photo(folder / f"photo-{number}.jpg", 1600, 1200, seed=number).path
        path = folder / f"{GENERATED_PREFIX}{number}.jpg"
        path.write_bytes(engine.render(photo, [PREVIEW], 80)[0][1])
        made.append(str(path))
        number += 1
    return made


@dataclass(frozen=True)
class Agreement:
    """How far int8 answers as fp32 does, over the same photos."""

    top5: float  # share of photos whose fp32 class is among int8's five most probable
    overlap: float  # mean share of the five most probable classes the two have in common
    top1: float  # share of photos whose most probable class is the same
    labels_kept: float  # share of fp32's labels at the threshold that int8 gives too
    labels_added: int  # labels int8 gives at the threshold that fp32 does not
    cosine: float  # mean cosine of the two embeddings of a photo


def agreement(
    paths: Sequence[str], fp32: Path, int8: Path, label_threshold: float = Models().label_threshold
) -> Agreement:
    """int8 against fp32 on ``paths``: classes, stored labels and embeddings."""
    import numpy as np
    import onnxruntime as ort

    batch = np.stack([efficientnet_input(embed.load_input([Path(path)])) for path in paths])
    outputs = []
    for model in (fp32, int8):
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        outputs.append(session.run(["embedding", "logits"], {"image": batch}))
    (embedding_a, logits_a), (embedding_b, logits_b) = outputs
    top_a = np.argsort(-logits_a, axis=1)[:, :5]
    top_b = np.argsort(-logits_b, axis=1)[:, :5]
    labels_a = [set(np.flatnonzero(row >= label_threshold)) for row in _softmax(logits_a)]
    labels_b = [set(np.flatnonzero(row >= label_threshold)) for row in _softmax(logits_b)]
    given = sum(len(labels) for labels in labels_a)
    pairs = list(zip(labels_a, labels_b, strict=True))
    return Agreement(
        top5=float(np.mean([a[0] in set(b) for a, b in zip(top_a, top_b, strict=True)])),
        overlap=float(
            np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top_a, top_b, strict=True)])
        ),
        top1=float(np.mean(top_a[:, 0] == top_b[:, 0])),
        labels_kept=sum(len(a & b) for a, b in pairs) / given if given else 1.0,
        labels_added=sum(len(b - a) for a, b in pairs),
        cosine=float(np.mean(np.sum(embedding_a * embedding_b, axis=1))),
    )


def _softmax(logits: Any) -> Any:
    import numpy as np

    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def multiply_adds(model: Path) -> int:
    """Multiply-adds of one image through the graph's convolutions and matrix products."""
    import numpy as np
    import onnx
    from onnx import shape_inference

    graph = shape_inference.infer_shapes(onnx.load(str(model))).graph
    shapes: dict[str, list[int]] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        dims = [
            d.dim_value if d.HasField("dim_value") else 1 for d in value.type.tensor_type.shape.dim
        ]
        shapes[value.name] = dims
    weights = {tensor.name: list(tensor.dims) for tensor in graph.initializer}
    total = 0
    for node in graph.node:
        if node.op_type == "Conv" and node.input[1] in weights:
            kernel = weights[node.input[1]]  # [out, in/groups, kh, kw]
            out = shapes.get(node.output[0])
            if out:
                total += int(np.prod(out[1:])) * int(np.prod(kernel[1:]))
        elif node.op_type in ("Gemm", "MatMul") and node.input[1] in weights:
            total += int(np.prod(weights[node.input[1]]))
    return total


def cpu_rate() -> tuple[float, int] | None:
    """(clock in Hz, peak fp32 multiply-adds per cycle) of one core here, from /proc/cpuinfo."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    flags = next((line for line in lines if line.startswith("flags")), "")
    mhz = next((line for line in lines if line.startswith("cpu MHz")), "")
    if not flags or not mhz:
        return None
    words = set(flags.split(":", 1)[1].split())
    lanes = 16 if "avx512f" in words else 8 if "avx2" in words else 4
    units = 2 if "fma" in words else 1  # x86 cores with FMA have two FMA pipes
    return float(mhz.split(":", 1)[1]) * 1e6, lanes * units


# --- the stage ----------------------------------------------------------------------------


def _models(models_dir: Path | None) -> tuple[Path, Path | None]:
    if models_dir is None:
        config_file = xdg.default_config_file()
        config = (
            load_config(config_file) if config_file.is_file() else parse_config({}, config_file)
        )
        models_dir = config.extractor.models.path
    found = store.installed(SPEC, models_dir)
    if found is None:
        raise StageSkipped(
            f"{SPEC.name} is not installed in {models_dir}: "
            f"run `homegallery models install --int8 {SPEC.name}`"
        )
    return found.model, found.int8_model


def run(quick: bool, models_dir: Path | None = None, data: Path | None = None) -> Report:
    fp32, int8 = _models(models_dir)
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    count = 32 if quick else 128
    chosen = [Layout(1, 1), Layout(cores, 1)] if quick else layouts(cores)
    report = Report(f"embeddings: EfficientNet-Lite0, batches of {BATCH}, {PREVIEW} px previews")
    with tempfile.TemporaryDirectory(prefix="hg-bench-embeddings-") as folder:
        paths = previews(Path(folder), count, data)
        started = time.perf_counter()
        for path in paths:
            efficientnet_input(embed.load_input([Path(path)]))
        decode = (time.perf_counter() - started) / len(paths)
        report.add(Figure("embeddings", "preview decode + pre-processing per image", decode * 1000,
                          "ms", higher_is_better=False))  # fmt: skip
        rates: dict[tuple[str, Layout], float] = {}
        for precision, model in [("fp32", fp32), ("int8", int8)]:
            if model is None:
                continue
            for layout in chosen:
                measured = throughput(paths, model, layout, repeat=1 if quick else 2)
                rates[(precision, layout)] = measured.images_per_second
                if layout == Layout(1, 1):
                    report.add(Figure("embeddings", f"memory per worker, {precision}",
                                      measured.resident / 2**20, "MB", higher_is_better=False))  # fmt: skip
                    report.add(Figure("embeddings", f"of it the session, {precision}",
                                      measured.session / 2**20, "MB", higher_is_better=False))  # fmt: skip
        _rate_figures(report, rates)
        if int8 is not None:
            # Agreement on the user's photos alone when there are some: a generated
            # picture's few labels sit at the threshold and flip on any change.
            photos = [p for p in paths if not Path(p).name.startswith(GENERATED_PREFIX)]
            _agreement_figures(report, agreement(photos or paths, fp32, int8), real=bool(photos))
        _pi4_figures(report, fp32, rates[("fp32", Layout(1, 1))], decode)
    return report


def _agreement_figures(report: Report, found: Agreement, real: bool) -> None:
    """The target is top-5 agreement as accuracy is counted against a reference: fp32's
    class among int8's five. The overlap of the two top-5 lists counts rank-4 and rank-5
    classes of a fraction of a percent, which swap on any change and are never stored,
    so it is reported beside the target, with the stored labels themselves."""
    pictures = "" if real else " Generated pictures: pass --data for photos."
    report.add(Figure("embeddings", "int8 top-5 agreement with fp32", found.top5 * 100, "%",
                      target=f">= {AGREEMENT_TARGET:.0%}",
                      note="photos whose fp32 class is among int8's five most probable."
                      + pictures))  # fmt: skip
    report.add(Figure("embeddings", "int8 top-5 overlap with fp32", found.overlap * 100, "%",
                      note="mean share of the five most probable classes in common"))  # fmt: skip
    report.add(Figure("embeddings", "int8 top-1 agreement with fp32", found.top1 * 100, "%"))
    report.add(Figure("embeddings", "int8 stored labels kept", found.labels_kept * 100, "%",
                      note=f"fp32's labels at the default label threshold that int8 gives too; "
                      f"int8 adds {found.labels_added}"))  # fmt: skip
    report.add(Figure("embeddings", "int8 embedding cosine to fp32", found.cosine, "",
                      note="mean cosine of the int8 and fp32 embeddings of the "
                      "same photos; 1 is the same vector"))  # fmt: skip


def _rate_figures(report: Report, rates: dict[tuple[str, Layout], float]) -> None:
    """Images per second of each precision and layout: fp32 against one worker, int8
    against fp32 in the same layout."""
    for (precision, layout), rate in rates.items():
        if precision == "fp32":
            baseline = ("1 worker x 1 thread", rates[("fp32", Layout(1, 1))])
            target = ">= 80 images/s"
        else:
            baseline = (f"fp32, {layout.name}", rates[("fp32", layout)])
            target = ">= 1.5x fp32"
        if precision == "fp32" and layout == Layout(1, 1):
            baseline = ("", 0.0)
        report.add(Figure("embeddings", f"{precision}, {layout.name}", rate, "images/s",
                          *baseline, target=target))  # fmt: skip


def _pi4_figures(report: Report, fp32: Path, one_worker_rate: float, decode: float) -> None:
    """The model's multiply-adds and the Raspberry Pi 4 estimate made from them (none
    where this CPU's peak rate is unknown)."""
    rate_here = cpu_rate()
    if rate_here is None:
        return
    clock, per_cycle = rate_here
    macs = multiply_adds(fp32)
    model_seconds = max(1 / one_worker_rate - decode, 1e-6)
    share = macs / model_seconds / (clock * per_cycle)
    pi_model = macs / (share * PI4_HZ * PI4_MACS_PER_CYCLE)
    pi_decode = decode * clock / PI4_HZ * PI4_DECODE_SLOWDOWN
    report.add(Figure("embeddings", f"multiply-adds per image ({share:.0%} of peak here)",
                      macs / 1e6, "M"))  # fmt: skip
    report.add(Figure("embeddings", "Raspberry Pi 4 estimate, fp32, 4 workers x 1 thread",
                      PI4_CORES / (pi_model + pi_decode), "images/s"))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "32 previews, two layouts", run, argv)


if __name__ == "__main__":
    sys.exit(main())
