"""SPEC §1 layering: providers/ and storage/ stay free of Discord, of bot/ and of each other;
bot/ has no import cycle; cogs never reach storage (STYLE.md: thin cogs)."""

import ast
from pathlib import Path

import pytest

from tools.import_graph import cycles, import_graph

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "providers": {"discord", "bot", "storage"},
    "storage": {"discord", "bot", "providers"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_the_layers_it_must_not_know(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from discord import ui\n")
    assert "discord" in imported_roots(module)


def test_bot_has_no_import_cycle() -> None:
    assert cycles(import_graph(ROOT, "bot")) == []


def test_the_cycle_check_sees_a_deferred_import_loop(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import f\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from pkg import a\n")
    (tmp_path / "pkg" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import f\n"
    )
    graph = import_graph(tmp_path, "pkg")
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    assert graph["pkg.c"] == set(), "an import for annotations only is no dependency"


def _reaches_storage(path: Path) -> list[str]:
    """Imports of storage/ and reads of `.storage` (as in `services.storage`) in a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = [f"imports {root}" for root in sorted(imported_roots(path) & {"storage"})]
    found += [
        f"line {node.lineno}: .storage"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "storage"
    ]
    return found


def test_cogs_never_reach_storage() -> None:
    """Thin cogs: parse → defer → call a service → render → send; storage is the services'."""
    cogs = sorted((ROOT / "bot" / "cogs").glob("*.py"))
    assert cogs
    offenders = {str(p.relative_to(ROOT)): _reaches_storage(p) for p in cogs}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_storage_scan_sees_a_cog_reading_storage(tmp_path: Path) -> None:
    module = tmp_path / "cog.py"
    module.write_text("async def f(bot):\n    return await bot.services.storage.usage.get()\n")
    assert _reaches_storage(module) == ["line 2: .storage"]
