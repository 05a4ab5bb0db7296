"""Read the numbers people type into chat: ２５０名, 約1,200人, 三十五, 2.5万, 1万2千.

Matching runs on an NFKC-normalised copy of the text (full-width digits and
symbols become ASCII); every normalised character remembers the original span
it came from, so find_counts can cut counts out of the message as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, localcontext

__all__ = ["Count", "find_counts", "parse_number"]


@dataclass(frozen=True)
class Count:
    """A labelled quantity found in free text, e.g. 参加者45名."""

    label: str  # e.g. "参加者" ("" if none)
    value: Decimal
    unit: str  # e.g. "名" ("" if none)


_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
_KANJI_DIGITS = dict(zip("〇一二三四五六七八九零", "01234567890", strict=True))

_ARABIC = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_KD = "[〇零一二三四五六七八九]"
# The shape only; _number_value checks the order of 十百千 / 万億兆.  Atomic: the
# alternatives overlap (1234 is [0-9]+ once or many times), and backtracking into
# them made a 30-digit message take minutes.
_NUMBER = rf"(?>(?:{_ARABIC}|{_KD}+|[十百千万億兆])+)"
# Longest number (or label) read; a longer run of numerals is not a count but
# noise, and is masked before matching so every position costs bounded work.
MAX_NUMBER_CHARS = 40
MAX_LABEL_CHARS = 20
_NUMERAL_RUN = re.compile(rf"[0-9.,〇零一二三四五六七八九十百千万億兆]{{{MAX_NUMBER_CHARS + 1},}}")
_MASK = "\x00"  # not a word character, matches nothing below
_MAX_WHOLE_CHARS = 200
_TOKEN = re.compile(rf"{_ARABIC}|{_KD}+|[十百千万億兆]")

# Longest first so 時間 wins over 時 and km over m.  Date parts (年, 月, 日, 時,
# 分) are deliberately absent: 12月3日 must not become a count of 3 日.
_UNIT_WORDS = """
    名様 名 人分 人日 人 件 回 % 円 個 部 枚 団体 社 校 世帯 時間 分間 日間 週間 年間
    か月 ヶ月 ケ月 カ月 ヵ月 箇月 箇所 か所 カ所 ヶ所 ケ所 ヵ所 施設 店舗 店 台 本 冊 点 組
    チーム 機関 事業所 企業 自治体 市町村 地区 園 棟 戸 軒 室 席 食 杯 袋 箱 通 票 頭 匹 羽
    株 講座 コマ 種類 種 品目 項目 倍 割 歳 才 ポイント ドル
    km2 km m2 cm mm m kg g t ml mL l L ha 平米 坪 kWh kW GB MB TB pt
