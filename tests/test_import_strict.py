"""The importer refuses duplicate keys and impossible dates with one line naming the place,
never a traceback (through the `renkei import` CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from config.demo import DEMO_FILE, render_demo
from storage.models import Agreement, Meeting
from tests.conftest import TODAY


def _demo_text() -> str:
    return render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY)


def _import(app: Flask, tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "agreements.yaml"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["import", str(path)])


def _agreements(app: Flask) -> int:
    with app.extensions["renkei"].sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Agreement)) or 0)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        # a second `title:` in the first agreement: the last one would silently win
        (
            lambda t: t.replace(
                "  - key: minato-acme\n", "  - key: minato-acme\n    title: 古い名前\n", 1
            ),
            "the key 'title' appears twice in this mapping",
        ),
        (
            lambda t: t.replace("organizations:\n", "organizations:\n", 1) + "organizations: []\n",
            "the key 'organizations' appears twice",
        ),
    ],
)
def test_duplicate_keys_are_refused(app: Flask, tmp_path: Path, mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    text = mutate(_demo_text())
    result = _import(app, tmp_path, text)
    assert result.exit_code == 1
    assert expected in result.output and "line " in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit 1, not a crash
    assert _agreements(app) == 0


def test_an_impossible_date_is_refused_with_its_line(app: Flask, tmp_path: Path) -> None:
    text = _demo_text()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "starts_on:" in line)
    lines[at] = lines[at].split("starts_on:")[0] + "starts_on: 2028-02-30"
    result = _import(app, tmp_path, "\n".join(lines) + "\n")
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if "2028-02-30" in x]
    assert line == f"line {at + 1}: 2028-02-30 is not a date that exists" or line.endswith(
        f"line {at + 1}: 2028-02-30 is not a date that exists"
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert _agreements(app) == 0


def test_an_impossible_meeting_time_is_refused(app: Flask, tmp_path: Path) -> None:
    text = _demo_text().replace("at: ", "at: 2027-13-01 10:00 #", 1)
    result = _import(app, tmp_path, text)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    with app.extensions["renkei"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 0


def test_the_demo_file_still_imports(app: Flask, tmp_path: Path) -> None:
    assert _import(app, tmp_path, _demo_text()).exit_code == 0
    assert _agreements(app) == 3
