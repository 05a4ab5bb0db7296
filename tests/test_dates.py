"""Tests for handlers.dates: the required examples, a wider table, and a fuzz property."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dates import WeekdayMismatch, When, find_when, parse_when

TODAY = date(2026, 6, 10)  # a Wednesday


def day(y: int, m: int, d: int, t: time | None = None) -> When:
    return When(date(y, m, d), date(y, m, d), t)


def span(a: tuple[int, int, int], b: tuple[int, int, int]) -> When:
    return When(date(*a), date(*b))


REQUIRED = [
    ("明日", day(2026, 6, 11)),
    ("６月３０日(火)", day(2026, 6, 30)),
    ("来週の金曜", day(2026, 6, 19)),
    ("金曜", day(2026, 6, 12)),
    ("来月10日", day(2026, 7, 10)),
    ("7月中旬", span((2026, 7, 11), (2026, 7, 20))),
    ("第2四半期", span((2026, 7, 1), (2026, 9, 30))),
    ("上期", span((2026, 4, 1), (2026, 9, 30))),
    ("R8.9.30", day(2026, 9, 30)),
    ("来週月曜 10時", day(2026, 6, 15, time(10, 0))),
    ("6/16 午後3時半", day(2026, 6, 16, time(15, 30))),
    ("1週間後", day(2026, 6, 17)),
    ("3/10", day(2026, 3, 10)),
    ("来月の第3金曜", day(2026, 7, 17)),
    ("年度末", day(2027, 3, 31)),
]


@pytest.mark.parametrize(("text", "expected"), REQUIRED)
def test_required_examples(text: str, expected: When) -> None:
    assert parse_when(text, today=TODAY) == expected


WIDER = [
    # numeric, full-width and 年月日
    ("11/30", day(2026, 11, 30)),
    ("１１／３０", day(2026, 11, 30)),
    ("2026/11/30", day(2026, 11, 30)),
    ("2026-11-30", day(2026, 11, 30)),
    ("2026.11.30", day(2026, 11, 30)),
    ("11.30", day(2026, 11, 30)),
    ("2026年11月30日", day(2026, 11, 30)),
    ("２０２６年１１月３０日", day(2026, 11, 30)),
    ("11月30日(月)", day(2026, 11, 30)),
    ("11月30日（月）", day(2026, 11, 30)),
    ("11月30日(月曜日)", day(2026, 11, 30)),
    ("11月30日 月曜日", day(2026, 11, 30)),
    ("11/3(火・祝)", day(2026, 11, 3)),
    ("  12/5  ", day(2026, 12, 5)),
    # 和暦 and era boundaries
    ("令和8年3月31日", day(2026, 3, 31)),
    ("R8/3/31", day(2026, 3, 31)),
    ("r8-3-31", day(2026, 3, 31)),
    ("令和八年三月三十一日", day(2026, 3, 31)),
    ("㋿8年3月31日", day(2026, 3, 31)),
    ("平成31年4月1日", day(2019, 4, 1)),
    ("H31.4.30", day(2019, 4, 30)),
    ("令和元年5月1日", day(2019, 5, 1)),
    ("令和1年5月1日", day(2019, 5, 1)),
    ("令和元年4月30日", None),  # before Reiwa began
    ("平成元年1月8日", day(1989, 1, 8)),
    ("平成元年1月7日", None),  # still Showa
    ("昭和64年1月7日", day(1989, 1, 7)),
    ("平成31年5月1日", day(2019, 5, 1)),  # after Heisei ended: accepted, as on old forms
    ("令和元年", span((2019, 5, 1), (2019, 12, 31))),
    ("令和8年", span((2026, 1, 1), (2026, 12, 31))),
    ("令和8年度", span((2026, 4, 1), (2027, 3, 31))),
    ("令和8年12月", span((2026, 12, 1), (2026, 12, 31))),
    # kanji numerals
    ("十二月五日", day(2026, 12, 5)),
    ("十二月二十五日", day(2026, 12, 25)),
    ("二〇二六年十二月五日", day(2026, 12, 5)),
    ("三日後", day(2026, 6, 13)),
    # relative days and weeks
    ("今日", day(2026, 6, 10)),
    ("本日", day(2026, 6, 10)),
    ("明後日", day(2026, 6, 12)),
    ("あさって", day(2026, 6, 12)),
    ("明々後日", day(2026, 6, 13)),
    ("昨日", day(2026, 6, 9)),
    ("一昨日", day(2026, 6, 8)),
    ("3日後", day(2026, 6, 13)),
    ("2日前", day(2026, 6, 8)),
    ("2週間後", day(2026, 6, 24)),
    ("3ヶ月後", day(2026, 9, 10)),
    ("1年後", day(2027, 6, 10)),
    ("今週金曜", day(2026, 6, 12)),
    ("今週の月曜", day(2026, 6, 8)),
    ("先週金曜", day(2026, 6, 5)),
    ("再来週の水曜", day(2026, 6, 24)),
    ("水曜", day(2026, 6, 10)),  # on or after today
    ("次の水曜", day(2026, 6, 17)),  # strictly after today
    ("日曜日", day(2026, 6, 14)),
    ("今週", span((2026, 6, 8), (2026, 6, 14))),
    ("来週", span((2026, 6, 15), (2026, 6, 21))),
    ("再来週", span((2026, 6, 22), (2026, 6, 28))),
    ("先週", span((2026, 6, 1), (2026, 6, 7))),
    ("来週末", span((2026, 6, 20), (2026, 6, 21))),
    ("週明け", day(2026, 6, 15)),
    # months, month ends, 旬, n-th weekday
    ("今月", span((2026, 6, 1), (2026, 6, 30))),
    ("来月", span((2026, 7, 1), (2026, 7, 31))),
    ("来年1月", span((2027, 1, 1), (2027, 1, 31))),
    ("12月", span((2026, 12, 1), (2026, 12, 31))),
    ("2026年", span((2026, 1, 1), (2026, 12, 31))),
    ("月末", day(2026, 6, 30)),
    ("今月末", day(2026, 6, 30)),
    ("来月末", day(2026, 7, 31)),
    ("12月末", day(2026, 12, 31)),
    ("7月上旬", span((2026, 7, 1), (2026, 7, 10))),
    ("7月下旬", span((2026, 7, 21), (2026, 7, 31))),
    ("来月上旬", span((2026, 7, 1), (2026, 7, 10))),
    ("12月の第2月曜", day(2026, 12, 14)),
    ("来月の第1月曜", day(2026, 7, 6)),
    ("来月の最終金曜", day(2026, 7, 31)),
    ("今月の第5金曜", None),  # June 2026 has four Fridays
    ("第5金曜", day(2026, 7, 31)),  # so the next one is in July
    # fiscal terms (April fiscal year)
    ("第1四半期", span((2026, 4, 1), (2026, 6, 30))),
    ("第二四半期", span((2026, 7, 1), (2026, 9, 30))),
    ("第3四半期", span((2026, 10, 1), (2026, 12, 31))),
    ("第4四半期", span((2027, 1, 1), (2027, 3, 31))),
    ("Q1", span((2026, 4, 1), (2026, 6, 30))),
    ("2Q", span((2026, 7, 1), (2026, 9, 30))),
    ("Ｑ４", span((2027, 1, 1), (2027, 3, 31))),
    ("下期", span((2026, 10, 1), (2027, 3, 31))),
    ("今年度", span((2026, 4, 1), (2027, 3, 31))),
    ("来年度", span((2027, 4, 1), (2028, 3, 31))),
    ("前年度", span((2025, 4, 1), (2026, 3, 31))),
    ("昨年度", span((2025, 4, 1), (2026, 3, 31))),
    ("来年度第1四半期", span((2027, 4, 1), (2027, 6, 30))),
    ("2026年度下期", span((2026, 10, 1), (2027, 3, 31))),
    ("FY2026 Q3", span((2026, 10, 1), (2026, 12, 31))),
    ("来年度末", day(2028, 3, 31)),
    # times
    ("14:00", day(2026, 6, 10, time(14, 0))),
    ("１４：００", day(2026, 6, 10, time(14, 0))),
    ("14時", day(2026, 6, 10, time(14, 0))),
    ("14時半", day(2026, 6, 10, time(14, 30))),
    ("午後2時", day(2026, 6, 10, time(14, 0))),
    ("午前10時30分", day(2026, 6, 10, time(10, 30))),
    ("正午", day(2026, 6, 10, time(12, 0))),
    ("14時〜", day(2026, 6, 10, time(14, 0))),
    ("午後12時", day(2026, 6, 10, time(12, 0))),
    ("午前0時", day(2026, 6, 10, time(0, 0))),
    ("3pm", day(2026, 6, 10, time(15, 0))),
    ("夜7時", day(2026, 6, 10, time(19, 0))),
    ("明日の午後3時", day(2026, 6, 11, time(15, 0))),
    ("12/10(木) 14:00〜16:00", day(2026, 12, 10, time(14, 0))),
    ("１２月１日（火）午後２時から", day(2026, 12, 1, time(14, 0))),
    ("12/5 10〜12時", day(2026, 12, 5, time(10, 0))),
    # deadlines
    ("12/5まで", day(2026, 12, 5)),
    ("12/5までに", day(2026, 12, 5)),
    ("期限12/5", day(2026, 12, 5)),
    ("期限：12月5日(土)", day(2026, 12, 5)),
    ("12/5締切", day(2026, 12, 5)),
    ("〜12/5", day(2026, 12, 5)),
    # explicit ranges
    ("12/1〜12/5", span((2026, 12, 1), (2026, 12, 5))),
    ("12/1〜5", span((2026, 12, 1), (2026, 12, 5))),
    ("12月1日から3日まで", span((2026, 12, 1), (2026, 12, 3))),
    ("12/28〜1/5", span((2026, 12, 28), (2027, 1, 5))),
    ("7月〜9月", span((2026, 7, 1), (2026, 9, 30))),
    # a little English
    ("today", day(2026, 6, 10)),
    ("Tomorrow", day(2026, 6, 11)),
    ("next friday", day(2026, 6, 12)),
    ("next week", span((2026, 6, 15), (2026, 6, 21))),
    ("in 3 days", day(2026, 6, 13)),
    ("Nov 30", day(2026, 11, 30)),
    ("30 November 2026", day(2026, 11, 30)),
    # garbage and near misses
    ("", None),
    ("   ", None),
    ("abc", None),
    ("45名", None),
    ("300部", None),
    ("120", None),
    ("第3回", None),
    ("3時間", None),
    ("13/40", None),
    ("2026/13/01", None),
    ("2/30", None),
    ("25:00", None),
    ("24時", None),
    ("明日明日", None),
    ("明日の天気", None),
    ("🎉", None),
    ("令和", None),
    ("1/2/3/4", None),
]


@pytest.mark.parametrize(("text", "expected"), WIDER)
def test_wider_table(text: str, expected: When | None) -> None:
    assert parse_when(text, today=TODAY) == expected


# A date without a year is the nearest occurrence; a six-month tie goes forward.
YEAR_CHOICE = [
    (date(2026, 11, 15), "1/15", date(2027, 1, 15)),
    (date(2026, 11, 15), "10/1", date(2026, 10, 1)),
    (date(2026, 11, 15), "5月", date(2027, 5, 1)),
    (date(2026, 1, 5), "12/28", date(2025, 12, 28)),
    (date(2026, 1, 5), "12月", date(2025, 12, 1)),
    (date(2026, 6, 10), "12/10", date(2026, 12, 10)),
    (date(2026, 12, 31), "明日", date(2027, 1, 1)),
    (date(2026, 12, 20), "来月", date(2027, 1, 1)),
    (date(2027, 1, 3), "先月末", date(2026, 12, 31)),
    (date(2026, 12, 30), "来週", date(2027, 1, 4)),
]


@pytest.mark.parametrize(("today", "text", "start"), YEAR_CHOICE)
def test_year_choice(today: date, text: str, start: date) -> None:
    when = parse_when(text, today=today)
    assert when is not None
    assert when.start == start


LEAP = [
    (date(2028, 1, 10), "2/29", day(2028, 2, 29)),
    (date(2026, 6, 10), "2/29", None),
    (date(2026, 6, 10), "2028/2/29", day(2028, 2, 29)),
    (date(2026, 6, 10), "2027/2/29", None),
    (date(2026, 6, 10), "2100/2/29", None),
    (date(2026, 6, 10), "2000/2/29", day(2000, 2, 29)),
    (date(2028, 1, 10), "2月末", day(2028, 2, 29)),
    (date(2028, 1, 10), "2月下旬", span((2028, 2, 21), (2028, 2, 29))),
    (date(2028, 2, 28), "明日", day(2028, 2, 29)),
    (date(2028, 2, 29), "1年後", day(2029, 2, 28)),
]


@pytest.mark.parametrize(("today", "text", "expected"), LEAP)
def test_leap_years(today: date, text: str, expected: When | None) -> None:
    assert parse_when(text, today=today) == expected


FISCAL_IN_WINTER = [  # 2027-02-15 still belongs to fiscal 2026
    ("年度末", day(2027, 3, 31)),
    ("今年度", span((2026, 4, 1), (2027, 3, 31))),
    ("第4四半期", span((2027, 1, 1), (2027, 3, 31))),
    ("上期", span((2026, 4, 1), (2026, 9, 30))),
    ("来年度", span((2027, 4, 1), (2028, 3, 31))),
]


@pytest.mark.parametrize(("text", "expected"), FISCAL_IN_WINTER)
def test_fiscal_year_in_january_to_march(text: str, expected: When) -> None:
    assert parse_when(text, today=date(2027, 2, 15)) == expected


def test_weekday_words_on_the_day_itself() -> None:
    friday = date(2026, 6, 12)
    assert parse_when("金曜", today=friday) == day(2026, 6, 12)
    assert parse_when("次の金曜", today=friday) == day(2026, 6, 19)
    assert parse_when("来週の金曜", today=friday) == day(2026, 6, 19)
    sunday = date(2026, 6, 14)  # weeks run Monday..Sunday
    assert parse_when("今週", today=sunday) == span((2026, 6, 8), (2026, 6, 14))
    assert parse_when("来週の月曜", today=sunday) == day(2026, 6, 15)


FIND = [
    ("11/20 防災訓練 参加者45名", day(2026, 11, 20), "防災訓練 参加者45名"),
    (
        "会議 12/10 14:00 実務者会議 市役所3F",
        day(2026, 12, 10, time(14, 0)),
        "会議 実務者会議 市役所3F",
    ),
    ("【報告】11/20(金) 防災訓練", day(2026, 11, 20), "【報告】 防災訓練"),
    ("【12/10】定例会", day(2026, 12, 10), "定例会"),
    ("来週月曜に打ち合わせ", day(2026, 6, 15), "打ち合わせ"),
    ("明日の会議は中止", day(2026, 6, 11), "会議は中止"),
    ("2026年度 第2回 連携会議", span((2026, 4, 1), (2027, 3, 31)), "第2回 連携会議"),
    (
        "説明会 １２月１０日（木）午後２時から 市民ホール",
        day(2026, 12, 10, time(14, 0)),
        "説明会 市民ホール",
    ),
    ("締切：12/5(土) 報告書提出", day(2026, 12, 5), "報告書提出"),
    ("参加者 10:00集合 明日", day(2026, 6, 11), "参加者 10:00集合"),
    ("12/10 14:00〜16:00 定例会", day(2026, 12, 10, time(14, 0)), "定例会"),
    ("報告書は12/5までに提出", day(2026, 12, 5), "報告書は 提出"),
    ("第3回会議 来月の第3金曜 市役所", day(2026, 7, 17), "第3回会議 市役所"),
    ("研修　7月中旬　予定", span((2026, 7, 11), (2026, 7, 20)), "研修 予定"),
]


@pytest.mark.parametrize(("text", "when", "rest"), FIND)
def test_find_when(text: str, when: When, rest: str) -> None:
    assert find_when(text, today=TODAY) == (when, rest)


NO_DATE = [
    "防災訓練 参加者45名 配布300部",
    "第3回 実務者会議 120",
    "３時間の研修",
    "午後3時 会議",  # a time alone does not date a message
    "2.5万人来場",
    "研修1.5時間",
    "ver1.2 リリース",
    "https://example.com/2026/11/30",
    "以上期間中",
    "きょうかい",
    "",
]


@pytest.mark.parametrize("text", NO_DATE)
def test_find_when_without_a_date(text: str) -> None:
    assert find_when(text, today=TODAY) is None


def test_weekday_mismatch_is_raised_with_details() -> None:
    with pytest.raises(WeekdayMismatch) as info:
        parse_when("12月1日(月)", today=TODAY)
    assert info.value.day == date(2026, 12, 1)
    assert info.value.written_weekday == 0
    assert info.value.actual_weekday == 1
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["12月1日(月) 会議", "会議 ６／３０（水）", "11/20(Thu) 訓練"])
def test_find_when_raises_weekday_mismatch(text: str) -> None:
    with pytest.raises(WeekdayMismatch):
        find_when(text, today=TODAY)


_FRAGMENT_WORDS = """
    12 / 1 0 9 ３１ 月 日 年 (月) （金） 令和 元 R 年度 第 四半期 〜 から まで 午後 時 半 :
    来週 金曜 末 上旬 の 🎉 ｶﾞ Q 万 名 明日 十二 期限 . -
"""
FRAGMENTS = [*_FRAGMENT_WORDS.split(), " ", "\u3000"]  # plus ASCII and ideographic spaces


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)),
    today=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
)
def test_arbitrary_text_only_ever_raises_weekday_mismatch(text: str, today: date) -> None:
    try:
        when = parse_when(text, today=today)
        if when is not None:
            assert when.start <= when.end
        found = find_when(text, today=today)
    except WeekdayMismatch:
        return
    if found is not None:
        when, rest = found
        assert when.start <= when.end
        assert rest == " ".join(rest.split())
