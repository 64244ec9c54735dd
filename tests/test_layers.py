"""The package's layers: every import points down the pipeline, and none goes in a circle.

Imports are read with ``ast`` from the sources (``if TYPE_CHECKING:`` blocks left out,
since they never run), function-level imports included: an import moved into a
function to break a cycle still is a cycle, only a later one.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "homegallery"

# Lowest first. A module may import its own unit (the top-level module or package it
# belongs to) and units of lower layers, never a unit of its own layer or above.
LAYERS: list[tuple[str, ...]] = [
    ("_core", "errors", "atomic", "xdg", "log", "progress"),  # no dependencies inside the package
    ("models", "ml"),  # model specs and label tables, which the config names
    ("config", "config_template"),
    ("within", "storage", "samples"),  # where files may lie, derived files
    ("index", "similarity"),  # stage 1, and the vector codes
    ("extract",),  # stage 2: reads the index, writes the storage
    ("catalog",),  # stage 3: reads index and storage
    ("gallery", "importer"),  # the scripting API; the import loop over the stages
    ("homegallery",),  # the package itself: the public API, loaded lazily
    ("server",),
    ("bench", "doctor"),  # measures every stage, the server too; checks the machine
    ("migrate", "maintenance", "export", "fetch"),  # moving in, tidying up, out, home
    ("cli",),  # the command: may use everything, nothing uses it
]
_LAYER_OF = {unit: number for number, units in enumerate(LAYERS) for unit in units}


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    line: int
    lazy: bool  # inside a function
    marked: bool  # the statement carries a `# lazy: <why>` comment


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


class _Collector(ast.NodeVisitor):
    def __init__(self, name: str, path: Path, modules: dict[str, Path]) -> None:
        self.name = name
        self.is_package = path.name == "__init__.py"
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.modules = modules
        self.depth = 0
        self.found: list[Import] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.name.split(".")
            if not self.is_package:
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([node.module] if node.module else []))
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self.add(submodule if submodule in self.modules else base, node)

    def add(self, target: str, node: ast.Import | ast.ImportFrom) -> None:
        if target.split(".")[0] != "homegallery" or target == "homegallery._core":
            return
        if self.name.startswith(target + ".") or target == self.name:
            return  # a package of its own: imported before the module anyway
        text = "\n".join(self.lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
        self.found.append(Import(self.name, target, node.lineno, self.depth > 0, "# lazy:" in text))


def _imports() -> Iterator[Import]:
    modules = _modules()
    for name, path in modules.items():
        collector = _Collector(name, path, modules)
        collector.visit(ast.parse(path.read_text(encoding="utf-8")))
        yield from collector.found


def test_every_unit_has_a_layer() -> None:
    units = {_unit(name) for name in _modules()}
    missing = sorted(units - set(_LAYER_OF))
    assert not missing, f"add {missing} to LAYERS in {Path(__file__).name}"


def test_imports_point_down() -> None:
    wrong = sorted(
        {
            f"{item.source}:{item.line} imports {item.target}"
            for item in _imports()
            if _unit(item.source) != _unit(item.target)
            and _LAYER_OF.get(_unit(item.target), 99) >= _LAYER_OF.get(_unit(item.source), -1)
        }
    )
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for item in _imports():
        edges.setdefault(item.source, set()).add(item.target)
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as error:
        pytest.fail("import cycle: " + " -> ".join(error.args[1]))


def test_function_level_imports_say_why() -> None:
    unmarked = sorted(
        {
            f"{item.source}:{item.line} imports {item.target}"
            for item in _imports()
            if item.lazy and not item.marked
        }
    )
    assert not unmarked, "function-level imports without `# lazy: <why>`:\n" + "\n".join(unmarked)


def test_bench_does_not_use_the_command_line() -> None:
    used = [item for item in _imports() if _unit(item.source) == "bench"]
    assert used and not [item for item in used if _unit(item.target) == "cli"]
