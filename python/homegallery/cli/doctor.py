"""``homegallery doctor``: checks this machine and the config, and says what to fix.

Python and the processor, the Rust core's scan kernel, ffmpeg and its encoder, libvips
with HEIC and AVIF, onnxruntime, the installed models, the folders of the config, disk
space for the previews and web videos, memory for the extract workers, and what (if
anything) leaves this machine. Exits 1 when something the config needs is missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery import xdg
from homegallery.cli.common import help_text

if TYPE_CHECKING:
    from homegallery.config import Config
    from homegallery.doctor import Finding

_WIDTH = {"status": 8, "topic": 12}


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "doctor",
        parents=[common],
        help="check this machine and the config, and say what to fix",
        description=help_text(__doc__),
    )
    parser.set_defaults(func=run)


def _config(args: argparse.Namespace) -> tuple[Config | None, list[Finding]]:
    """The config to check against, and what loading it found."""
    from homegallery.config import ConfigError, load_config, parse_config  # lazy: light --help
    from homegallery.doctor import Finding  # lazy: light --help

    path: Path | None = getattr(args, "config", None)
    if path is None and not xdg.default_config_file().exists():
        note = Finding(
            "note",
            "config",
            f"no config file at {xdg.default_config_file()}: the defaults are checked",
            "`homegallery init DIR --source FOLDER` writes one",
        )
        return parse_config({}, xdg.default_config_file()), [note]
    try:
        config = load_config(path)
    except ConfigError as error:
        return None, [Finding("problem", "config", str(error), "correct the config file")]
    return config, [Finding("ok", "config", f"{path or xdg.default_config_file()} loads")]


def collect(args: argparse.Namespace) -> list[Finding]:
    from homegallery.doctor import gallery, system  # lazy: light --help
    from homegallery.models.spec import OFF  # lazy: light --help

    config, found = _config(args)
    found += system.check_python() + system.check_core()
    video = config.extractor.video if config is not None else None
    found += system.check_ffmpeg(video.enabled if video else True, video.encoder if video else "")
    found += system.check_libvips()
    needs_models = config is not None and any(
        name != OFF for name in config.extractor.models.choices.values()
    )
    found += system.check_onnxruntime(needs_models)
    if config is None:
        return found
    found += gallery.check_models(config)
    found += gallery.check_memory(config)
    if config.sources:
        found += gallery.check_folders(config)
        found += gallery.check_disk(config, gallery.count_sources(config))
    found += gallery.check_privacy(config)
    return found


def _line(finding: Finding) -> str:
    status = finding.status.ljust(_WIDTH["status"])
    topic = finding.topic.ljust(_WIDTH["topic"])
    text = f"{status} {topic} {finding.text}"
    if finding.fix:
        text += f"\n{' ' * (_WIDTH['status'] + _WIDTH['topic'] + 2)}fix: {finding.fix}"
    return text


def run(args: argparse.Namespace) -> int:
    from homegallery.doctor import problems  # lazy: light --help

    found = collect(args)
    for finding in found:
        print(_line(finding))
    wrong = problems(found)
    if wrong:
        count = f"{len(wrong)} problem" + ("s" if len(wrong) > 1 else "")
        print(f"\n{count}: fix what is marked `problem` above, then run `homegallery doctor` again")
        return 1
    print("\nno problems: this machine has what the config needs")
    return 0
