"""The import graph of bot/ (module → the bot modules it imports), its cycles, and the longest
functions: `python tools/import_graph.py [--root DIR] [--longest N]`.

Read with `ast` only, nothing is imported or run. Imports inside functions count (a deferred
import is still a dependency); imports under `if TYPE_CHECKING:` do not, as they exist for
annotations only (the cogs name the Bot subclass that loads them).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Graph = dict[str, set[str]]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `root`, by dotted name."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def imported(path: Path, name: str) -> set[str]:
    """The dotted names a module imports (relative imports made absolute)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below `node` except the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child.test):
            yield from (n for other in child.orelse for n in (other, *_runtime_nodes(other)))
            continue
        yield child
        yield from _runtime_nodes(child)


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_graph(root: Path, package: str = "bot") -> Graph:
    """Module → the modules of the same package it imports (`from bot import x` counts as
    bot.x when that is a module)."""
    known = modules(root, package)
    return {
        name: {dep for dep in imported(path, name) if dep in known and dep != name}
        for name, path in known.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph.get(node, ())):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def functions(root: Path, package: str) -> Iterator[tuple[int, str]]:
    """(lines, 'module:qualified.name') of every function and method of `package`."""
    for name, path in modules(root, package).items():
        tree = ast.parse(path.read_text(), filename=str(path))
        yield from _defs(tree, f"{name}:")


def _defs(node: ast.AST, prefix: str) -> Iterator[tuple[int, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            yield (child.end_lineno or child.lineno) - first + 1, prefix + child.name
            yield from _defs(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _defs(child, f"{prefix}{child.name}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to read")
    parser.add_argument("--longest", type=int, default=10, help="how many functions to list")
    args = parser.parse_args(argv)
    graph = import_graph(args.root)
    print("Import graph of bot/ (module → bot modules it imports):")
    for name in sorted(graph):
        print(f"  {name} → {', '.join(sorted(graph[name])) or '-'}")
    loops = cycles(graph)
    print("Cycles:" if loops else "Cycles: none")
    for loop in loops:
        print(f"  {' ↔ '.join(loop)}")
    print("Longest functions of bot/ (lines, decorators included):")
    for lines, name in sorted(functions(args.root, "bot"), reverse=True)[: args.longest]:
        print(f"  {lines:4d}  {name}")
    return 1 if loops else 0


if __name__ == "__main__":
    sys.exit(main())