"""
_UNITS = sorted(_UNIT_WORDS.split(), key=len, reverse=True)
_UNIT = "|".join(re.escape(u) for u in _UNITS)
_APPROX = (
    r"(?:約|およそ|おおよそ|概ね|おおむね|大体|だいたい|ほぼ|延べ|のべ|合計|総計|計|最大|最低)"
)
_AFTER = r"(?:程度|ほど|くらい|ぐらい|前後|余り|あまり|余|強|弱|超|以上|以下|未満)"
_CURRENCY = "[¥$€£]"
# The unit is cut short when a letter follows an ASCII unit (5g 回線 ok, 5gb no).
_UNIT_END = r"(?<![A-Za-z])|(?![A-Za-z])"

_WHOLE = re.compile(
    rf"(?:(?P<label>[^\W\d_][^\W\d]{{0,{MAX_LABEL_CHARS - 1}}}?)"
    r"(?<![〇零一二三四五六七八九十百千万億兆第#])\s*(?:[:=]\s*|は\s*|が\s*)?)?"
    rf"(?P<sign>[-−▲△])?\s*(?:{_APPROX}\s*)*(?P<cur>{_CURRENCY})?\s*(?P<num>{_NUMBER})"
    rf"\s*(?:(?P<unit>{_UNIT})(?:{_UNIT_END}))?\s*{_AFTER}?"
)

# label, then an explicit separator or a particle, then 約…, the number and its unit.
# A count needs a unit (or currency sign), or a label=number / label:number form.
_COUNT = re.compile(
    rf"(?:(?P<label>[^\W\d_][^\W\d]{{0,{MAX_LABEL_CHARS - 1}}}?)"
    r"(?<![〇零一二三四五六七八九十百千万億兆])(?:\s*(?P<sep>[:=])\s*|は|が)?)?"
    rf"(?:{_APPROX}\s*)?(?P<cur>{_CURRENCY})?"
    r"(?<![0-9A-Za-z第#])(?<![0-9][,.:/])"
    rf"(?P<num>{_NUMBER})"
    # 87 名: one space may stand before a Japanese unit (not before m, g, t: 3 to 5)
    rf"(?:(?:\s(?=[^\x00-\x7f]))?(?P<unit>{_UNIT})(?:{_UNIT_END})|(?(cur)|(?(sep)|(?!))))"
    rf"(?P<after>{_AFTER})?"
    r"(?![0-9]|[/:][0-9]|目|番|号|位|代|期|次|条|丁目)"
)
_APPROX_WORD = re.compile(_APPROX)
_LIST_SEP = re.compile(r"\s*[、,;]")
_EMPTY_BRACKETS = re.compile(r"[(（【\[「『]\s*[)）】\]」』]")


def _normalise(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC per character, keeping each output char's original span."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch):
            if out.isspace() and chars and chars[-1] == " ":
                # A run of spaces is one space: no pattern then meets a long run of them
                # (three optional \s* in a row made 12/1( + 400 spaces take half a second).
                ends[-1] = index + 1
                continue
            chars.append(" " if out.isspace() else out)
            starts.append(index)
            ends.append(index + 1)
    return "".join(chars), starts, ends


def _tidy(value: Decimal) -> Decimal:
    """25000.0 -> 25000, 1.50 -> 1.5, so equal numbers also print the same."""
    if value == value.to_integral_value():
        return value.to_integral_value()
    return value.normalize()


def _number_value(text: str) -> Decimal | None:
    """Value of one number written with digits, kanji numerals and 十百千万億兆."""
    with localcontext(prec=len(text) + 30):  # exact, however many digits were typed
        return _sum_tokens(text)


def _sum_tokens(text: str) -> Decimal | None:
    total = Decimal(0)
    section = Decimal(0)
    current: Decimal | None = None
    last_small = last_big = 10**13  # units must fall: 千百十, 兆億万
    for token in _TOKEN.findall(text):
        if token in _SMALL_UNITS:
            unit = _SMALL_UNITS[token]
            if unit >= last_small:
                return None
            section += (Decimal(1) if current is None else current) * unit
            current, last_small = None, unit
        elif token in _BIG_UNITS:
            unit = _BIG_UNITS[token]
            if unit >= last_big or (current is None and section == 0):
                return None  # 万 alone, or 万 before 億
            total += (section + (current or 0)) * unit
            section, current, last_small, last_big = Decimal(0), None, 10**13, unit
        else:
            if current is not None:
                return None  # two numbers side by side
            digits = "".join(_KANJI_DIGITS.get(ch, ch) for ch in token).replace(",", "")
            current = Decimal(digits)
    return _tidy(total + section + (current or 0))


def parse_number(text: str) -> Decimal | None:
    """Read ``text`` as one number with optional 約/およそ, currency and unit; else None.

    ２５０名 -> 250, 約1,200人 -> 1200, 三十五 -> 35, 2.5万 -> 25000, 1万2千 -> 12000,
    参加者 87 名 -> 87 (a leading label is read past).
    """
    if len(text) > _MAX_WHOLE_CHARS:
        return None  # no one types a number this long; bounded work for hostile input
    norm = " ".join(_normalise(text)[0].split())
    m = _WHOLE.fullmatch(norm)
    if m is None:
        return None
    if m["label"] and m["label"].endswith(("数", "何")) and not any(c.isascii() for c in m["num"]):
        return None  # 数十名, 何百人: a vague amount, not a number
    value = _number_value(m["num"])
    if value is None:
        return None
    return -value if m["sign"] else value


# Counts as Slack's English writers type them, read as their Japanese form: 「30 participants」
# is 参加者30名 (a count needs a unit; these nouns are the unit).
_ENGLISH_COUNTS = (
    (
        r"participants?|attendees?|people|persons?|pax|students?|pupils?|children|kids",
        "参加者",
        "名",
    ),
    (r"visitors?", "来場者", "名"),
    (r"volunteers?", "ボランティア", "名"),
    (r"times|sessions?|events?", "", "回"),
    (r"copies|flyers?|leaflets?|brochures?", "配布", "部"),
    (r"households?", "", "世帯"),
    (r"companies|firms?", "", "社"),
    (r"schools?", "", "校"),
)
_ENGLISH_COUNT = re.compile(
    r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s*("
    + "|".join(words for words, _, _ in _ENGLISH_COUNTS)
    + r")\b",
    re.IGNORECASE,
)


def _in_japanese(text: str) -> str:
    if not re.search(r"[A-Za-z]", text):
        return text  # the usual case: nothing English to read

    def japanese(m: re.Match[str]) -> str:
        word = m.group(2).lower()
        for words, label, unit in _ENGLISH_COUNTS:
            if re.fullmatch(words, word):
                return f" {label}{m.group(1)}{unit} "
        return m.group(0)

    return _ENGLISH_COUNT.sub(japanese, text)


def find_counts(text: str) -> tuple[list[Count], str]:
    """Pull labelled counts out of free text.

    "防災訓練 参加者45名 配布300部" -> ([Count("参加者", 45, "名"), Count("配布", 300, "部")],
    "防災訓練").  Bare numbers (第3回, 120, 3F) stay in the text: a count needs a unit
    or a label:number / label=number form.
    """
    text = _in_japanese(text)
    norm, starts, ends = _normalise(text)
    # Same length as norm, so starts/ends still map each position to the original.
    norm = _NUMERAL_RUN.sub(lambda m: _MASK * len(m.group()), norm)
    counts: list[Count] = []
    cuts: list[tuple[int, int]] = []
    ahead = _next_number(norm)
    i = 0
    while i < len(norm):
        if ahead[i] - i > _COUNT_REACH:  # no number close enough for a count to start here
            i += 1
            continue
        m = _COUNT.match(norm, i)
        # Inside a word only the number may start a match (label = ""), so a label
        # never begins mid-word.
        mid_word = i > 0 and (norm[i - 1].isalnum() or norm[i - 1] == "ー")
        if m is None or (mid_word and m["label"]) or not _plausible(norm, m):
            i += 1
            continue
        value = _number_value(m["num"])
        if value is None:
            i += 1
            continue
        end = m.end()
        if sep := _LIST_SEP.match(norm, end):
            end = sep.end()
        label = m["label"] or ""
        if _APPROX_WORD.fullmatch(label):
            label = ""  # 約, 延べ: how the number was counted, not what
        counts.append(Count(label, value, m["unit"] or m["cur"] or ""))
        cuts.append((starts[m.start()], ends[end - 1]))
        i = end
    pieces: list[str] = []
    previous = 0
    for start, stop in cuts:
        pieces.append(text[previous:start])
        previous = stop
    pieces.append(text[previous:])
    rest = _EMPTY_BRACKETS.sub(" ", " ".join(pieces))
    return counts, " ".join(rest.split())


# How far before its number a count may start: label, separator, 約/延べ… and a currency sign.
_COUNT_REACH = MAX_LABEL_CHARS + 12
_NUMBER_START = frozenset("0123456789.〇零一二三四五六七八九十百千万億兆")


def _next_number(norm: str) -> list[int]:
    """For each position, where the next numeral is (len(norm) when none follows)."""
    ahead = [len(norm)] * (len(norm) + 1)
    for i in range(len(norm) - 1, -1, -1):
        ahead[i] = i if norm[i] in _NUMBER_START else ahead[i + 1]
    return ahead


def _plausible(norm: str, m: re.Match[str]) -> bool:
    """Reject kanji numerals that are really words (一部, 一人, 十分)."""
    num = m["num"]
    if any(ch.isascii() for ch in num):
        return True
    if m["sep"]:
        return True
    return len(num) >= 2 and not norm[: m.start("num")].endswith(("数", "何"))
