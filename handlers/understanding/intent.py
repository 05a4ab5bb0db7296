"""What a free-text message is: a question, a report, a completion, a reference, small talk.

Pure and fast (no database): the analyser's normalised forms decide, so 打合せ/打ち合わせ,
よてい/予定 and おわりました/終わった read alike. `resolve` turns an intent into an answer or a
proposal with the person's own data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from handlers.numbers import find_counts
from handlers.understanding.analyser import Word, reading, words

MEETING = {"会議", "打ち合わせ", "打合せ", "ミーティング", "mtg", "meeting", "定例", "協議", "面談"}
TASK = {"タスク", "todo", "task", "tasks", "todos", "課題", "宿題", "やること"}
KPI = {"kpi", "実績", "達成", "進捗", "目標", "数字", "数値"}
DONE_VERBS = {
    "終わる", "終える", "済む", "済み", "完了", "終了", "提出", "出す", "送る", "送付", "片付く",
    "完成", "納品", "done", "finished", "finish", "完了済み", "提出済み", "送信", "共有", "作成",
    "仕上がる", "仕上げる", "済ます", "済ませる", "対応", "出来る", "できる", "とれる", "出来上がる", "取れる",
    "押さえる", "確保", "返信", "回答", "連絡", "提出済", "発送",
}  # fmt: skip
EVENT_VERBS = {"実施", "開催", "行う", "やる", "参加", "する", "催す", "集まる", "来る", "来場"}
EVENT_NOUNS = {
    "開催",
    "実施",
    "終了",
    "参加者",
    "来場者",
    "参加",
    "来場",
    "イベント",
    "訓練",
    "セミナー",
}
CANCEL_MEETING = {"中止", "キャンセル", "無し", "なし", "無くなる", "取り止め", "取りやめ", "流れる", "cancel", "cancelled", "canceled", "延期なし", "取り消し", "取消", "取消し", "取り消す", "取消す"}  # fmt: skip
MOVE_MEETING = {"変更", "ずらす", "ずれる", "延期", "移動", "変える", "変わる", "前倒し", "繰り上げ", "繰り下げ", "move", "reschedule", "moved"}  # fmt: skip
QUESTION_WORDS = {"いつ", "何", "なに", "なん", "どれ", "どの", "どう", "どんな", "ある", "有る", "教える", "知る", "見る", "見せる", "確認", "どれくらい", "どのくらい", "どんくらい", "くらい", "ぐらい", "一覧", "リスト"}  # fmt: skip
OVERDUE = re.compile(
    r"期限切れ|期限が?切れ|切れてる|過ぎて|過ぎた|超過|遅れ|overdue|late|滞って|放置"
)
NEXT_WEEK = re.compile(r"来週|next week|翌週")
THIS_WEEK = re.compile(r"今週|this week|週内")
NEXT = re.compile(r"次|今度|直近|next|この後|今後")
_CANCEL = re.compile(
    r"キャンセル|やっぱ(?:り)?(?:いい|やめ|なし|無し|止め)|やめ(?:る|とく|ます|て|ておく|とき)|止めとく"
    r"|取りやめ|なしで|もういい|いいです$|結構です|cancel|never ?mind|やめた"
)
# Taking back one's own entry, said in words; a meeting or a task named with it is theirs to
# cancel or edit (「会議を取り消して」 is the meeting's).
_UNDO = re.compile(
    r"取り?消(?:し|す|して|したい|しといて|しておいて)|元に戻(?:し|す)"
    r"|(?:^|やっぱり?|記録|入力|今の|さっきの|直前の)を?消(?:して|しといて|しておいて|しちゃって)"
    r"|削除して|なかったことに|(?:さっき|今|直前)の.{0,12}(?:なしで|なしにして|無しで)"
)
# 「間違えた」「訂正」: the last entry was wrong; the bot offers to take it back.
_CORRECTION = re.compile(
    r"間違(?:い|え|っ)|まちが(?:い|え|っ)|訂正|違(?:った|ってた|ってました)(?!形|かたち|方|やり)|ミス(?![ァ-ヶー])|誤(?:り|って)|typo|mistake"
)
# A meeting's place said to have changed, without the word 会議: 「会場が公民館に変わりました」.
_PLACE_MOVED = re.compile(r"(?:会場|場所)(?:が|は|を)?.{0,30}?(?:変わ|変更)")
_TRAILING = re.compile(r"[\s!！?？。.、,~〜ー\U0001F300-\U0001FAFF\u2600-\u27BF\u200d\ufe0f]+$")
GREETINGS = (
    ("おはよう", "おはようございます"),
    ("こんにちは", "こんにちは"),
    ("こんばんは", "こんばんは"),
    ("お疲れ", "お疲れさまです"),
    ("おつかれ", "お疲れさまです"),
    ("よろしく", "よろしくお願いします"),
)
_GREETING = re.compile(
    r"^(?:おはよう|こんにちは|こんばんは|お疲れ|おつかれ|よろしく|はじめまして|初めまして|hello|hi|hey|good morning)",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"ありがと|有難う|有り難う|感謝|助かり|助かる|thx|thanks|thank you|ty$|サンキュ|さんきゅ",
    re.IGNORECASE,
)
YES = {"はい", "うん", "yes", "y", "ok", "オッケー", "おけ", "お願いします", "おねがいします", "それで", "ええ", "了解", "はいお願いします", "そう", "そうです", "👍"}  # fmt: skip
NO = {"いいえ", "いや", "no", "n", "ちがう", "違う", "違います", "いいえ違います", "だめ", "ダメ"}
_SUCCESSOR = re.compile(
    r"後任(?:者)?(?:の方)?(?:は|が|:|：)?\s*([^\s、。,.!！?？]{1,12}?)\s*(?:さん|様|氏|くん|君)?\s*"
    r"(?:です|になります|でお願いします|に(?:なります|決まりました)|。|、|!|！|$)"
)
_REQUEST_TAIL = re.compile(
    r"^\s*(?:を)?(?:追加|登録|入力|記録|入れ|いれ|お願い|add|new)"
    r"(?:したい|します|して(?:ください|下さい)?|お願いします|たい|て(?:ください|下さい)?|る)?\s*[:：]?\s*"
    r"|^\s*[:：]\s*"
)
_DATED = re.compile(
    r"\d{1,4}[/月.-]\d{1,2}|明日|明後日|あさって|来週|再来週|今週|[月火水木金土日]曜|月末|週明け|今月中"
)
_HANDOVER = re.compile(
    r"引き?継ぎ?|引継|異動|handover|hand over|転勤|後任|担当(?:者)?(?:が|を|は)?(?:かわ|変わ|替わ|交代)"
)

# The command words a read-only guess may run at once, by their normalised form.
READ_COMMANDS = {
    "予定": "予定",
    "スケジュール": "予定",
    "期限": "予定",
    "今週": "今週",
    "状況": "状況",
    "進捗": "状況",
    "履歴": "履歴",
    "ヘルプ": "ヘルプ",
    "使い方": "ヘルプ",
    "help": "ヘルプ",
    "引き継ぎ": "引継ぎ",
}
# Canonical command words, by any spelling a person may start a command with.
WRITE_PREFIXES = {
    "活動": "活動",
    "記録": "活動",
    "log": "活動",
    "kpi": "KPI",
    "実績": "KPI",
    "会議": "会議",
    "打ち合わせ": "会議",
    "打合せ": "会議",
    "ミーティング": "会議",
    "meeting": "会議",
    "mtg": "会議",
    "タスク": "タスク",
    "todo": "タスク",
    "task": "タスク",
    "課題": "タスク",
    "やること": "タスク",
}
# Readings of the command words, for a short message typed with a slip (よてー, よていい, じょうきょ).
_TYPO_TARGETS = {
    "ヨテイ": "予定",
    "コンシュウ": "今週",
    "ジョウキョウ": "状況",
    "リレキ": "履歴",
    "ヒキツギ": "引継ぎ",
    "ヘルプ": "ヘルプ",
    "タスク": "タスク",
    "カイギ": "会議",
    "トリケシ": "取消",
    "キャンセル": "キャンセル",
}


@dataclass(frozen=True)
class Intent:
    """kind: command (run `command` now: a read, or a command typed in another spelling),
    question (`focus`), done, report, meeting_cancel, meeting_move, successor, greeting,
    thanks, cancel, correction, yes, no, unknown."""

    kind: str
    command: str = ""
    focus: str = ""
    subject: str = ""  # the words that name the thing: 報告書, 防災訓練
    name: str = ""  # a successor's name
    has_counts: bool = False
    rewritten: bool = False  # a command typed glued to a request word: 「KPI入れたい」
    suggestions: tuple[str, ...] = field(default_factory=tuple)


# The courtesies around a business message (「お疲れ様です。…よろしくお願いします。」): not its
# subject. 「お疲れ様です。本日の防災訓練…」 was an activity titled お疲れ様.
_COURTESY = re.compile(
    r"(?:いつも)?お世話にな(?:っております|ります)|お疲れ(?:様|さま)(?:です|でした|でございます)?"
    r"|おつかれ(?:さま)?(?:です|でした)?|(?:どうぞ)?(?:よろしく|宜しく)(?:お願い(?:します|いたします"
    r"|致します|申し上げます))?|(?:^|(?<=[。\n]))以上(?:です|になります)?(?=[。！!\s]*$)"
    r"|取り急ぎ(?:ご報告(?:まで|です|いたします))?|失礼(?:します|いたします)"
)


def without_courtesies(text: str) -> str:
    """`text` less its courtesies; "" when it was nothing else (「お疲れ様です」 is a greeting)."""
    return " ".join(_COURTESY.sub(" ", text).strip(" 。、,.！!\n").split())


def understand(text: str) -> Intent:
    """The intent of one normalised message (NFKC, spaces collapsed)."""
    text = text.strip()
    if not text:
        return Intent("unknown")
    lowered = text.lower()
    bare = _TRAILING.sub("", lowered)
    if bare in YES:
        return Intent("yes")
    if bare in NO:
        return Intent("no")
    ws = words(text)
    lemmas = {w.lemma for w in ws}
    meeting = bool(lemmas & MEETING) or any(m in lowered for m in ("会議", "mtg", "meeting"))
    question = _is_question(lowered, ws, lemmas)
    rewritten = _rewrite(text)
    if rewritten:
        return Intent("command", command=rewritten, rewritten=True)
    if meeting and (
        lemmas & CANCEL_MEETING
        or re.search(r"中止|キャンセル|cancel|なくなり|無くなり|流れ|取り?消", lowered)
    ):
        return Intent("meeting_cancel", subject=subject_of(ws))
    if (meeting and (lemmas & MOVE_MEETING) and not question) or (
        _PLACE_MOVED.search(text) and not find_counts(text)[0]  # not a report: 「…参加者30名」
    ):
        return Intent("meeting_move", subject=subject_of(ws))  # 「会場が市役所4階に変わりました」
    if _UNDO.search(lowered) and not meeting and not lemmas & TASK:
        return Intent("command", command="取消")  # 「完了を取り消したい」「やっぱり消して」
    if _CANCEL.search(lowered):
        return Intent("cancel")
    if _CORRECTION.search(lowered) and not question:
        return Intent("correction")  # 「さっきの参加者、102人の間違いでした」
    if found := _SUCCESSOR.search(text):
        return Intent("successor", name=found.group(1))
    if (
        _CONTACTS.search(lowered)
        and not (_HANDOVER.search(lowered) or past_words(lowered) or meeting)
        and not _DATED.search(text)  # 「12/10 13:30 担当者会議」 is a meeting
    ):
        return Intent("question", focus="contacts")  # 「さくら町の担当の方の連絡先ください」
    if (_HANDOVER.search(lowered) and not question) or re.search(r"引き?継ぎ?資料|引継資料", text):
        if re.search(r"担当(?:者)?(?:が|を|は)?(?:かわ|変わ|替わ|交代)|後任", text):
            return Intent("successor")
        return Intent("command", command="引継ぎ")
    past = _past(ws, lowered)
    counts, _ = find_counts(text)
    if not question and not past and _DATED.search(text):
        if meeting:  # 「12/15 14時から打ち合わせ入れて」
            return Intent("meeting_new")
        if (
            re.search(r"までに|中に|期限|締め?切り?", text) or "@" in text
        ):  # 「12/5までに資料送付 @佐藤」
            return Intent("task_new")
    if past and not question:
        if lemmas & DONE_VERBS and not counts:
            return Intent("done", subject=subject_of(ws))
        if counts or lemmas & EVENT_VERBS or lemmas & DONE_VERBS:
            return Intent("report", subject=subject_of(ws), has_counts=bool(counts))
    if (
        counts and not question and lemmas & (EVENT_VERBS | EVENT_NOUNS)
    ):  # 「本日 相談会を開催 5名」
        return Intent("report", subject=subject_of(ws), has_counts=True)
    if re.search(r"(?:done|finished|完了|済み|済|おわり|終わり|終了)$", bare) and not question:
        return Intent("done", subject=subject_of(ws))
    if question or _asks(lowered, lemmas):
        focus = _focus(lowered, lemmas, meeting)
        if focus:
            return Intent("question", focus=focus)
    elif len(text) <= 12:  # 「来週」「期限切れ」 alone ask too
        focus = _focus(lowered, lemmas, meeting)
        if focus in ("next_week", "this_week", "overdue", "next_meeting", "status", "contacts"):
            return Intent("question", focus=focus)
    for w in ws:
        if w.lemma in READ_COMMANDS:
            return Intent("command", command=READ_COMMANDS[w.lemma])
    if lemmas & {"kpi"}:
        return Intent("command", command="KPI")
    if meeting and len(text) <= 12:
        return Intent("command", command="会議")
    if lemmas & TASK and len(text) <= 12:
        return Intent("command", command="タスク")
    typo = _typo(text)
    if typo:
        return Intent("command", command=typo)
    if _THANKS.search(lowered):
        return Intent("thanks")
    if _GREETING.search(lowered):
        return Intent("greeting")
    return Intent("unknown", suggestions=suggest(lowered, lemmas))


_ENGLISH_ADD = re.compile(r"^(?:add|new|create)\s+(task|todo|meeting|mtg)s?\b\s*[:：]?\s*", re.I)


def _rewrite(text: str) -> str:
    """「todo追加: 資料作成 12/5」「KPI入れたい」「会議登録 …」「add task: …」: a command word first,
    glued to a request word → the canonical command with the rest, to run now (it was asked for)."""
    lowered = text.lower()
    if english := _ENGLISH_ADD.match(text):
        return " ".join(f"{WRITE_PREFIXES[english[1].lower()]} {text[english.end() :]}".split())
    for word in sorted(WRITE_PREFIXES, key=len, reverse=True):
        if not lowered.startswith(word):
            continue
        rest = text[len(word) :]
        if word.isascii() and rest[:1].isascii() and rest[:1].isalnum():
            return ""  # 「kpis」「logo」: another word
        tail = _REQUEST_TAIL.match(rest)
        if tail is None:
            return ""  # nothing was glued on: the command table already reads it
        return " ".join(f"{WRITE_PREFIXES[word]} {rest[tail.end() :]}".split())
    return ""


def _is_question(lowered: str, ws: tuple[Word, ...], lemmas: set[str]) -> bool:
    if re.search(
        r"[?？]|っけ|かな|ですか|ますか|でしょうか|ある$|あります$|ない$|教えて|知りたい|見せて|まとめて"
        r"|what|when|any|how",
        lowered,
    ):
        return True
    return bool(lemmas & {"いつ", "どれくらい", "どのくらい"})


def _asks(lowered: str, lemmas: set[str]) -> bool:
    return bool(lemmas & QUESTION_WORDS) or bool(OVERDUE.search(lowered))


_CONTACTS = re.compile(
    r"担当者|窓口|連絡先|メアド|メールアドレス|contacts?\b|who'?s? (?:is )?(?:the )?(?:person|in charge)"
    r"|担当(?:の方)?(?:って|は|が)?(?:誰|だれ|どなた)"
)


def _focus(lowered: str, lemmas: set[str], meeting: bool) -> str:
    if OVERDUE.search(lowered):
        return "overdue"
    if _CONTACTS.search(lowered):
        return "contacts"  # 「先方の担当者は誰？」「さくら町の連絡先」
    if lemmas & KPI or re.search(r"kpi|目標|達成|前年|昨年比|実績", lowered):
        return "kpi"  # 「目標達成できそう？」「前年比どう？」: compounds the analyser keeps whole
    if meeting and (NEXT.search(lowered) or "いつ" in lowered or "when" in lowered):
        return "next_meeting"
    if NEXT_WEEK.search(lowered):
        return "next_week"
    if THIS_WEEK.search(lowered) or "what's on" in lowered or "whats on" in lowered:
        return "this_week"
    if meeting:
        return "meetings"
    if lemmas & TASK or "タスク" in lowered:
        return "tasks"
    if re.search(r"予定|スケジュール|なんか|何か|なにか|upcoming|due|やること|締め?切り?", lowered):
        return "due"
    if "状況" in lowered or "status" in lowered or re.search(r"協定|agreement", lowered):
        return "status"  # 「協定の一覧」「みなと市の協定どうなってる？」: each agreement's state
    if "活動" in lowered or "activit" in lowered or "まとめ" in lowered:
        return "history"  # 「今月の活動どれくらい？」: what was done
    return ""


def past_words(lowered: str) -> bool:
    """「済み」「完了」「でした」: said of something done (no question then)."""
    return bool(re.search(r"済み|済|完了|done|finished|でした|ました", lowered))


def _past(ws: tuple[Word, ...], lowered: str) -> bool:
    if any(w.pos == "助動詞" and w.lemma == "た" for w in ws):
        return True
    return past_words(lowered)


_NOT_SUBJECT = MEETING | TASK | {"kpi", "件", "こと", "もの", "それ", "これ", "あれ", "方", "の", "今日", "本日", "昨日", "さっき", "先ほど"}  # fmt: skip


def subject_of(ws: tuple[Word, ...]) -> str:
    """The nouns before the first verb: 「防災訓練おわりました」 → 防災訓練."""
    out: list[str] = []
    for w in ws:
        if w.pos in ("動詞", "助動詞") and out:
            break
        if w.pos in ("名詞", "接頭辞", "接尾辞") and w.lemma not in _NOT_SUBJECT:
            if not w.surface.isdigit():
                out.append(w.surface)
        elif out and w.pos == "助詞" and w.surface == "の":
            out.append(w.surface)
        elif out and w.pos not in ("名詞",):
            break
    return "".join(out).strip("の")


def _typo(text: str) -> str:
    """A short message one slip away from a command word, by its reading."""
    if len(text) > 8 or " " in text:
        return ""
    said = reading(text)
    best = max(_TYPO_TARGETS, key=lambda r: _sounds(said, r))
    return _TYPO_TARGETS[best] if _sounds(said, best) >= 80 else ""


def _sounds(said: str, target: str) -> float:
    """How alike two readings are, a long vowel (ヨテー) counting as written (ヨテイ)."""
    plain = str.maketrans("", "", "ーイウ")
    return max(fuzz.ratio(said, target), fuzz.ratio(said.translate(plain), target.translate(plain)))


# Words that hint at a command, for the short "did you mean" answer.
_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("「予定」 これからの予定と期限", ("予定", "いつ", "期限", "スケジュール", "締切", "予")),
    ("「活動 11/20 防災訓練 参加者45名」 活動の記録", ("活動", "訓練", "イベント", "参加", "開催", "実施", "記録", "報告")),
    ("「KPI 参加者数 120」 KPIの入力（「KPI」で一覧）", ("kpi", "実績", "数", "人", "件", "目標")),
    ("「会議 12/10 14:00 実務者会議」 会議の登録・一覧", ("会議", "打ち合わせ", "打合せ", "ミーティング", "mtg")),
    ("「タスク 12/5 資料送付 @佐藤」 タスクの登録・一覧", ("タスク", "todo", "資料", "送付", "作成", "依頼")),
    ("「完了 3」 タスクを完了にする", ("完了", "終", "済", "出し", "提出")),
    ("「引継ぎ」 後任者向けの資料", ("引継", "引き継", "異動", "後任")),
    ("「状況」 協定ごとの状況", ("状況", "進捗", "協定")),
)  # fmt: skip


def suggest(lowered: str, lemmas: set[str]) -> tuple[str, ...]:
    """Two or three likely commands from the message's words; the usual three when none hint."""
    scored = [
        (sum(1 for h in hints if h in lowered or h in lemmas), i, line)
        for i, (line, hints) in enumerate(_HINTS)
    ]
    hit = [line for score, _, line in sorted(scored, key=lambda s: (-s[0], s[1])) if score]
    return (
        tuple(hit[:3])
        if len(hit) >= 2
        else tuple((hit + [line for line, _ in _HINTS if line not in hit])[:3])
    )
