"""Understand the dates and times people type into chat, mostly in Japanese.

A self-contained rule layer rather than a library: ja-timex (the best candidate)
only tags fragments and leaves composition (来週+金曜, 来月+第3金曜), fiscal terms
and the choice of year to the caller, and it pins a pendulum pre-release.

Matching runs on an NFKC-normalised, lower-cased copy of the text in which kanji
numerals next to date words are rewritten as digits.  Every normalised character
remembers the span of original characters it came from, so ``find_when`` can cut
the expression out of the message exactly as the user wrote it.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import jpholiday

from storage.limits import FIRST_YEAR, LAST_YEAR

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "WeekdayMismatch",
    "When",
    "find_when",
    "in_range",
    "parse_when",
]

# Dates outside storage.limits' years (2000–2100) are refused.


@dataclass(frozen=True)
class When:
    """A day, or an inclusive range of days, with an optional time of day."""

    start: date
    end: date  # == start for a single day
    time: datetime.time | None = None


_WEEKDAY_NAMES = ("月", "火", "水", "木", "金", "土", "日")


class WeekdayMismatch(ValueError):
    """The text names a weekday that contradicts its date, e.g. 12月1日(月) in a year where 12/1 is a Tuesday."""

    def __init__(self, day: date, written_weekday: int, actual_weekday: int) -> None:
        self.day = day
        self.written_weekday = written_weekday
        self.actual_weekday = actual_weekday
        super().__init__(
            f"{day.isoformat()} は{_WEEKDAY_NAMES[actual_weekday]}曜日です"
            f"（{_WEEKDAY_NAMES[written_weekday]}曜日と書かれています）"
        )


def in_range(when: When) -> bool:
    """Whether a date may be stored: FIRST_YEAR..LAST_YEAR."""
    return when.start.year >= FIRST_YEAR and when.end.year <= LAST_YEAR


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_KANJI_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_RUN = re.compile("[〇零一二三四五六七八九十百千]+")
# Only numerals that a date word follows (or 第/an era precedes) are converted, so
# words such as 一昨日, 一緒 or 千葉 are left alone.
_KANJI_NEXT = re.compile(r"\s*(?:年|月|日|時|分|週|[かヶケカヵ箇]月|四半期)")
_KANJI_PREV = ("第", "令和", "平成", "昭和", "大正", "明治")
_KANJI_IDIOMS = ("一日中", "一時")  # "all day", "temporarily": not dates
_KANJI_RUN_MAX = 12  # 二〇二六, 千九百九十九: a date needs a few numerals, never a long run


def _kanji_number(run: str) -> str:
    """十二 -> "12", 二〇二六 -> "2026" (digit strings stay strings: no int size limit)."""
    if not any(ch in _KANJI_UNITS for ch in run):
        return "".join(str(_KANJI_DIGITS[ch]) for ch in run)
    total = current = 0
    for ch in run:
        if ch in _KANJI_UNITS:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return str(total + current)


@dataclass(frozen=True)
class _Text:
    s: str  # normalised text
    starts: list[int]  # original start index of each normalised char
    ends: list[int]  # original end index of each normalised char


def _normalise(text: str) -> _Text:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch).lower():
            if out.isspace() and chars and chars[-1] == " ":
                # A run of spaces is one space: no pattern then meets a long run of them
                # (three optional \s* in a row made 12/1( + 400 spaces take half a second).
                ends[-1] = index + 1
                continue
            chars.append(" " if out.isspace() else out)
            starts.append(index)
            ends.append(index + 1)
    s = "".join(chars)

    new_chars: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    copied = 0
    for m in _KANJI_RUN.finditer(s):
        begin, stop = m.span()
        if s.startswith("半期", stop) and s[stop - 1] == "四":  # 第二四半期
            stop -= 1
        if stop <= begin or stop - begin > _KANJI_RUN_MAX:
            continue  # a numeral run that long is no date: left as it is, at no cost
        after_prev = s[:begin].endswith(_KANJI_PREV)
        if not after_prev and (
            not _KANJI_NEXT.match(s, stop) or s.startswith(_KANJI_IDIOMS, begin)
        ):
            continue
        new_chars.extend(s[copied:begin])
        new_starts.extend(starts[copied:begin])
        new_ends.extend(ends[copied:begin])
        for digit in _kanji_number(s[begin:stop]):
            new_chars.append(digit)
            new_starts.append(starts[begin])
            new_ends.append(ends[stop - 1])
        copied = stop
    new_chars.extend(s[copied:])
    new_starts.extend(starts[copied:])
    new_ends.extend(ends[copied:])
    return _Text("".join(new_chars), new_starts, new_ends)


# ---------------------------------------------------------------------------
# Date arithmetic that returns None instead of raising
# ---------------------------------------------------------------------------


def _ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _month_end(y: int, m: int) -> date | None:
    if not (1 <= y <= 9999 and 1 <= m <= 12):
        return None
    return date(y, m, calendar.monthrange(y, m)[1])


def _shift(d: date, days: int) -> date | None:
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return None


def _add_months(d: date, n: int) -> date | None:
    years, month0 = divmod(d.month - 1 + n, 12)
    last = _month_end(d.year + years, month0 + 1)
    return None if last is None else last.replace(day=min(d.day, last.day))


def _month_of(today: date, offset: int) -> tuple[int, int]:
    years, month0 = divmod(today.month - 1 + offset, 12)
    return today.year + years, month0 + 1


def _week_monday(today: date, offset: int) -> date | None:
    return _shift(today, 7 * offset - today.weekday())


def _fiscal_year(d: date) -> int:
    """Japanese fiscal years start on 1 April."""
    return d.year if d.month >= 4 else d.year - 1


def _nth_weekday(y: int, m: int, weekday: int, nth: int) -> date | None:
    """nth (1-5) given weekday of a month; nth == -1 is the last one."""
    last = _month_end(y, m)
    if last is None:
        return None
    if nth == -1:
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    day = 1 + (weekday - last.replace(day=1).weekday()) % 7 + 7 * (nth - 1)
    return _ymd(y, m, day)


Range = tuple[date, date]


def _nearest(
    candidates: Iterable[Range | None], today: date, *, by_day: bool = False
) -> Range | None:
    """The candidate closest to today; a tie goes to the later one.

    Distance is counted in calendar months (by_day: in days) so that, seen from
    10 June, 12/10 is the coming December rather than last year's by one day.
    """

    def ordinal(d: date) -> int:
        return d.toordinal() if by_day else d.year * 12 + d.month

    now = ordinal(today)
    best: Range | None = None
    best_key: tuple[int, int] | None = None
    for cand in candidates:
        if cand is None:
            continue
        first, last = ordinal(cand[0]), ordinal(cand[1])
        distance = 0 if first <= now <= last else min(abs(first - now), abs(last - now))
        key = (distance, -cand[0].toordinal())
        if best_key is None or key < best_key:
            best, best_key = cand, key
    return best


# ---------------------------------------------------------------------------
# Patterns (all matched against the normalised text)
# ---------------------------------------------------------------------------

_WD = "[月火水木金土日]"
_ERA = r"(?P<era>令和|平成|昭和|大正|明治|[rhstm])\s*(?P<n>[0-9]{1,2}|元)"
_ERAS: dict[str, tuple[int, date]] = {  # era -> (year of 元年, first day)
    "令和": (2019, date(2019, 5, 1)),
    "平成": (1989, date(1989, 1, 8)),
    "昭和": (1926, date(1926, 12, 25)),
    "大正": (1912, date(1912, 7, 30)),
    "明治": (1868, date(1868, 10, 23)),
}
_ERA_LETTERS = {"r": "令和", "h": "平成", "s": "昭和", "t": "大正", "m": "明治"}
# ...中 but not 中止/中心/中継/中断/中央
_WHOLE = r"(?P<whole>中|内)(?![止心継断央])"

_YMD_SEP = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[/.\-])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])"
)
# 26/12/24 (a two-digit year, as on Japanese forms) and 20261224.
_YY_SEP = re.compile(
    r"(?P<y>[0-9]{2})(?P<sep>[/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9/.])"
)
_YMD_COMPACT = re.compile(r"(?P<y>20[0-9]{2}|2100)(?P<m>[01][0-9])(?P<d>[0-3][0-9])(?![0-9])")
_ERA_SEP = re.compile(
    _ERA + r"\s*(?P<sep>[/.\-])\s*(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])"
)
_YM_SLASH = re.compile(r"(?P<y>[0-9]{4})/(?P<m>[0-9]{1,2})(?![0-9/])")
_YEAR = re.compile(
    r"(?:(?P<y>[0-9]{4})|" + _ERA + r")\s*年(?![度間生目代次齢前後])"
    r"|(?P<rel>再来年|一昨年|今年|本年|来年|翌年|去年|昨年|前年|ことし|らいねん|きょねん|おととし)(?!度)"
)
_YEAR_OFFSETS = {
    "今年": 0,
    "本年": 0,
    "ことし": 0,
    "来年": 1,
    "翌年": 1,
    "らいねん": 1,
    "再来年": 2,
    "去年": -1,
    "昨年": -1,
    "前年": -1,
    "きょねん": -1,
    "一昨年": -2,
    "おととし": -2,
}
_YEAR_TAIL = re.compile(
    r"\s*(?:の\s*)?(?P<m>[0-9]{1,2})\s*月(?![間目])|\s*(?P<end>末)|\s*" + _WHOLE
)
_YEAR_WITHIN = re.compile(r"年内")
_NEW_YEAR = re.compile(r"年明け|年始|年初")  # early January, the coming one
# Holiday names as jpholiday spells them (振替休日 and 国民の休日 are not names one types).
_HOLIDAY_NAMES = sorted(
    {
        name
        for y in (2019, 2020, 2026, 2027)
        for _, name in jpholiday.year_holidays(y)
        if "休日" not in name
    },
    key=len,
    reverse=True,
)
_HOLIDAY = re.compile("|".join(re.escape(n) for n in _HOLIDAY_NAMES))
_MONTH = re.compile(r"(?P<m>[0-9]{1,2})\s*月(?![間目])")
_MONTH_TAIL = re.compile(
    r"\s*(?:"
    r"(?:の\s*)?(?P<day>[0-9]{1,2})\s*日(?![間目])"
    r"|(?P<end>末日?)"
    r"|(?P<part>上旬|初旬|中旬|下旬|初め|始め|はじめ|頭|前半|後半)"
    r"|(?:の\s*)?(?P<nth>第\s*[1-5]|最終)\s*(?P<wd>" + _WD + r")曜日?"
    r"|" + _WHOLE + ")"
)
_MONTH_WORD = re.compile(r"(?P<w>再来月|先々月|今月|本月|当月|来月|翌月|先月|前月)")
_MONTH_OFFSETS = {
    "今月": 0,
    "本月": 0,
    "当月": 0,
    "来月": 1,
    "翌月": 1,
    "再来月": 2,
    "先月": -1,
    "前月": -1,
    "先々月": -2,
}
_MONTH_EDGE = re.compile(r"(?P<w>月末日?|月初め?|月頭|月内)")
_MD_SLASH = re.compile(r"(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})(?![0-9/])")
_MD_DOT = re.compile(r"(?P<m>[0-9]{1,2})\.(?P<d>[0-9]{1,2})(?![0-9.])")
_DAY = re.compile(r"(?P<d>[0-9]{1,2})\s*日(?![後前間目先中])")
_NTH_ALONE = re.compile(r"(?P<nth>第\s*[1-5]|最終)\s*(?P<wd>" + _WD + r")曜日?")
_WEEK_WORD = re.compile(r"(?P<w>再来週|先々週|今週|本週|来週|翌週|次週|先週|前週)")
_WEEK_OFFSETS = {
    "今週": 0,
    "本週": 0,
    "来週": 1,
    "翌週": 1,
    "次週": 1,
    "再来週": 2,
    "先週": -1,
    "前週": -1,
    "先々週": -2,
}
_WEEK_TAIL = re.compile(r"\s*(?:(?:の\s*)?(?P<wd>" + _WD + r")曜日?|(?P<end>末)|" + _WHOLE + ")")
_WEEKEND = re.compile(r"(?P<w>週末|週明け)")
_WEEKDAY = re.compile(r"(?:(?P<q>次の|今度の|こんどの|次回の?|この)\s*)?(?P<wd>" + _WD + r")曜日?")
_REL_DAYS = {
    "今日": 0,
    "本日": 0,
    "きょう": 0,
    "今朝": 0,
    "今夜": 0,
    "今晩": 0,
    "明日": 1,
    "あした": 1,
    "あす": 1,
    "明後日": 2,
    "あさって": 2,
    "明々後日": 3,
    "明明後日": 3,
    "しあさって": 3,
    "昨日": -1,
    "きのう": -1,
    "一昨日": -2,
    "おととい": -2,
    "おとつい": -2,
}
_REL_DAY = re.compile("|".join(sorted(_REL_DAYS, key=len, reverse=True)))
_REL_N = re.compile(
    r"(?:(?P<n>[0-9]{1,4})\s*(?P<u>日|週間|週|[かヶケカヵ箇]月間?|年)|(?P<half>半年|半月))"
    r"\s*(?P<dir>後|前|先)(?!半|期)"
)
_FY_PREFIX = re.compile(
    r"(?P<rel>再来年度|今年度|本年度|当年度|来年度|翌年度|次年度|前年度|昨年度|去年度)"
    r"|(?P<y>[0-9]{4})\s*年度"
    r"|" + _ERA + r"\s*年度"
    r"|fy\s*(?P<fy>[0-9]{4}|[0-9]{2})(?![0-9])"
    r"|(?P<bare>年度)"
)
_FY_OFFSETS = {
    "今年度": 0,
    "本年度": 0,
    "当年度": 0,
    "来年度": 1,
    "翌年度": 1,
    "次年度": 1,
    "再来年度": 2,
    "前年度": -1,
    "昨年度": -1,
    "去年度": -1,
}
_FY_TERM = re.compile(
    r"\s*(?:の\s*)?(?:"
    r"(?:第\s*)?(?P<q>[1-4])\s*四半期|q(?P<q2>[1-4])(?![0-9a-z])|(?P<q3>[1-4])q(?![a-z])"
    r"|(?P<h1>上半期|上期)|(?P<h2>下半期|下期)"
    r"|(?P<end>末)|(?P<begin>初め|始め|はじめ|当初|初)|" + _WHOLE + ")"
)
_QUARTER_WORD = re.compile(r"(?P<w>今四半期|当四半期|来四半期|次四半期|前四半期)")
_QUARTER_OFFSETS = {"今四半期": 0, "当四半期": 0, "来四半期": 1, "次四半期": 1, "前四半期": -1}

_EN_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EN_WD = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_EN_WD_ABBR = r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
_EN_DAY = re.compile(
    r"(?P<w>day after tomorrow|day before yesterday|today|tonight|tomorrow|tmrw|yesterday)(?![a-z])"
)
_EN_DAY_OFFSETS = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "tmrw": 1,
    "yesterday": -1,
    "day after tomorrow": 2,
    "day before yesterday": -2,
}
_EN_WEEKDAY = re.compile(
    r"(?:(?P<q>next|this|coming|last)\s+(?P<wd1>" + _EN_WD + "|" + _EN_WD_ABBR + r")"
    r"|(?P<wd2>" + _EN_WD + r"))(?![a-z])"
)
_EN_PERIOD = re.compile(r"(?P<q>next|this|last)\s+(?P<u>week|month|year)(?![a-z])")
_EN_IN = re.compile(
    r"in\s+(?P<n>[0-9]{1,4})\s+(?P<u>day|week|month|year)s?(?![a-z])"
    r"|(?P<n2>[0-9]{1,4})\s+(?P<u2>day|week|month|year)s?\s+(?P<dir>later|ago|from now)(?![a-z])"
)
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EN_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_EN_MD = re.compile(
    r"(?P<mon>"
    + _EN_MONTH
    + r")\s+(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?(?![0-9a-z])(?:,?\s+(?P<y>[0-9]{4})(?![0-9]))?"
    r"|(?P<d2>[0-9]{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>"
    + _EN_MONTH
    + r")(?![a-z])(?:,?\s+(?P<y2>[0-9]{4})(?![0-9]))?"
)

_WEEKDAY_AFTER = re.compile(
    r"\s*(?:\(\s*(?:(?P<jp>" + _WD + r")(?:曜日?)?|(?P<en>" + _EN_WD + "|" + _EN_WD_ABBR + r")\.?)?"
    r"\s*(?:[・,、/]?\s*(?P<hol>祝|休|祭)日?)?\s*\)"
    r"|(?P<jp2>" + _WD + r")曜日?)"
)
_TIME_AP = r"(?P<ap>午前|午後|夕方|朝|夜|am|pm|a\.m\.|p\.m\.)?\s*"
_TIME_KANJI = re.compile(
    _TIME_AP + r"(?P<h>[0-9]{1,2})\s*時(?!間)(?:\s*(?P<half>半)|\s*(?P<mi>[0-9]{1,2})\s*分(?!間))?"
)
_TIME_COLON = re.compile(
    _TIME_AP + r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::[0-9]{2})?(?![0-9])"
    r"(?:\s*(?P<ap2>am|pm|a\.m\.|p\.m\.)(?![a-z]))?"
)
_TIME_AMPM = re.compile(r"(?P<h>[0-9]{1,2})\s*(?P<ap2>am|pm|a\.m\.|p\.m\.)(?![a-z])")
_TIME_NOON = re.compile(r"正午|noon(?![a-z])")
# 10〜12時: the first hour borrows 時 from the second one
_TIME_HOUR_RANGE = re.compile(
    _TIME_AP + r"(?P<h>[0-9]{1,2})(?=\s*(?:〜|~|-|–|から)\s*[0-9]{1,2}\s*時(?!間))"
)
_PM_WORDS = {"午後", "夕方", "夜", "pm", "p.m."}

_LABEL = re.compile(
    r"(?:提出期限|期限|締切日?|締め切り日?|〆切日?|日時|日付|期日|開催日時?|日程|予定日|実施日|納期"
    r"|due|deadline)\s*:?\s*|[〜~]\s*"
)
_TIME_LEAD = re.compile(r"\s*(?:[,、]\s*)?(?:の\s*)?")
_SEP = re.compile(r"\s*(?:〜|~|-|–|—|―|−|から)\s*")
_RANGE_DAY = re.compile(
    r"(?P<d>[0-9]{1,2})(?:\s*日(?![間目後前]))?(?=$|\s|[(),、。]|まで|迄|に|の)"
)
_SUFFIX = re.compile(
    r"\s*(?:までに|まで|迄に|迄|から|より|以降|〜|~|締切|締め切り|〆切|〆|頃|ごろ|限り)"
)
_PARTICLE = re.compile(r"(?:に|は|の|も|で|、|,)")
_TRAILER = re.compile(r"[\s。.!?]*")
_EMPTY_BRACKETS = re.compile(r"[(（【\[「『<＜]\s*[)）】\]」』>＞]")

# Words that start with these chars are usually the tail of a longer word when a
# kanji precedes them (説明日時, 以上期間, 以下期限): then they are not dates.
_NEEDS_WORD_START = ("明", "上", "下")


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch == "々"


# ---------------------------------------------------------------------------
# Point rules: each returns the span of days it denotes and where it stops
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: date
    end: date
    pos: int
    yearless: bool = False  # the year was guessed, so a range may move it forward


@dataclass(frozen=True)
class _Ctx:
    s: str
    today: date
    find: bool  # scanning free text: be stricter about ambiguous forms


def _span(r: Range | None, pos: int, yearless: bool = False) -> _Span | None:
    return None if r is None else _Span(r[0], r[1], pos, yearless)


def _era_year(era: str, n: str) -> tuple[int, date] | None:
    base, first_day = _ERAS[_ERA_LETTERS.get(era, era)]
    number = 1 if n == "元" else int(n)
    return None if number < 1 else (base + number - 1, first_day)


def _clip_to_era(r: Range | None, first_day: date | None) -> Range | None:
    """Dates before an era began are invalid; dates after it ended are accepted
    (平成31年5月 appears on pre-printed forms)."""
    if r is None or first_day is None:
        return r
    if r[1] < first_day:
        return None
    return max(r[0], first_day), r[1]


MonthTail = Callable[[int, int], Range | None]


def _month_tail(c: _Ctx, pos: int) -> tuple[MonthTail, int]:
    """What follows a month: 10日, 末, 中旬, 第3金曜, 中 ... or nothing (= whole month)."""
    m = _MONTH_TAIL.match(c.s, pos)

    def resolve(y: int, month: int) -> Range | None:
        last = _month_end(y, month)
        if last is None:
            return None
        first = last.replace(day=1)
        if m is None or m.group("whole"):
            return first, last
        if m.group("day"):
            d = _ymd(y, month, int(m.group("day")))
            return None if d is None else (d, d)
        if m.group("end"):
            return last, last
        part = m.group("part")
        if part == "中旬":
            return first.replace(day=11), first.replace(day=20)
        if part == "下旬":
            return first.replace(day=21), last
        if part == "前半":
            return first, first.replace(day=15)
        if part == "後半":
            return first.replace(day=16), last
        if part:
            return first, first.replace(day=10)
        nth = m.group("nth")
        d = _nth_weekday(
            y, month, _WEEKDAY_NAMES.index(m.group("wd")), -1 if nth == "最終" else int(nth[-1])
        )
        return None if d is None else (d, d)

    return resolve, (pos if m is None else m.end())


def _r_ymd(c: _Ctx, i: int) -> _Span | None:
    m = _YMD_SEP.match(c.s, i)
    if m is None:
        return None
    d = _ymd(int(m["y"]), int(m["m"]), int(m["d"]))
    return None if d is None else _Span(d, d, m.end())


def _r_yy_or_compact(c: _Ctx, i: int) -> _Span | None:
    """26/12/24 (20xx) and 20261224."""
    m = _YY_SEP.match(c.s, i) or _YMD_COMPACT.match(c.s, i)
    if m is None:
        return None
    y = int(m["y"])
    d = _ymd(y + 2000 if y < 100 else y, int(m["m"]), int(m["d"]))
    return None if d is None else _Span(d, d, m.end())


def _r_holiday(c: _Ctx, i: int) -> _Span | None:
    """成人の日, 文化の日 ...: the next one on or after today."""
    m = _HOLIDAY.match(c.s, i)
    # 富士山の日帰り, 青海の日: a holiday name only as a word of its own
    if m is None or (i > 0 and _is_kanji(c.s[i - 1])) or c.s.startswith("帰", m.end()):
        return None
    for y in (c.today.year, c.today.year + 1):
        if y > LAST_YEAR:
            break
        for day, name in jpholiday.year_holidays(y):
            if name == m.group() and day >= c.today:
                return _Span(day, day, m.end())
    return None


def _r_era_sep(c: _Ctx, i: int) -> _Span | None:
    m = _ERA_SEP.match(c.s, i)
    if m is None or (era := _era_year(m["era"], m["n"])) is None:
        return None
    d = _ymd(era[0], int(m["m"]), int(m["d"]))
    return _span(_clip_to_era(None if d is None else (d, d), era[1]), m.end())


def _r_year_month_slash(c: _Ctx, i: int) -> _Span | None:
    m = _YM_SLASH.match(c.s, i)
    if m is None:
        return None
    last = _month_end(int(m["y"]), int(m["m"]))
    return None if last is None else _Span(last.replace(day=1), last, m.end())


def _r_year(c: _Ctx, i: int) -> _Span | None:
    """2026年…, 令和8年…, 来年…: the year alone, a month of it, or a day of it."""
    if within := _YEAR_WITHIN.match(c.s, i):
        y = c.today.year
        return _Span(date(y, 1, 1), date(y, 12, 31), within.end())
    if new_year := _NEW_YEAR.match(c.s, i):
        # 年明け said in early January still means this January's first days.
        y = c.today.year if c.today <= date(c.today.year, 1, 15) else c.today.year + 1
        return _span((date(y, 1, 1), date(y, 1, 7)) if y <= 9999 else None, new_year.end())
    m = _YEAR.match(c.s, i)
    if m is None:
        return None
    first_day: date | None = None
    if m["rel"]:
        y = c.today.year + _YEAR_OFFSETS[m["rel"]]
    elif m["y"]:
        y = int(m["y"])
    else:
        era = _era_year(m["era"], m["n"])
        if era is None:
            return None
        y, first_day = era
    if not 1 <= y <= 9999:
        return None
    tail = _YEAR_TAIL.match(c.s, m.end())
    if tail is None or tail["whole"]:
        r: Range | None = (date(y, 1, 1), date(y, 12, 31))
        pos = m.end() if tail is None else tail.end()
    elif tail["end"]:
        r, pos = (date(y, 12, 31), date(y, 12, 31)), tail.end()
    else:
        resolve, pos = _month_tail(c, tail.end())
        r = resolve(y, int(tail["m"]))
    return _span(_clip_to_era(r, first_day), pos)


def _r_month(c: _Ctx, i: int) -> _Span | None:
    """12月, 12月5日, 7月中旬, 12月の第2月曜 ... in the year that puts it nearest today."""
    m = _MONTH.match(c.s, i)
    if m is None:
        return None
    resolve, pos = _month_tail(c, m.end())
    month = int(m["m"])
    y = c.today.year
    return _span(_nearest((resolve(y + k, month) for k in (-1, 0, 1)), c.today), pos, True)


def _r_month_word(c: _Ctx, i: int) -> _Span | None:
    m = _MONTH_WORD.match(c.s, i)
    if m is None:
        return None
    resolve, pos = _month_tail(c, m.end())
    return _span(resolve(*_month_of(c.today, _MONTH_OFFSETS[m["w"]])), pos)


def _r_month_edge(c: _Ctx, i: int) -> _Span | None:
    """月末 / 月初: of the current month."""
    m = _MONTH_EDGE.match(c.s, i)
    if m is None:
        return None
    last = _month_end(c.today.year, c.today.month)
    if last is None:
        return None
    if m["w"] == "月内":
        return _Span(last.replace(day=1), last, m.end())
    d = last if m["w"].startswith("月末") else last.replace(day=1)
    return _Span(d, d, m.end())


def _r_md(c: _Ctx, i: int) -> _Span | None:
    """11/30 (and 11.30 when unambiguous), in the year nearest today."""
    m = _MD_SLASH.match(c.s, i)
    if m is None:
        m = _MD_DOT.match(c.s, i)
        # 2.5万, 1.5時間: in free text a dotted pair is a date only with a weekday.
        if m is None or (c.find and not _weekday_at(c.s, m.end())):
            return None
    month, day = int(m["m"]), int(m["d"])
    y = c.today.year
    cands = ((d, d) if (d := _ymd(y + k, month, day)) else None for k in (-1, 0, 1))
    return _span(_nearest(cands, c.today), m.end(), True)


def _r_day(c: _Ctx, i: int) -> _Span | None:
    """15日 alone: the 15th of the month nearest today."""
    m = _DAY.match(c.s, i)
    if m is None:
        return None
    day = int(m["d"])
    cands = []
    for k in (-1, 0, 1):
        y, month = _month_of(c.today, k)
        d = _ymd(y, month, day)
        cands.append(None if d is None else (d, d))
    return _span(_nearest(cands, c.today, by_day=True), m.end(), True)


def _r_nth_alone(c: _Ctx, i: int) -> _Span | None:
    """第3金曜 alone: this month's, or next month's once this month's has passed."""
    m = _NTH_ALONE.match(c.s, i)
    if m is None:
        return None
    nth = -1 if m["nth"] == "最終" else int(m["nth"][-1])
    wd = _WEEKDAY_NAMES.index(m["wd"])
    for k in (0, 1):
        y, month = _month_of(c.today, k)
        d = _nth_weekday(y, month, wd, nth)
        if d is not None and d >= c.today:
            return _Span(d, d, m.end())
    return None


