"""The secretariat's web: the overview over every agreement of the busiest organization
(p95 over warm requests through the real app and a signed-in session), and the 推進会議
workbook of the agreement with the most history (five years of it in the data set)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from datetime import time as dtime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.databases import Database
from bench.dataset import TOKYO, Spec
from bench.figures import p95, rounded
from bot.app import create_app
from config import Settings
from storage.db import transaction
from storage.models import Activity, AgreementParty, Contact, Kpi, KpiEntry
from storage.web_access import issue_login_link

SECRETARIAT_KEY = "bench-secretariat"


def _secretariat(session: Session) -> tuple[Contact, int]:
    """A 事務局 contact of the organization that is a party to the most agreements."""
    n = func.count(AgreementParty.agreement_id)
    org, agreements = session.execute(
        select(AgreementParty.organization_id, n)
        .group_by(AgreementParty.organization_id)
        .order_by(n.desc(), AgreementParty.organization_id)
        .limit(1)
    ).one()
    contact = session.scalar(select(Contact).where(Contact.key == SECRETARIAT_KEY))
    if contact is None:
        contact = Contact(
            key=SECRETARIAT_KEY, name="事務局", organization_id=org, active=True, secretariat=True
        )
        session.add(contact)
    contact.organization_id, contact.secretariat = org, True
    session.flush()
    return contact, agreements


def _richest_agreement(session: Session) -> tuple[str, dict[str, int]]:
    kpi_rows = dict(
        session.execute(
            select(Kpi.agreement_id, func.count(KpiEntry.id))
            .join(KpiEntry, KpiEntry.kpi_id == Kpi.id)
            .group_by(Kpi.agreement_id)
        ).all()
    )
    acts = dict(
        session.execute(
            select(Activity.agreement_id, func.count(Activity.id)).group_by(Activity.agreement_id)
        ).all()
    )
    best = max(set(kpi_rows) | set(acts), key=lambda a: (kpi_rows.get(a, 0) + acts.get(a, 0), -a))
    from storage.models import Agreement

    key = session.scalar(select(Agreement.key).where(Agreement.id == best))
    assert key is not None
    return key, {"kpi_entries": kpi_rows.get(best, 0), "activities": acts.get(best, 0)}


def run(db: Database, spec: Spec, *, rounds: int) -> dict[str, Any]:
    now = datetime.combine(spec.today, dtime(10, 0), TOKYO)
    settings = Settings(_env_file=None, database_url=db.full, secret_key="bench")  # type: ignore[call-arg]
    app = create_app(settings, clock=lambda: now)
    sessions = app.extensions["renkei"].sessions
    try:
        with transaction(sessions) as session:
            contact, agreements = _secretariat(session)
            token = issue_login_link(session, contact, now=now)
            key, history = _richest_agreement(session)
        client = app.test_client()
        page = client.get(f"/login/{token}").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        assert client.post(f"/login/{token}", data={"csrf_token": csrf.group(1)}).status_code == 302

        client.get("/")  # warm: templates compiled, connections open
        times = []
        shown = 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            res = client.get("/")
            times.append((time.perf_counter() - t0) * 1000)
            assert res.status_code == 200
            shown = res.get_data(as_text=True).count('<tr class="health-')

        # The workbook: another signed-in person could open any agreement; a 事務局 of the
        # agreement's party is the realistic one, so sign in as its first contact.
        with transaction(sessions) as session:
            from storage.models import Agreement, AgreementContact

            aid = session.scalar(select(Agreement.id).where(Agreement.key == key))
            who = session.scalar(
                select(Contact)
                .join(AgreementContact, AgreementContact.contact_id == Contact.id)
                .where(AgreementContact.agreement_id == aid)
                .limit(1)
            )
            assert who is not None
            token = issue_login_link(session, who, now=now)
        reader = app.test_client()
        page = reader.get(f"/login/{token}").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        reader.post(f"/login/{token}", data={"csrf_token": csrf.group(1)})
        xlsx_times = []
        size = 0
        for _ in range(3):
            t0 = time.perf_counter()
            res = reader.get(f"/agreements/{key}/report.xlsx")
            xlsx_times.append(time.perf_counter() - t0)
            assert res.status_code == 200, res.status_code
            size = len(res.data)
    finally:
        app.extensions["renkei"].engine.dispose()
    return {
        "web_overview_p95_ms": rounded(p95(times), 1),
        "report_xlsx_s": rounded(max(xlsx_times), 3),
        "details": {
            "web_overview_agreements": agreements,
            "web_overview_rows_shown": shown,
            "web_overview_rounds": rounds,
            "report_xlsx_agreement": key,
            "report_xlsx_history": history,
            "report_xlsx_bytes": size,
        },
    }
