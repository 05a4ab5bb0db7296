"""The house's layers: every module imports alone (no import cycles, even under TYPE_CHECKING,
which a fresh interpreter would not see, so annotations are resolved too), and `storage/`
knows neither the chat layers nor the reminder domain."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "reminders", "handlers", "bot", "config")


def _modules(package: str) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement, at any depth (TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _import_alone(module: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT
    )
    return "" if result.returncode == 0 else f"{module}: {result.stderr.strip()[-300:]}"


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="imports do not depend on the database: checked once, on the SQLite run",
)
def test_each_module_imports_alone_in_a_fresh_interpreter() -> None:
    # One interpreter per module, every module of the house (about a minute on two cores): a
    # cycle only shows when one of its modules is imported first.
    modules = [m for p in PACKAGES for m in _modules(p)]
    assert len(modules) > 100
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        failed = [f for f in pool.map(_import_alone, modules) if f]
    assert failed == []


def test_no_import_cycle_between_modules_of_the_house() -> None:
    """A static check that also sees imports under TYPE_CHECKING and inside functions."""
    ours = {m for p in PACKAGES for m in _modules(p)}
    graph: dict[str, set[str]] = {}
    for module in ours:
        path = ROOT / Path(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        graph[module] = {
            name
            for name in _imports(path)
            if name in ours and name != module and not module.startswith(name + ".")
        }
    cycles = []
    for start in sorted(graph):
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" → ".join([*trail, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    assert cycles == []


def test_storage_imports_neither_the_chat_layers_nor_the_reminder_domain() -> None:
    forbidden = ("handlers", "bot", "reminders", "flask", "linebot", "slack_bolt", "slack_sdk")
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "storage").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    }
    assert wrong == set()


def test_the_reminder_domain_knows_no_chat_layer() -> None:
    forbidden = ("handlers", "bot", "flask", "linebot", "slack_bolt", "slack_sdk")
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "reminders").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    }
    assert wrong == set()