def _r_week(c: _Ctx, i: int) -> _Span | None:
    """今週 / 来週 (Mon..Sun), 来週の金曜, 来週末; 週末 (this Sat..Sun), 週明け (next Monday)."""
    m = _WEEK_WORD.match(c.s, i)
    if m is None:
        wm = _WEEKEND.match(c.s, i)
        if wm is None:
            return None
        if wm["w"] == "週明け":
            monday = _week_monday(c.today, 1)
            return _span(None if monday is None else (monday, monday), wm.end())
        sunday = _shift(c.today, 6 - c.today.weekday())
        return _span(None if sunday is None else (sunday - timedelta(days=1), sunday), wm.end())
    monday = _week_monday(c.today, _WEEK_OFFSETS[m["w"]])
    sunday = None if monday is None else _shift(monday, 6)
    if monday is None or sunday is None:
        return None
    tail = _WEEK_TAIL.match(c.s, m.end())
    if tail is None or tail["whole"]:
        return _Span(monday, sunday, m.end() if tail is None else tail.end())
    if tail["end"]:
        return _Span(monday + timedelta(days=5), sunday, tail.end())
    d = monday + timedelta(days=_WEEKDAY_NAMES.index(tail["wd"]))
    return _Span(d, d, tail.end())


def _r_weekday(c: _Ctx, i: int) -> _Span | None:
    """金曜 = the next Friday on or after today; 次の金曜 = strictly after today."""
    m = _WEEKDAY.match(c.s, i)
    if m is None:
        return None
    ahead = (_WEEKDAY_NAMES.index(m["wd"]) - c.today.weekday()) % 7
    if ahead == 0 and m["q"] and m["q"] != "この":
        ahead = 7
    d = _shift(c.today, ahead)
    return None if d is None else _Span(d, d, m.end())


