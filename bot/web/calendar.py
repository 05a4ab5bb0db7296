"""A person's iCalendar feed at an unguessable URL: their meetings (moved or cancelled ones
keep their UID and carry a higher SEQUENCE, so calendar apps update them) and deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, g, render_template
from icalendar import Calendar, Event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.web.auth import login_required, renkei
from storage.db import transaction
from storage.due import due_for_agreements
from storage.models import Agreement, ChangeLog, Contact, Meeting
from storage.web_access import calendar_token, contact_of_feed, visible_agreements

DEADLINE_KINDS = {"action_item": "タスク期限", "kpi_entry": "KPI入力期限", "renewal": "更新期限"}
MEETING_LENGTH = timedelta(hours=1)  # meetings have a start only
AHEAD = timedelta(days=400)
BEHIND = timedelta(days=90)


def feed_url(token: str) -> str:
    return f"{renkei().settings.public_base_url}/calendar/{token}.ics"


def person_calendar(session: Session, contact: Contact, *, now: datetime) -> bytes:
    r = renkei()
    tz = r.settings.tz
    ids = list(session.scalars(visible_agreements(contact)))
    cal = Calendar()
    cal.add("prodid", "-//Renkei//包括連携協定//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Renkei（{contact.name}）")
    cal.add("x-wr-timezone", r.settings.timezone)
    if not ids:
        return cal.to_ical()
    titles = dict(
        session.execute(select(Agreement.id, Agreement.title).where(Agreement.id.in_(ids))).all()
    )
    meetings = list(
        session.scalars(
            select(Meeting).where(
                Meeting.agreement_id.in_(ids),
                Meeting.starts_at >= now - BEHIND,
                Meeting.starts_at < now + AHEAD,
            )
        )
    )
    # Each change written to a meeting (moved, renamed, cancelled) raises its SEQUENCE.
    changes = (
        {
            row_id: (n, last)
            for row_id, n, last in session.execute(
                select(ChangeLog.row_id, func.count(ChangeLog.id), func.max(ChangeLog.created_at))
                .where(ChangeLog.table == "meeting", ChangeLog.action == "update")
                .where(ChangeLog.row_id.in_([m.id for m in meetings]))
                .group_by(ChangeLog.row_id)
            )
        }
        if meetings
        else {}
    )
    host = r.settings.public_base_url.split("://", 1)[-1].split("/")[0]
    for m in meetings:
        sequence, modified = changes.get(m.id, (0, None))
        event = Event()
        event.add("uid", f"meeting-{m.id}@{host}")
        event.add("summary", f"{m.title}（{titles[m.agreement_id]}）")
        event.add("dtstart", m.starts_at.astimezone(tz))
        event.add("dtend", m.starts_at.astimezone(tz) + MEETING_LENGTH)
        event.add("dtstamp", now)
        event.add("sequence", sequence)
        if modified is not None:
            event.add("last-modified", modified)
        if m.place:
            event.add("location", m.place)
        event.add("status", "CANCELLED" if m.cancelled else "CONFIRMED")
        cal.add_component(event)
    today = now.astimezone(tz).date()
    for item in due_for_agreements(
        session, agreement_ids=ids, start=today, end=today + AHEAD, tz=tz
    ):
        if item.kind not in DEADLINE_KINDS or item.overdue:
            continue
        event = Event()
        event.add(
            "uid", f"{item.kind}-{item.agreement_key}-{item.ref_id or 0}-{item.on:%Y%m%d}@{host}"
        )
        event.add(
            "summary", f"【{DEADLINE_KINDS[item.kind]}】{item.title}（{item.agreement_title}）"
        )
        event.add("dtstart", item.on)
        event.add("dtend", item.on + timedelta(days=1))
        event.add("dtstamp", now)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def register(web: Blueprint) -> None:
    @web.get("/calendar/<token>.ics")
    def feed(token: str) -> Response:
        r = renkei()
        with transaction(r.sessions) as db:
            contact = contact_of_feed(db, token)
            if contact is None:
                abort(404)
            body = person_calendar(db, contact, now=r.clock())
        response = Response(body, mimetype="text/calendar; charset=utf-8")
        response.headers["Cache-Control"] = "private, max-age=900"
        return response

    @web.get("/calendar")
    @login_required
    def calendar_page() -> str:
        token = calendar_token(g.db, g.me, now=renkei().clock())
        return render_template("calendar.html", me=g.me, url=feed_url(token))
