"""The ``homegallery`` command as a user runs it: a real process from the venv."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from homegallery import __version__
from homegallery.cli.main import build_parser, main
from homegallery.config import load_config

COMMANDS = [
    "init",
    "index",
    "extract",
    "build",
    "serve",
    "run",
    "search",
    "bench",
    "models",
    "doctor",
    "migrate",
    "remove",
    "storage",
    "export",
    "fetch",
    "worker",
]


def homegallery(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the installed console script (falls back to the module in a bare checkout)."""
    script = Path(sys.executable).parent / "homegallery"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "homegallery.cli.main"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=os.environ.copy(),
        timeout=60,
    )


def test_version() -> None:
    result = homegallery("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"homegallery {__version__}"


# What a command's --help must not load: each costs tens of milliseconds or more, and
# msgspec and YAML alone would take the help past 100 ms on a Raspberry Pi.
HEAVY_MODULES = (
    "dask",
    "distributed",
    "numpy",
    "PIL",
    "pyvips",
    "litestar",
    "uvicorn",
    "onnxruntime",
    "onnx",
    "msgspec",
    "yaml",
    "homegallery._core",
)
SUBCOMMANDS = [
    ["models", "install"],
    ["models", "verify"],
    ["run", "import"],
    ["run", "server"],
    ["storage", "purge"],
    ["storage", "compact"],
    ["export", "meta"],
    ["export", "static"],
]


@pytest.mark.parametrize(
    "command", [[], *([name] for name in [*COMMANDS, "config", "demo"]), *SUBCOMMANDS]
)
def test_help_loads_nothing_heavy(command: list[str]) -> None:
    """Asked in a fresh interpreter, as a user's shell would."""
    probe = (
        "import sys\n"
        "from homegallery.cli.main import main\n"
        "try:\n"
        f"    main({[*command, '--help']!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(set({HEAVY_MODULES!r}) & set(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stderr.strip().splitlines()[-1] == "[]", command


def test_help_lists_every_command() -> None:
    result = homegallery("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert f"\n    {command} " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    output = capsys.readouterr().out
    assert f"usage: homegallery {command}" in output
    assert "--config" in output


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().out


def test_config_option_is_accepted_before_and_after_the_command(tmp_path: Path) -> None:
    parser = build_parser()
    before = parser.parse_args(["--config", str(tmp_path / "a.yml"), "init"])
    after = parser.parse_args(["init", "--config", str(tmp_path / "b.yml")])
    assert before.config == tmp_path / "a.yml"
    assert after.config == tmp_path / "b.yml"


def test_init_writes_a_commented_config_that_loads(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    result = homegallery("init", str(tmp_path / "gallery"), "--source", str(photos))
    assert result.returncode == 0, result.stderr
    config_file = tmp_path / "gallery" / "gallery.yml"
    text = config_file.read_text()
    assert text.count("\n#") + text.count("  #") > 10
    config = load_config(config_file)
    assert config.sources[0].path == photos
    assert config.storage.path == tmp_path / "gallery" / "storage"
    assert config.database.path == tmp_path / "gallery" / "catalog.db"


def test_init_without_folder_uses_xdg_locations(isolated_home: Path) -> None:
    assert main(["init"]) == 0
    config = load_config(isolated_home / ".config/homegallery/gallery.yml")
    assert config.storage.path == isolated_home / ".local/share/homegallery/storage"


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.yml"
    target.write_text("# mine\n")
    assert main(["init", "--config", str(target)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert target.read_text() == "# mine\n"
    assert main(["init", "--config", str(target), "--force"]) == 0
    assert "sources:" in target.read_text()


def test_init_rejects_a_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "g"), "--source", str(tmp_path / "nope")]) == 1
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "g" / "gallery.yml").exists()


def test_bad_config_is_one_line_without_traceback(tmp_path: Path) -> None:
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("server:\n  port: [1, 2]\n")
    result = homegallery("--config", str(config_file), "config")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"homegallery config: error: {config_file}: `server.port`: expected `int`, got `array`"
    ]


def test_config_command_prints_resolved_paths(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("sources: [{dir: pics}]\n")
    result = homegallery("config", "--config", str(config_file))
    assert result.returncode == 0, result.stderr
    assert f"dir: {tmp_path / 'pics'}" in result.stdout
    assert "previewSizes:" in result.stdout


def test_quiet_and_verbose_are_counted(tmp_path: Path) -> None:
    args = build_parser().parse_args(["-vv", "init", "-q"])
    assert args.verbose == 2
    assert args.quiet == 1


def test_demo_dates_its_copies_of_the_test_photos_before_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undated test chart copied today must not sort as today's newest photo."""
    from homegallery.cli.demo import DEMO_FILE_TIME, prepare_demo

    shared = tmp_path / "shared"
    (shared / "orientation").mkdir(parents=True)
    Image.new("RGB", (40, 30), "red").save(shared / "orientation" / "chart.jpg")
    monkeypatch.setenv("HOMEGALLERY_TEST_PHOTOS", str(shared))

    prepare_demo(tmp_path / "demo")

    copy = tmp_path / "demo" / "photos" / "orientation" / "chart.jpg"
    assert copy.stat().st_mtime == DEMO_FILE_TIME.timestamp()


@pytest.mark.parametrize(
    "command", [[name] for name in [*COMMANDS, "config", "demo"]] + SUBCOMMANDS, ids=str
)
def test_help_is_plain_text(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Descriptions made from docstrings lose their reStructuredText markup."""
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    output = capsys.readouterr().out
    for markup in ("``", ":func:", ":class:", ":mod:"):
        assert markup not in output, f"{markup} in the help of {command}"


@pytest.mark.parametrize(
    "command", [["serve"], ["run", "server"], ["demo", "--generated", "--dir", "demo"]], ids=str
)
def test_a_port_in_use_is_one_line_before_anything_starts(
    command: list[str], tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    config = tmp_path / "gallery.yml"
    config.write_text(f"sources: [{{dir: {photos}}}]\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = homegallery("-c", str(config), *command, "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].endswith(
        f"port {port} is in use; choose another with --port"
    ), result.stderr
    assert "Traceback" not in result.stderr and "Errno" not in result.stderr
    assert not (tmp_path / "demo" / "data").exists()  # the demo imported nothing first


def test_the_index_summary_counts_in_words(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "one.jpg").write_bytes(b"\xff\xd8\xff\xe0 one")
    config = tmp_path / "gallery.yml"
    config.write_text(f"sources: [{{dir: {photos}}}]\n")
    result = homegallery("-c", str(config), "index")
    assert result.returncode == 0, result.stderr
    assert ": 1 file seen, added 1," in result.stdout and result.stdout.rstrip().endswith(
        "; 1 entry"
    ), result.stdout