def _r_rel_day(c: _Ctx, i: int) -> _Span | None:
    m = _REL_DAY.match(c.s, i)
    if m is None:
        return None
    word = m.group()
    if "\u3040" <= word[0] <= "\u309f":
        # hiragana words (きょう, あす) must stand alone: not きょうかい, あすなろ
        if i > 0 and "\u3040" <= c.s[i - 1] <= "\u309f":
            return None
        rest = c.s[m.end() :]
        if (
            rest
            and "\u3040" <= rest[0] <= "\u309f"
            and not rest.startswith(("は", "に", "の", "も", "から", "まで", "で"))
        ):
            return None
    d = _shift(c.today, _REL_DAYS[word])
    return None if d is None else _Span(d, d, m.end())


def _r_rel_n(c: _Ctx, i: int) -> _Span | None:
    """3日後, 2日前, 1週間後, 3ヶ月後, 2年前."""
    m = _REL_N.match(c.s, i)
    if m is None:
        return None
    sign = -1 if m["dir"] == "前" else 1
    if m["half"]:  # 半年後 = 6 months, 半月後 = 15 days
        half = _add_months(c.today, 6 * sign) if m["half"] == "半年" else _shift(c.today, 15 * sign)
        return None if half is None else _Span(half, half, m.end())
    n = int(m["n"]) * sign
    unit = m["u"]
    if unit == "日":
        d = _shift(c.today, n)
    elif unit.startswith("週"):
        d = _shift(c.today, 7 * n)
    else:
        d = _add_months(c.today, n * (12 if unit == "年" else 1))
    return None if d is None else _Span(d, d, m.end())


