"""The lock file a buildpack host installs matches pyproject.toml, and the Python is pinned."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_pin_every_runtime_dependency_as_pyproject_does() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = dict(
        (_canonical(line.split("==")[0]), line.split("==")[1]) for line in lines if "==" in line
    )
    for dep in project["dependencies"]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)", dep).groups()  # type: ignore[union-attr]
        assert pins.get(_canonical(name)) == version, (
            f"{dep}: run .venv/bin/python tools/lock_requirements.py"
        )
    assert all("==" in line or line.startswith("#") for line in lines[:-1])
    assert lines[-1] == "."  # the project itself, after its pinned dependencies


def test_python_version_is_pinned_for_the_buildpack() -> None:
    version = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"3\.1[1-9]", version)
    assert "release:" in (ROOT / "Procfile").read_text(encoding="utf-8")
