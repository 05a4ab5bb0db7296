"""Tests for handlers.numbers: examples, a wider table, and fuzz/round-trip properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.numbers import Count, find_counts, parse_number

PARSE = [
    # required
    ("２５０名", Decimal(250)),
    ("約1,200人", Decimal(1200)),
    ("三十五", Decimal(35)),
    ("2.5万", Decimal(25000)),
    ("1万2千", Decimal(12000)),
    ("120", Decimal(120)),
    ("abc", None),
    ("", None),
    # wider
    ("およそ300部", Decimal(300)),
    ("1,234,567", Decimal(1234567)),
    ("１，２００円", Decimal(1200)),
    ("0.5", Decimal("0.5")),
    ("12.5%", Decimal("12.5")),
    ("５０％", Decimal(50)),
    ("3.2km", Decimal("3.2")),
    ("15団体", Decimal(15)),
    ("8社", Decimal(8)),
    ("12校", Decimal(12)),
    ("320世帯", Decimal(320)),
    ("2.5時間", Decimal("2.5")),
    ("４５名様", Decimal(45)),
    ("百", Decimal(100)),
    ("千二百", Decimal(1200)),
    ("二〇二六", Decimal(2026)),
    ("一万二千三百四十五", Decimal(12345)),
    ("1億2000万", Decimal(120_000_000)),
    ("五百万円", Decimal(5_000_000)),
    ("3千", Decimal(3000)),
    ("-5", Decimal(-5)),
    ("▲3件", Decimal(-3)),
    ("約 1,200 人", Decimal(1200)),
    ("250名程度", Decimal(250)),
    ("¥1,200", Decimal(1200)),
    (" 45 ", Decimal(45)),
    ("99999999999999999999999999999999", Decimal("99999999999999999999999999999999")),
    # not numbers
    ("万", None),
    ("名", None),
    ("約", None),
    ("1,20", None),
    ("1.2.3", None),
    ("十十", None),
    ("千万億", None),
    ("数十名", None),
    ("12/5", None),
    ("10:00", None),
    ("45名 参加", None),
    ("３F", None),
    ("1e5", None),
    ("NaN", None),
    ("Infinity", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSE)
def test_parse_number(text: str, expected: Decimal | None) -> None:
    assert parse_number(text) == expected


def test_parse_number_tidies_trailing_zeros() -> None:
    assert str(parse_number("2.5万")) == "25000"


FIND = [
    (
        "防災訓練 参加者45名 配布300部",
        [Count("参加者", Decimal(45), "名"), Count("配布", Decimal(300), "部")],
        "防災訓練",
    ),
    ("参加者：約1,200人", [Count("参加者", Decimal(1200), "人")], ""),
    ("第3回 実務者会議", [], "第3回 実務者会議"),
    ("11/20 防災訓練 参加者45名", [Count("参加者", Decimal(45), "名")], "11/20 防災訓練"),
    ("市役所3F 120", [], "市役所3F 120"),
    (
        "参加者は45名、配布300部 盛況",
        [Count("参加者", Decimal(45), "名"), Count("配布", Decimal(300), "部")],
        "盛況",
    ),
    (
        "参加者数=45 アンケート回収率85％",
        [Count("参加者数", Decimal(45), ""), Count("アンケート回収率", Decimal(85), "%")],
        "",
    ),
    (
        "協定締結 15団体 8社 12校",
        [Count("", Decimal(15), "団体"), Count("", Decimal(8), "社"), Count("", Decimal(12), "校")],
        "協定締結",
    ),
    ("三十五名参加", [Count("", Decimal(35), "名")], "参加"),
    ("2.5万人来場", [Count("", Decimal(25000), "人")], "来場"),
    (
        "参加者45名(うち子ども10名)",
        [Count("参加者", Decimal(45), "名"), Count("うち子ども", Decimal(10), "名")],
        "",
    ),
    ("予算：1.5億円", [Count("予算", Decimal(150_000_000), "円")], ""),
    ("研修1.5時間", [Count("研修", Decimal("1.5"), "時間")], ""),
    ("ＬＩＮＥ登録者１００名", [Count("LINE登録者", Decimal(100), "名")], ""),
    ("一部の企業が参加", [], "一部の企業が参加"),
    ("十人十色", [], "十人十色"),
    ("3回目の会議", [], "3回目の会議"),
    ("12月3日 14:00", [], "12月3日 14:00"),
    ("", [], ""),
]


@pytest.mark.parametrize(("text", "counts", "rest"), FIND)
def test_find_counts(text: str, counts: list[Count], rest: str) -> None:
    assert find_counts(text) == (counts, rest)


_KANJI = "〇一二三四五六七八九"


def to_kanji(n: int) -> str:
    """Write 0 < n < 10**8 in kanji numerals (二万五千三十)."""

    def below_10000(k: int) -> str:
        out = ""
        for unit, size in (("千", 1000), ("百", 100), ("十", 10)):
            q, k = divmod(k, size)
            if q:
                out += ("" if q == 1 else _KANJI[q]) + unit
        return out + (_KANJI[k] if k else "")

    high, low = divmod(n, 10000)
    return (below_10000(high) + "万" if high else "") + below_10000(low)


@given(st.integers(min_value=0, max_value=10**15))
def test_digits_round_trip(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"約{n:,}名") == n
    full_width = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_number(full_width) == n


@given(st.integers(min_value=1, max_value=10**8 - 1))
def test_kanji_round_trip(n: int) -> None:
    assert parse_number(to_kanji(n)) == n


@given(
    label=st.sampled_from(["参加者", "配布", "来場者数", "相談件数"]),
    n=st.integers(min_value=0, max_value=10**9),
    unit=st.sampled_from(["名", "部", "件", "人", "団体"]),
)
def test_labelled_count_round_trip(label: str, n: int, unit: str) -> None:
    assert find_counts(f"報告 {label}{n:,}{unit}") == ([Count(label, Decimal(n), unit)], "報告")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    value = parse_number(text)
    assert value is None or value.is_finite()
    counts, rest = find_counts(text)
    assert all(isinstance(c, Count) and c.value.is_finite() for c in counts)
    assert rest == " ".join(rest.split())