def _fiscal_range(fy: int, term: re.Match[str] | None) -> Range | None:
    if not 1 <= fy <= 9998:
        return None
    start, end = date(fy, 4, 1), date(fy + 1, 3, 31)
    if term is None or term["whole"]:
        return start, end
    q = term["q"] or term["q2"] or term["q3"]
    if q:
        first = _add_months(start, 3 * (int(q) - 1))
        last = None if first is None else _add_months(first, 3)
        return None if first is None or last is None else (first, last - timedelta(days=1))
    if term["h1"]:
        return start, date(fy, 9, 30)
    if term["h2"]:
        return date(fy, 10, 1), end
    if term["end"]:
        return end, end
    return start, start


def _r_fiscal(c: _Ctx, i: int) -> _Span | None:
    """今年度, 2026年度, R8年度, FY2026, optionally followed by 第2四半期/Q2/上期/下期/末;
    or one of those terms alone (= in the current fiscal year)."""
    current = _fiscal_year(c.today)
    m = _FY_PREFIX.match(c.s, i)
    if m is None:
        term = _FY_TERM.match(c.s, i)
        if term is None or not (term["q"] or term["q2"] or term["q3"] or term["h1"] or term["h2"]):
            return None
        if c.s[i].isspace() or c.s[i] == "の":
            return None
        return _span(_fiscal_range(current, term), term.end())
    if m["rel"]:
        fy = current + _FY_OFFSETS[m["rel"]]
    elif m["y"]:
        fy = int(m["y"])
    elif m["fy"]:
        fy = int(m["fy"]) + (2000 if len(m["fy"]) == 2 else 0)
    elif m["era"]:
        era = _era_year(m["era"], m["n"])
        if era is None:
            return None
        fy = era[0]
    else:
        fy = current
    term = _FY_TERM.match(c.s, m.end())
    if m["bare"] and term is None:
        return None  # 年度 alone says nothing
    return _span(_fiscal_range(fy, term), m.end() if term is None else term.end())


