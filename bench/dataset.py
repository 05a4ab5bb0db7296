"""A national data set, reproducible from a seed: rows in foreign-key order, ready to bulk insert.

Each history row also says whether it belongs to the "tenth" variant used for the history
ratios. The tenth keeps every row a due answer or a reminder can depend on (meetings and action
items from a month ago on, open action items, KPI entries the due query reads, activities of the
last half year) and one row
in ten of everything older, so both variants give the same answers and differ only in history.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from storage.fiscal import next_period, period_end, period_start

TOKYO = ZoneInfo("Asia/Tokyo")
# A Monday: the data set's "today", so every run sees the same week (and the Monday digest).
TODAY = date(2026, 11, 30)
HISTORY_YEARS = 5
LIVE_DAYS = 31  # history this recent (or later) is kept whole in the tenth variant
ACTIVITY_LIVE_DAYS = 183  # a dormancy check looks this far back for the last activity
KPI_LIVE = relativedelta(years=2, days=62)  # the due query reads entries back to ~2y + 31 days
TENTH = 0.1
# National CSR offices: a few otherwise small companies whose hub contact is on every one of
# their 52 agreements, so every scale has contacts on just over 50 agreements to measure.
CSR_OFFICES = 5
CSR_MIN_AGREEMENTS = 52

FIELDS = ("防災", "健康・福祉", "子育て", "観光", "地域経済", "環境", "教育", "DX")
PLACES = ("市役所3F会議室", "本社会議室", "オンライン", "公民館", "商工会館")
KPI_NAMES = (
    ("防災訓練参加者数", "人"),
    ("健康相談件数", "件"),
    ("観光客数", "人"),
    ("イベント開催数", "回"),
    ("出前授業回数", "回"),
    ("子育て相談件数", "件"),
    ("CO2削減量", "t"),
    ("デジタル講座受講者数", "人"),
)
ACTIVITY_TITLES = ("防災訓練", "健康セミナー", "出前授業", "清掃活動", "観光PR", "DX講座", "相談会")
ACTION_TITLES = ("協定書案送付", "議事録共有", "実績取りまとめ", "次回会議日程調整", "広報資料作成")
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("一郎", "花子", "健", "美咲", "翔", "陽子", "誠", "由美", "大輔", "結衣")
PLACE_HEAD = ("北", "南", "東", "西", "中", "大", "小", "新", "高", "山", "川", "宮", "松", "桜")
PLACE_TAIL = ("野", "田", "沢", "原", "岡", "島", "崎", "浜", "谷", "森", "里", "津")
MUNI_SUFFIX = ("市", "市", "町", "村")


@dataclass(frozen=True)
class Spec:
    """How big: `scale` 1.0 is the national size of the issue, 0.1 the quick run."""

    scale: float = 1.0
    seed: int = 20261130
    today: date = TODAY

    def n(self, full: int, minimum: int = 1) -> int:
        return max(minimum, round(full * self.scale))

    @property
    def municipalities(self) -> int:
        return self.n(1_700, 20)

    @property
    def companies(self) -> int:
        return self.n(3_000, 20)

    @property
    def agreements(self) -> int:
        return self.n(10_000, CSR_OFFICES * CSR_MIN_AGREEMENTS)

    @property
    def contacts(self) -> int:
        return self.n(80_000, 200)

    @property
    def kpis(self) -> int:
        return self.n(30_000)

    @property
    def history(self) -> dict[str, int]:
        """1,000,000 activities, meetings and action items at full scale."""
        return {
            "activity": self.n(600_000),
            "meeting": self.n(200_000),
            "action_item": self.n(200_000),
        }


@dataclass
class _Agreement:
    id: int
    key: str
    starts_on: date
    alive_until: date  # the end of its life: its term, or far ahead for auto-renewing ones
    fields: list[str]
    parties: list[int]  # organization ids, municipality first
    contacts: list[int] = field(default_factory=list)


Row = tuple[str, dict[str, Any], bool]  # (table, values, also in the tenth variant)


def generate(spec: Spec) -> Iterator[Row]:
    """Every row of the data set, parents before children; deterministic for a given spec."""
    gen = _Generator(spec)
    yield from gen.organizations()
    yield from gen.agreements()
    yield from gen.contacts()
    yield from gen.kpis()
    yield from gen.meetings()
    yield from gen.action_items()
    yield from gen.activities()


class _Generator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.thin = random.Random(spec.seed + 1)  # its own stream: thinning never shifts data
        self.today = spec.today
        self.h0 = spec.today - relativedelta(years=HISTORY_YEARS)
        self.orgs: list[tuple[int, str, str]] = []  # (id, kind, name)
        self.deals: list[_Agreement] = []
        self.org_contacts: dict[int, list[int]] = {}

    def _tenth(self, live: bool) -> bool:
        # Always draw, so the thinning stream stays aligned whatever is live.
        keep = self.thin.random() < TENTH
        return live or keep

    def _place(self) -> str:
        return self.rng.choice(PLACE_HEAD) + self.rng.choice(PLACE_TAIL)

    def organizations(self) -> Iterator[Row]:
        spec = self.spec
        for i in range(spec.municipalities):
            name = self._place() + self.rng.choice(MUNI_SUFFIX)
            self.orgs.append((i + 1, "municipality", name))
        for i in range(spec.companies):
            name = f"株式会社{self._place()}{self.rng.choice(('商事', '電機', '銀行', '製薬', '食品'))}"
            self.orgs.append((spec.municipalities + i + 1, "company", name))
        for oid, kind, name in self.orgs:
            yield (
                "organization",
                {"id": oid, "key": f"{kind[:4]}-{oid:05d}", "name": name, "kind": kind},
                True,
            )

    def agreements(self) -> Iterator[Row]:
        spec, rng = self.spec, self.rng
        munis = self.orgs[: spec.municipalities]
        comps = self.orgs[spec.municipalities :]
        # Big cities and big companies hold many agreements: Zipf-like weights.
        muni_cum = list(accumulate(1 / (i + 5) ** 0.8 for i in range(len(munis))))
        comp_cum = list(accumulate(1 / (i + 10) for i in range(len(comps))))
        forced = [c for c in range(CSR_OFFICES) for _ in range(CSR_MIN_AGREEMENTS)]
        rng.shuffle(forced)
        for i in range(spec.agreements):
            aid = i + 1
            muni = munis[_pick(rng, muni_cum)]
            # The CSR offices are the last companies: Zipf gives them almost nothing else.
            company = comps[-1 - forced[i] if i < len(forced) else _pick(rng, comp_cum)]
            parties = [muni[0], company[0]]
            if rng.random() < 0.15:  # platform-type: a second company
                other = comps[_pick(rng, comp_cum)][0]
                if other not in parties:
                    parties.append(other)
            starts = self.today - timedelta(days=rng.randint(-60, 3650))
            term = rng.choice((1, 2, 3, 3, 4, 5, 5))
            ends = starts + relativedelta(years=term) - timedelta(days=1)
            renew = rng.random() < 0.7
            deal = _Agreement(
                id=aid,
                key=f"agr-{aid:05d}",
                starts_on=starts,
                alive_until=self.today + timedelta(days=3650) if renew else ends,
                fields=rng.sample(FIELDS, rng.randint(1, 3)),
                parties=parties,
            )
            self.deals.append(deal)
            yield (
                "agreement",
                {
                    "id": aid,
                    "key": deal.key,
                    "title": f"{muni[2]}と{company[2]}との包括連携に関する協定",
                    "fields": deal.fields,
                    "signed_on": starts - timedelta(days=rng.randint(0, 30)),
                    "starts_on": starts,
                    "ends_on": ends,
                    "renew_term_months": 12 if renew else None,
                    "notice_days": rng.choice((30, 60, 90)) if renew else None,
                    "steering_cadence_months": 12,
                    "working_cadence_months": rng.choice((3, 3, 6, None)),
                    "slack_channel": f"C{aid:08d}" if rng.random() < 0.4 else None,
                    "line_group": f"C{rng.getrandbits(64):016x}{aid:016x}"
                    if rng.random() < 0.3
                    else None,
                },
                True,
            )
            for pos, org in enumerate(parties):
                yield (
                    "agreement_party",
                    {"agreement_id": aid, "organization_id": org, "position": pos},
                    True,
                )

    def contacts(self) -> Iterator[Row]:
        spec, rng = self.spec, self.rng
        held: dict[int, int] = {}
        for deal in self.deals:
            for org in deal.parties:
                held[org] = held.get(org, 0) + 1
        org_ids = [o[0] for o in self.orgs]
        base = 3
        extra = allocate(
            max(0, spec.contacts - base * len(org_ids)), [held.get(o, 0) + 1 for o in org_ids]
        )
        kinds = {o[0]: o[1] for o in self.orgs}
        cid = 0
        linked = datetime.combine(self.today - timedelta(days=400), time(9), TOKYO)
        for org, more in zip(org_ids, extra, strict=True):
            ids = []
            for n in range(base + more):
                cid += 1
                ids.append(cid)
                yield (
                    "contact",
                    {
                        "id": cid,
                        "key": f"c-{cid:06d}",
                        "name": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                        "organization_id": org,
                        "email": f"c{cid}@example.jp",
                        "active": n == 0 or rng.random() < 0.97,
                    },
                    True,
                )
                # Municipal staff mostly use LINE, company staff mostly Slack (domain.md).
                roll = rng.random()
                line_share, slack_share = (
                    (0.7, 0.05) if kinds[org] == "municipality" else (0.1, 0.7)
                )
                if roll < line_share:
                    ext, platform = f"U{rng.getrandbits(64):016x}{cid:016x}", "line"
                elif roll < line_share + slack_share:
                    ext, platform = f"U{cid:09d}", "slack"
                else:
                    continue
                yield (
                    "chat_identity",
                    {
                        "id": cid,
                        "platform": platform,
                        "external_id": ext,
                        "contact_id": cid,
                        "linked_at": linked,
                    },
                    True,
                )
            self.org_contacts[org] = ids
        yield from self._agreement_contacts(held)

    def _agreement_contacts(self, held: dict[int, int]) -> Iterator[Row]:
        rng = self.rng
        csr = {self.orgs[-1 - c][0] for c in range(CSR_OFFICES)}
        row_id = 0
        for deal in self.deals:
            for org in deal.parties:
                staff = self.org_contacts[org]
                hub = org in csr or (held[org] >= 3 and rng.random() < 0.8)
                primary = staff[0] if hub else rng.choice(staff)
                secondary = rng.choice([c for c in staff[:8] if c != primary])
                for role, contact in (("primary", primary), ("secondary", secondary)):
                    row_id += 1
                    deal.contacts.append(contact)
                    yield (
                        "agreement_contact",
                        {
                            "id": row_id,
                            "agreement_id": deal.id,
                            "organization_id": org,
                            "contact_id": contact,
                            "role": role,
                        },
                        True,
                    )

    def kpis(self) -> Iterator[Row]:
        rng, today = self.rng, self.today
        counts = [1] * len(self.deals)
        for i in rng.choices(range(len(self.deals)), k=max(0, self.spec.kpis - len(self.deals))):
            counts[i] += 1
        kid = entry_id = 0
        for deal, n in zip(self.deals, counts, strict=True):
            for _ in range(n):
                kid += 1
                name, unit = rng.choice(KPI_NAMES)
                period = rng.choice(("monthly", "quarterly", "quarterly", "yearly"))
                due_days = rng.choice((14, 30))
                yield (
                    "kpi",
                    {
                        "id": kid,
                        "agreement_id": deal.id,
                        "key": f"kpi-{kid}",
                        "name": name,
                        "unit": unit,
                        "period": period,
                        "baseline": Decimal(rng.randint(0, 500)),
                        "target": Decimal(rng.randint(500, 5000)),
                        "target_date": deal.starts_on + relativedelta(years=3),
                        "direction": "up",
                        "aggregation": "sum",
                        "entry_due_days": due_days,
                    },
                    True,
                )
                first = period_start(max(deal.starts_on, self.h0), period)
                while first <= min(deal.alive_until, today):
                    end = period_end(first, period)
                    due_on = end + timedelta(days=due_days)
                    if due_on >= today:
                        break
                    recent = due_on >= today - timedelta(days=120)
                    if rng.random() < (0.7 if recent else 0.93):
                        entry_id += 1
                        at = datetime.combine(
                            due_on - timedelta(days=rng.randint(0, due_days)), time(10), TOKYO
                        )
                        yield (
                            "kpi_entry",
                            {
                                "id": entry_id,
                                "kpi_id": kid,
                                "period_start": first,
                                "value": Decimal(rng.randint(0, 800)),
                                "entered_by_id": rng.choice(deal.contacts),
                                "entered_at": at,
                            },
                            self._tenth(first >= today - KPI_LIVE),
                        )
                    first = next_period(first, period)

    def _spans(self, ahead_days: int, *, past_only: bool = False) -> list[tuple[date, date]]:
        hi_cap = self.today if past_only else self.today + timedelta(days=ahead_days)
        return [(max(d.starts_on, self.h0), min(d.alive_until, hi_cap)) for d in self.deals]

    def _history(
        self, table: str, ahead_days: int, *, past_only: bool = False
    ) -> Iterator[tuple[int, _Agreement, date]]:
        spans = self._spans(ahead_days, past_only=past_only)
        weights = [max(0, (hi - lo).days) for lo, hi in spans]
        row_id = 0
        for deal, (lo, hi), n in zip(
            self.deals, spans, allocate(self.spec.history[table], weights), strict=True
        ):
            for _ in range(n):
                row_id += 1
                yield row_id, deal, lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))

    def meetings(self) -> Iterator[Row]:
        rng = self.rng
        for mid, deal, day in self._history("meeting", 90):
            kind = rng.choices(("steering", "working", "other"), (20, 75, 5))[0]
            label = {"steering": "推進会議", "working": "実務者会議", "other": "打合せ"}[kind]
            start = datetime.combine(day, rng.choice((time(10), time(13, 30), time(15))), TOKYO)
            yield (
                "meeting",
                {
                    "id": mid,
                    "agreement_id": deal.id,
                    "kind": kind,
                    "title": f"{label}（{deal.fields[0]}）",
                    "starts_at": start,
                    "place": rng.choice(PLACES),
                    "cancelled": rng.random() < 0.03,
                    "import_key": None,
                },
                self._tenth(day >= self.today - timedelta(days=LIVE_DAYS)),
            )

    def action_items(self) -> Iterator[Row]:
        rng, today = self.rng, self.today
        for aid, deal, due_on in self._history("action_item", 60):
            age = (today - due_on).days
            done_share = 0.96 if age > 14 else 0.5 if age > 0 else 0.1
            done_at = None
            if rng.random() < done_share:
                done_day = min(
                    today - timedelta(days=1), due_on + timedelta(days=rng.randint(-7, 3))
                )
                done_at = datetime.combine(done_day, time(17), TOKYO).astimezone(UTC)
            yield (
                "action_item",
                {
                    "id": aid,
                    "agreement_id": deal.id,
                    "title": rng.choice(ACTION_TITLES),
                    "owner_id": rng.choice(deal.contacts),
                    "due_on": due_on,
                    "done_at": done_at,
                    "import_key": None,
                },
                self._tenth(done_at is None or age <= LIVE_DAYS),
            )

    def activities(self) -> Iterator[Row]:
        rng = self.rng
        for aid, deal, day in self._history("activity", 0, past_only=True):
            people = rng.randint(5, 300)
            yield (
                "activity",
                {
                    "id": aid,
                    "agreement_id": deal.id,
                    "occurred_on": day,
                    "field": rng.choice(deal.fields),
                    "title": rng.choice(ACTIVITY_TITLES),
                    "counts": {"参加者": {"value": people, "unit": "名"}},
                    "note": None,
                    "logged_by_id": rng.choice(deal.contacts),
                    "platform": rng.choice(("line", "slack")),
                    "created_at": datetime.combine(day, time(18), TOKYO),
                },
                self._tenth(day >= self.today - timedelta(days=ACTIVITY_LIVE_DAYS)),
            )


def _pick(rng: random.Random, cum: Sequence[float]) -> int:
    return min(bisect(cum, rng.random() * cum[-1]), len(cum) - 1)


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainders get the rest)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts
