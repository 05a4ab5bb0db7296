"""`renkei import`: validated, idempotent, all-or-nothing, errors that name the place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from config.demo import DEMO_FILE, render_demo
from storage.agreement_file import AgreementFileError, parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.models import Base, KpiEntry, Meeting
from tests.conftest import NOW, TODAY, TOKYO


def row_counts(app: Flask) -> dict[str, int]:
    with app.extensions["renkei"].sessions() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


def run_import(app: Flask, text: str):  # type: ignore[no-untyped-def]
    r = app.extensions["renkei"]
    data = parse_agreement_file(text)
    with transaction(r.sessions) as s:
        return import_agreements(s, data, tz=TOKYO, now=NOW)


DEMO = render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY)


def test_demo_twice_leaves_the_same_rows(app: Flask) -> None:
    first = run_import(app, DEMO)
    after_first = row_counts(app)
    second = run_import(app, DEMO)
    assert first["agreement.created"] == 3 and first["organization.created"] == 4
    assert second == {}  # nothing created, nothing changed
    assert row_counts(app) == after_first
    assert after_first["agreement_party"] == 7 and after_first["contact"] == 8


def test_demo_is_realistic(app: Flask) -> None:
    data = parse_agreement_file(DEMO)
    kinds = sorted(o.kind for o in data.organizations)
    assert kinds == ["company", "company", "municipality", "municipality"]
    platform = [a for a in data.agreements if len(a.parties) > 2]
    assert (
        len(platform) == 1 and sum(p in ("acme", "hikari-bank") for p in platform[0].parties) == 2
    )
    assert all(a.kpis and a.meetings and a.action_items for a in data.agreements)
    assert any(side.secondary for a in data.agreements for side in a.contacts.values())
    # dated around today: some meeting lies ahead within a month
    assert any(0 < (m.at.date() - TODAY).days <= 30 for a in data.agreements for m in a.meetings)


def test_a_changed_file_updates_by_key(app: Flask) -> None:
    run_import(app, DEMO)
    stats = run_import(app, DEMO.replace("place: みなと市役所3F 第1会議室", "place: 市役所5F"))
    assert stats == {"meeting.updated": 1}
    with app.extensions["renkei"].sessions() as s:
        assert (
            s.scalar(select(Meeting.place).where(Meeting.title == "第8回 実務者会議")) == "市役所5F"
        )


SAKURA_SIDE = "sakura-town: {primary: takahashi, secondary: watanabe}\n      hikari-bank"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "period: quarterly",
            "period: weekly",
            "agreements[0].kpis[0].period: 'weekly' is not one of monthly, quarterly, yearly",
        ),
        ("unit: 人", "unit: 人\n        colour: red", "agreements[0].kpis[0].colour: unknown key"),
        (
            "primary: tanaka",
            "primary: tanka",
            "agreements[0].contacts.minato-city.primary: 'tanka' is not a known contact",
        ),
        (
            "parties: [minato-city, acme]",
            "parties: [minato-city, acmee]",
            "agreements[0].parties[1]: 'acmee' is not a known organization",
        ),
        (
            SAKURA_SIDE,
            SAKURA_SIDE.replace("takahashi", "tanaka"),
            "agreements[1].contacts.sakura-town.primary: 'tanaka' does not belong to 'sakura-town'",
        ),
        ("target: 600", "target: lots", "agreements[0].kpis[0].target:"),
    ],
)
def test_a_broken_file_changes_nothing_and_names_the_place(
    app: Flask, old: str, new: str, message: str
) -> None:
    broken = DEMO.replace(old, new, 1)
    assert broken != DEMO
    before = row_counts(app)
    with pytest.raises(AgreementFileError) as err:
        run_import(app, broken)
    assert any(message in p for p in err.value.problems), err.value.problems
    assert row_counts(app) == before


def test_a_broken_file_after_a_good_one_changes_nothing(app: Flask) -> None:
    run_import(app, DEMO)
    before = row_counts(app)
    broken = DEMO.replace("place: みなと市役所3F 第1会議室", "place: 変更") + "\nextra: 1\n"
    with pytest.raises(AgreementFileError, match="extra: unknown key"):
        run_import(app, broken)
    assert row_counts(app) == before


def test_not_yaml_or_not_a_mapping() -> None:
    with pytest.raises(AgreementFileError, match="line 1: not valid YAML"):
        parse_agreement_file("agreements: [")
    with pytest.raises(AgreementFileError, match="top level must be a mapping"):
        parse_agreement_file("- 1\n- 2\n")


def test_a_datetime_without_offset_is_tokyo_and_stored_in_utc(app: Flask) -> None:
    run_import(app, DEMO.replace("T14:00+09:00", "T14:00", 1))
    with app.extensions["renkei"].sessions() as s:
        at = s.scalar(select(Meeting.starts_at).where(Meeting.title == "第8回 実務者会議"))
    assert at == datetime(2026, 12, 10, 5, 0, tzinfo=UTC)


def test_kpi_entries_are_keyed_by_their_fiscal_period(app: Flask) -> None:
    run_import(app, DEMO)
    with app.extensions["renkei"].sessions() as s:
        starts = sorted({d.month for d in s.scalars(select(KpiEntry.period_start))})
    assert set(starts) <= {1, 4, 7, 10}  # quarter and fiscal-year starts only