def _r_quarter_word(c: _Ctx, i: int) -> _Span | None:
    m = _QUARTER_WORD.match(c.s, i)
    if m is None:
        return None
    this_start = date(c.today.year, c.today.month - (c.today.month - 1) % 3, 1)
    first = _add_months(this_start, 3 * _QUARTER_OFFSETS[m["w"]])
    after = None if first is None else _add_months(first, 3)
    if first is None or after is None:
        return None
    return _Span(first, after - timedelta(days=1), m.end())


def _r_english(c: _Ctx, i: int) -> _Span | None:
    """A little English: today, tomorrow, (next) friday, next week, in 3 days, Nov 30."""
    today = c.today
    if m := _EN_DAY.match(c.s, i):
        return _span(((d, d) if (d := _shift(today, _EN_DAY_OFFSETS[m["w"]])) else None), m.end())
    if m := _EN_WEEKDAY.match(c.s, i):
        wd = _EN_WEEKDAYS.index((m["wd1"] or m["wd2"])[:3])
        q = m["q"]
        if q == "last":
            back = (today.weekday() - wd) % 7 or 7
            d = _shift(today, -back)
        else:
            ahead = (wd - today.weekday()) % 7
            d = _shift(today, 7 if ahead == 0 and q in ("next", "coming") else ahead)
        return _span(None if d is None else (d, d), m.end())
    if m := _EN_PERIOD.match(c.s, i):
        k = {"next": 1, "this": 0, "last": -1}[m["q"]]
        if m["u"] == "week":
            monday = _week_monday(today, k)
            sunday = None if monday is None else _shift(monday, 6)
            return _span(None if monday is None or sunday is None else (monday, sunday), m.end())
        if m["u"] == "month":
            last = _month_end(*_month_of(today, k))
            return _span(None if last is None else (last.replace(day=1), last), m.end())
        y = today.year + k
        return _span((date(y, 1, 1), date(y, 12, 31)) if 1 <= y <= 9999 else None, m.end())
    if m := _EN_IN.match(c.s, i):
        n = int(m["n"] or m["n2"]) * (-1 if m["dir"] == "ago" else 1)
        unit = m["u"] or m["u2"]
        if unit in ("day", "week"):
            d = _shift(today, n * (7 if unit == "week" else 1))
        else:
            d = _add_months(today, n * (12 if unit == "year" else 1))
        return _span(None if d is None else (d, d), m.end())
    if m := _EN_MD.match(c.s, i):
        month = _EN_MONTHS.index((m["mon"] or m["mon2"])[:3]) + 1
        day = int(m["d"] or m["d2"])
        year = m["y"] or m["y2"]
        if year:
            d = _ymd(int(year), month, day)
            return _span(None if d is None else (d, d), m.end())
        cands = ((d, d) if (d := _ymd(today.year + k, month, day)) else None for k in (-1, 0, 1))
        return _span(_nearest(cands, today), m.end(), True)
    return None


_RULES: tuple[Callable[[_Ctx, int], _Span | None], ...] = (
    _r_ymd,
    _r_yy_or_compact,
    _r_holiday,
    _r_era_sep,
    _r_year_month_slash,
    _r_year,
    _r_fiscal,
    _r_quarter_word,
    _r_month,
    _r_month_word,
    _r_month_edge,
    _r_md,
    _r_day,
    _r_nth_alone,
    _r_week,
    _r_weekday,
    _r_rel_day,
    _r_rel_n,
    _r_english,
)


def _point(c: _Ctx, i: int) -> _Span | None:
    """The longest date expression starting exactly at i."""
    if i >= len(c.s):
        return None
    if c.s[i] in _NEEDS_WORD_START and i > 0 and _is_kanji(c.s[i - 1]):
        return None
    best: _Span | None = None
    for rule in _RULES:
        span = rule(c, i)
        if span is not None and (best is None or span.pos > best.pos):
            best = span
    return best


# ---------------------------------------------------------------------------
# Weekday check, times, ranges
# ---------------------------------------------------------------------------


def _weekday_at(s: str, pos: int) -> re.Match[str] | None:
    m = _WEEKDAY_AFTER.match(s, pos)
    if m is None or not (m["jp"] or m["en"] or m["hol"] or m["jp2"]):
        return None
    return m


def _check_weekday(c: _Ctx, span: _Span) -> _Span:
    """Consume a written weekday after a single day, raising if it contradicts the date."""
    if span.start != span.end:
        return span
    m = _weekday_at(c.s, span.pos)
    if m is None:
        return span
    written: int | None = None
    if m["jp"] or m["jp2"]:
        written = _WEEKDAY_NAMES.index(m["jp"] or m["jp2"])
    elif m["en"]:
        written = _EN_WEEKDAYS.index(m["en"][:3])
    if written is not None and written != span.start.weekday():
        raise WeekdayMismatch(span.start, written, span.start.weekday())
    return _Span(span.start, span.end, m.end(), span.yearless)


def _time(c: _Ctx, pos: int) -> tuple[datetime.time, int] | None:
    s = c.s
    if m := _TIME_NOON.match(s, pos):
        return datetime.time(12, 0), m.end()
    m = (
        _TIME_KANJI.match(s, pos)
        or _TIME_COLON.match(s, pos)
        or _TIME_AMPM.match(s, pos)
        or _TIME_HOUR_RANGE.match(s, pos)
    )
    if m is None:
        return None
    groups = m.groupdict()
    hour = int(groups["h"])
    minute = 30 if groups.get("half") else int(groups.get("mi") or 0)
    ap = groups.get("ap") or groups.get("ap2")
    if ap:
        if hour > 12:
            return None
        if ap in _PM_WORDS and hour < 12:
            hour += 12
        elif ap not in _PM_WORDS and hour == 12:
            hour = 0
    if hour > 23 or minute > 59:
        return None
    return datetime.time(hour, minute), m.end()


def _time_span(c: _Ctx, pos: int) -> tuple[datetime.time, int] | None:
    """A time, optionally followed by the end of a time range (whose end is dropped)."""
    first = _time(c, pos)
    if first is None:
        return None
    sep = _SEP.match(c.s, first[1])
    if sep and (second := _time(c, sep.end())):
        return first[0], second[1]
    return first


def _second_point(c: _Ctx, pos: int, first: _Span, after_time: bool) -> _Span | None:
    """The end of a range: a full date, or just a day of the first date's month
    (not after a time: in 10:00-12 the 12 is an hour, not a day)."""
    m = None if after_time else _RANGE_DAY.match(c.s, pos)
    if m is not None:
        day = int(m["d"])
        d = _ymd(first.start.year, first.start.month, day)
        if d is not None and d < first.start:
            nxt = _add_months(first.start.replace(day=1), 1)
            d = None if nxt is None else _ymd(nxt.year, nxt.month, day)
        return None if d is None else _check_weekday(c, _Span(d, d, m.end()))
    span = _point(c, pos)
    if span is None:
        return None
    span = _check_weekday(c, span)
    if span.end < first.start and span.yearless:
        start, end = _add_months(span.start, 12), _add_months(span.end, 12)
        if start is None or end is None:
            return None
        if span.end == _month_end(span.end.year, span.end.month):
            end = _month_end(end.year, end.month) or end
        span = _Span(start, end, span.pos)
    return span if span.end >= first.start else None


def _expr(c: _Ctx, i: int) -> tuple[When, int] | None:
    """label? date [weekday] [time] [~ date [weekday] [time]] [suffix] [particle]"""
    s = c.s
    label = _LABEL.match(s, i)
    pos = i if label is None else label.end()
    first = _point(c, pos)
    if first is None and label is not None:
        pos, first = i, _point(c, i)
    clock: datetime.time | None = None
    if first is None and (t := _time_span(c, pos)):
        # 14:00 12/24: the time written before the date
        lead = _TIME_LEAD.match(s, t[1])
        first = _point(c, t[1] if lead is None else lead.end())
        if first is not None:
            clock = t[0]
    if first is None:
        if c.find:
            return None  # a time alone does not date a message
        t = _time_span(c, pos)
        if t is None:
            return None
        start = end = c.today
        clock, pos = t
    else:
        first = _check_weekday(c, first)
        start, end, pos = first.start, first.end, first.pos
        lead = _TIME_LEAD.match(s, pos)
        if lead and (t := _time_span(c, lead.end())):
            clock, pos = t
        sep = _SEP.match(s, pos)
        if sep and (second := _second_point(c, sep.end(), first, clock is not None)):
            end, pos = second.end, second.pos
            lead = _TIME_LEAD.match(s, pos)
            if lead and (t := _time_span(c, lead.end())):
                pos = t[1]
    if suffix := _SUFFIX.match(s, pos):
        pos = suffix.end()
    if particle := _PARTICLE.match(s, pos):
        pos = particle.end()
    return When(start, end, clock), pos


# Characters no expression begins with (numerals that are not dates stay kanji after
# normalising; 一 is absent for 一昨日).  Skipping them keeps a long run of numerals
# or punctuation as cheap as a short message.
_INERT = frozenset("〇零二三四五六七八九十百千万億兆,./:;'\"!?#$%&*+=|^_@、。・「」()[]【】")


# The kana that begin an expression: きょう あす あした あさって おととい ことし らいねん
# きょねん おととし こんどの この しあさって, and スポーツの日.
_KANA_STARTS = frozenset("きあおこらしス")


def _can_start(s: str, i: int) -> bool:
    """Expressions do not begin inside a number or a word."""
    if i == 0:
        return True
    prev, ch = s[i - 1], s[i]
    if prev.isascii() and prev.isdigit():
        return False
    if ch.isascii() and ch.isalnum() and prev.isascii() and prev.isalpha():
        return False
    return not (ch.isascii() and ch.isdigit() and prev in "/.,:-+#¥$")


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def parse_when(text: str, *, today: date) -> When | None:
    """Read ``text`` as one date/time expression; None unless all of it is understood.

    A time alone means today.  Raises WeekdayMismatch when a written weekday
    contradicts the date.
    """
    norm = _normalise(text.strip())
    if not norm.s:
        return None
    found = _expr(_Ctx(norm.s, today, find=False), 0)
    if found is None:
        return None
    when, pos = found
    trailer = _TRAILER.match(norm.s, pos)
    return when if trailer is not None and trailer.end() == len(norm.s) else None


def find_when(text: str, *, today: date) -> tuple[When, str] | None:
    """Find the first date expression in a message.

    Returns it with the rest of the message (expression removed, whitespace
    collapsed), or None when the message names no date.  Raises WeekdayMismatch
    when a written weekday contradicts the date.  Dates outside FIRST_YEAR..LAST_YEAR
    are returned (eras are read historically); callers that store one check in_range.
    """
    norm = _normalise(text)
    c = _Ctx(norm.s, today, find=True)
    for i in range(len(norm.s)):
        ch = norm.s[i]
        if ch in _INERT or ch.isspace() or not _can_start(norm.s, i):
            continue
        if ch == "一" and not norm.s.startswith("一昨", i):
            continue
        if "\u3040" <= ch <= "\u30ff" and ch not in _KANA_STARTS:
            continue  # kana that begin no expression: a long run of them costs nothing
        found = _expr(c, i)
        if found is None:
            continue
        when, pos = found
        while pos > i and norm.s[pos - 1].isspace():
            pos -= 1
        rest = text[: norm.starts[i]] + " " + text[norm.ends[pos - 1] :]
        rest = " ".join(_EMPTY_BRACKETS.sub(" ", rest).split())
        if when.start < when.end and when.time is None:
            # 「年明け1/7に定例」「来週 12/10」: a span, then a day inside it — the day is meant
            try:
                inner = find_when(rest, today=today)
            except WeekdayMismatch:
                inner = None
            if inner is not None and when.start <= inner[0].start <= inner[0].end <= when.end:
                return inner
        return when, rest
    return None
