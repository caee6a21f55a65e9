"""The layers of ../shared/DESIGN.md §2, checked on the import graph of every module (imports inside
functions and under TYPE_CHECKING included):

    ui (Streamlit pages; the router survey_app.app) → services (collection, integrity, admin, demo,
    results, the composed store, the command line) → storage (survey_app.db) → core (survey_app.core)

Only the ui imports Streamlit; nothing imports the ui; `results` imports only core and storage;
no import cycle anywhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from survey_app.core.config import PROJECT_DIR

PACKAGES = ("survey_app", "results")
UI = ("survey_app.ui", "survey_app.app")
CORE = ("survey_app.core",)
STORAGE = ("survey_app.db",)
# What each layer may import from the project besides itself (prefixes of module names).
ALLOWED = {
    CORE: CORE,
    STORAGE: CORE + STORAGE,
    ("results",): CORE + STORAGE + ("results",),
}

Graph = Mapping[str, set[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, known: set[str]) -> str | None:
    """The project module `name` names: itself, else the package holding it (a name inside it)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            top = name.partition(".")[0]
            if top in PACKAGES:
                resolved = _resolve(name, known)
                if resolved and resolved != module:
                    found.add(resolved)
            elif top == "streamlit":
                found.add("streamlit")
    return found


def import_graph(root: Path = PROJECT_DIR) -> dict[str, set[str]]:
    """Every module of the project → the project modules (and 'streamlit') it imports."""
    files = {(_module_name(p)): p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))}
    known = set(files)
    return {module: _imports(path, module, known) for module, path in files.items()}


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target in graph and not state.get(target):
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if not state.get(module):
            found = visit(module)
            if found:
                return found
    return None


def layer_problems(graph: Graph) -> list[str]:
    """Each import that points the wrong way, as 'importer → imported: why'."""
    problems = []
    for module, targets in sorted(graph.items()):
        in_ui = _under(module, UI)
        for target in sorted(targets):
            if target == "streamlit" and not in_ui:
                problems.append(f"{module} → streamlit: only the ui imports Streamlit")
            elif target != "streamlit" and _under(target, UI) and not in_ui:
                problems.append(f"{module} → {target}: nothing below the ui imports a page")
            for layer, allowed in ALLOWED.items():
                if _under(module, layer) and target != "streamlit" and not _under(target, allowed):
                    problems.append(f"{module} → {target}: {layer[0]} may import only {', '.join(allowed)}")
    return problems


def test_the_project_has_no_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_every_import_points_down_the_layers() -> None:
    assert layer_problems(import_graph()) == []


def test_the_graph_sees_imports_inside_functions_and_every_layer() -> None:
    graph = import_graph()
    assert "streamlit" in graph["survey_app.ui.survey"]
    assert "survey_app.collection.qr" in graph["survey_app.cli"]  # imported inside a command's function
    assert {"survey_app.core", "survey_app.db", "survey_app.collection", "survey_app.integrity",
            "survey_app.admin", "survey_app.ui", "results"} <= {m.rpartition(".")[0] or m for m in graph}


@pytest.mark.parametrize(("graph", "problem"), [
    ({"survey_app.db.store": {"survey_app.integrity.admission"},
      "survey_app.integrity.admission": {"survey_app.db.store"}}, "cycle"),
    ({"survey_app.admin.units": {"streamlit"}}, "only the ui imports Streamlit"),
    ({"survey_app.collection.links": {"survey_app.ui.survey"}}, "nothing below the ui imports a page"),
    ({"results.live": {"survey_app.ui.dashboard"}}, "nothing below the ui imports a page"),
    ({"results.aggregate": {"survey_app.admin.units"}}, "results may import only"),
    ({"survey_app.core.periods": {"results.model"}}, "survey_app.core may import only"),
    ({"survey_app.db.store": {"survey_app.integrity.admission"}}, "survey_app.db may import only"),
])
def test_the_checks_catch_each_kind_of_wrong_import(graph: dict[str, set[str]], problem: str) -> None:
    found = ["cycle"] if find_cycle(graph) else layer_problems(graph)
    assert any(problem in line for line in found), found
