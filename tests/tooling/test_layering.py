"""Which package may import which: the folders' architecture, held against every import the code makes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from devtools.live_server import ROOT


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute, wherever in the file the import stands."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imports_under(package: str) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): imported_modules(path) for path in sorted((ROOT / package).rglob("*.py"))}


def reaching(imports: dict[str, set[str]], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        file: sorted(module for module in modules if module.split(".")[0] in forbidden or module.startswith(forbidden))
        for file, modules in imports.items()
        if any(module.split(".")[0] in forbidden or module.startswith(forbidden) for module in modules)
    }


def test_the_parser_sees_imports_made_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def run():\n    from devtools import token\n    import bench.loadgen\n")
    assert imported_modules(module) >= {"devtools", "devtools.token", "bench.loadgen"}


def test_the_implementation_imports_no_development_tooling() -> None:
    assert reaching(imports_under("impl"), ("devtools", "bench", "tests")) == {}


@pytest.mark.parametrize("package", ["generated", "contract_runtime"])
def test_the_generated_layer_and_its_runtime_import_no_implementation(package: str) -> None:
    assert reaching(imports_under(package), ("impl",)) == {}


def test_only_the_http_edge_and_the_composition_root_use_the_error_handlers() -> None:
    users = reaching(imports_under("impl"), ("impl.http.error_handlers",))
    assert {file for file in users if not file.startswith("impl/http/")} <= {"impl/app.py"}


def test_the_database_package_knows_nothing_above_it() -> None:
    above = ("impl.http", "impl.auth", "impl.tasks", "impl.idempotency", "impl.cli", "impl.app", "impl.telemetry")
    assert reaching(imports_under("impl/db"), above) == {}
