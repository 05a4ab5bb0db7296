"""From an intent to an answer, with the person's own data: a focused answer, a command to run
now (reads only, or a command typed in another spelling), or a PROPOSAL — never a write.

A proposal is the pending question of `handlers.questions`: each button carries a canonical
command text (see the contract with the commands), so はい, a number or a tap runs it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from rapidfuzz import fuzz
from sqlalchemy import select

from handlers.agreements import AGREEMENT_TOKEN, mentioned, my_agreements
from handlers.changes import last_entry
from handlers.commands import due as due_answers
from handlers.commands.kpi import progress_summary
from handlers.commands.meeting import PLACE_WORD
from handlers.context import Context
from handlers.dates import WeekdayMismatch, find_when
from handlers.messages import Button, Reply
from handlers.numbers import find_counts
from handlers.questions import ask, ask_again, revise
from handlers.text import fmt_date, fmt_datetime, fmt_number, short_title
from handlers.understanding.analyser import words
from handlers.understanding.intent import (
    CANCEL_MEETING,
    GREETINGS,
    MEETING,
    MOVE_MEETING,
    Intent,
    subject_of,
    understand,
    without_courtesies,
)
from reminders.business_days import previous_business_day
from storage.due import agreements_of
from storage.fiscal import period_label, period_start
from storage.models import ActionItem, Agreement, Kpi, Meeting

THEN = " && "  # one button, two commands in turn: 「活動 …」 then 「KPI …」
NO = Button("いいえ", "キャンセル")
GOOD_MATCH = 70  # rapidfuzz partial_ratio from which a title counts as meant
_TIME = re.compile(r"(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分|(半))?)")

QUESTION_COMMANDS = {
    "this_week": "今週",
    "meetings": "会議",
    "tasks": "タスク",
    "due": "予定",
    "status": "状況",
    "history": "履歴",
}


def reply_for(ctx: Context, text: str) -> Reply | str:
    """A reply, or the canonical text of a command to run now."""
    text = without_courtesies(text) or text
    intent = understand(text)
    kind = intent.kind
    if kind == "command" and not intent.rewritten:
        if intent.command in _READS_BY_NAME:  # 「さくら町の予定」: that agreement's
            return f"{intent.command} {text}"
        if intent.command == "KPI" and (named := mentioned(ctx, text, my_agreements(ctx))):
            return progress_summary(ctx, named=named)  # 「みなと市のKPI」
    if kind == "command":
        return intent.command
    if kind == "question" and intent.focus == "contacts":
        return f"連絡先 {text}"  # the names in the question pick the agreements
    if kind == "question":
        return _question(ctx, intent.focus, text)
    if kind == "done":
        return _done(ctx, intent, text)
    if kind == "report":
        return _report(ctx, intent, text)
    if kind == "meeting_cancel":
        return _meeting_cancel(ctx, intent, text)
    if kind == "meeting_move":
        return _meeting_move(ctx, intent, text)
    if kind == "meeting_new":
        return _new_item(ctx, text, "会議")
    if kind == "task_new":
        return _new_item(ctx, text, "タスク")
    if kind == "successor":
        return _successor(ctx, intent)
    if kind == "cancel":
        return "キャンセル"
    if kind == "correction":
        return _recounted(ctx, text) or _correction(ctx)
    if kind in ("yes", "no"):
        return ask_again(ctx) or Reply(
            "いまお答えいただく質問はありません。ご用件をそのまま送ってください（例：「予定」）。"
        )
    if kind == "greeting":
        return Reply(_greeting(ctx, text), private=True)
    if kind == "thanks":
        return Reply("どういたしまして。またいつでも声をかけてください。", private=True)
    return Reply(
        "すみません、わかりませんでした。たとえば：", items=intent.suggestions, private=True
    )


# What a message that begins with a command word may turn out to be, by command. The commands
# read titles, numbers and dates themselves (「完了 報告書」「会議 打合せ 中止」), so only a question,
# a bare verb (「タスク終わった」) or the word used in a sentence (「会議を15:30に変更」) is taken.
_OVERRIDABLE = {
    "task": {"question", "done", "cancel"},
    "meeting": {"question", "cancel"},
    "kpi": {"question"},
    "log": set(),  # 「活動 防災訓練おわりました」 is an activity, as typed
    "done": {"question"},
}
_IN_A_SENTENCE = {"meeting_cancel", "meeting_move", "meeting_new", "task_new", "done", "question"}
_WRITES_IN_WORDS = _IN_A_SENTENCE - {"question"}
_PARTICLE = tuple("をはがのもっ、,。")
# The canonical edit forms of the contract (「会議 変更 成果報告会 場所 公民館」「会議 中止 打合せ」):
# an explicit command whose reference may be a title, never a sentence to understand.
_DONE_WORDS = {"完了", "済み", "done"}
_EDIT_HEADS = {"変更", "修正", "中止", "edit", "change", "move", "cancel"}


def overrides(text: str, command_name: str, args: str) -> bool:
    """A command word was first, but the rest is no argument: 「タスク終わった」「KPIどれくらい？」
    「会議いつ？」「期限切れてるのある？」「会議を15:30に変更」「完了しました」. Then the message is
    understood instead of run."""
    if not args or AGREEMENT_TOKEN.search(args):
        return False  # 協定:key: an argument for the command itself
    if command_name in ("task", "meeting") and args.split()[0].lower() in _EDIT_HEADS:
        return False
    if command_name == "done" and text.split()[0].lower() in _DONE_WORDS and len(args.split()) == 1:
        return False  # 「完了 報告書」: the task named by a word of its title
    intent = understand(text)
    if (intent.kind, intent.command) == ("command", "取消") and command_name in _OVERRIDABLE:
        return True  # 「完了を取り消したい」: the last entry taken back, not a task named so
    if command_name in ("due", "week", "status", "history") and intent.kind in _WRITES_IN_WORDS:
        return True  # 「今週金曜までに資料」: a task that begins with a read's word
    if command_name in ("due", "week", "status", "history"):  # reads: only a sharper question
        same = intent.focus in ("due", "status") or (command_name, intent.focus) == (
            "week",
            "this_week",
        )  # 「what's due this week」: the week's answer, not the 30 days of 「due」
        return intent.kind == "question" and not same
    if command_name not in _OVERRIDABLE:
        return False
    if intent.rewritten:
        return True  # 「タスク追加 12/8 会場下見」: the command, without the request word
    if args.startswith(_PARTICLE):  # 「会議を…」「タスクは…」: the word used in a sentence
        return intent.kind in _IN_A_SENTENCE
    if any(ch.isdigit() for ch in args):
        return False  # a number or a date: arguments for the command itself
    if command_name == "done" and intent.kind == "done" and not intent.subject:
        return True  # 「完了しました」: which one is proposed
    return intent.kind in _OVERRIDABLE[command_name]


def propose(ctx: Context, text: str, command: str, *extra: Button) -> Reply:
    return ask(ctx, text, [Button("はい", command), *extra, NO], command="proposal")


def _greeting(ctx: Context, text: str) -> str:
    """The greeting they used, back; else the one for the hour."""
    said = next((back for word, back in GREETINGS if word in text), None)
    hour = ctx.now.astimezone(ctx.tz).hour
    hello = said or (
        "おはようございます" if hour < 11 else "こんにちは" if hour < 18 else "こんばんは"
    )
    return f"{hello}。ご用件をどうぞ（例：「予定」「次の会議いつ？」）。"


def _question(ctx: Context, focus: str, text: str) -> Reply | str:
    """The answer to a question; the reads that can be about one agreement get the question's
    words, so 「さくら町の予定は？」 is that agreement's (agreements.mentioned)."""
    if focus in _BY_NAME:
        return f"{QUESTION_COMMANDS[focus]} {text}"
    if focus in ("tasks", "meetings"):  # the list, of the agreement the question names
        return f"{QUESTION_COMMANDS[focus]} 一覧 {text}"
    if focus in QUESTION_COMMANDS:
        return QUESTION_COMMANDS[focus]
    if focus == "next_meeting":
        return due_answers.next_meeting(ctx, text)
    if focus == "overdue":
        return due_answers.overdue(ctx, text)
    if focus == "next_week":
        return due_answers.next_week(ctx, text)
    if focus == "kpi":
        return progress_summary(ctx, text)
    return "予定"


# The reads whose command takes an agreement's name among its words (タスク and 会議 take it
# after 一覧: other words after them make a new task or meeting).
_BY_NAME = {"due", "this_week", "status", "history"}
_READS_BY_NAME = {QUESTION_COMMANDS[focus] for focus in _BY_NAME}


# --- completions and reports -------------------------------------------------------------


def _open_tasks(ctx: Context) -> list[ActionItem]:
    return list(
        ctx.session.scalars(
            select(ActionItem)
            .where(
                ActionItem.agreement_id.in_(agreements_of(ctx.contact.id)),
                ActionItem.done_at.is_(None),
            )
            .order_by(ActionItem.due_on, ActionItem.id)
        )
    )


def _best(subject: str, titles: list[tuple[str, object]]) -> list[object]:
    """The items whose title the subject names best (ties kept), above GOOD_MATCH."""
    if not subject:
        return []
    scored = [(fuzz.partial_ratio(subject, title), item) for title, item in titles]
    top = max((s for s, _ in scored), default=0)
    if top < GOOD_MATCH:
        return []
    return [item for s, item in scored if s >= top - 5]


def _done(ctx: Context, intent: Intent, text: str) -> Reply | str:
    tasks = _open_tasks(ctx)
    chosen = _best(intent.subject, [(t.title, t) for t in tasks])
    if not chosen and not intent.subject:
        chosen = [t for t in tasks if t.owner_id == ctx.contact.id] or tasks
    if not chosen:
        if intent.subject:
            return _report(ctx, intent, text)
        return Reply("完了にする未完了のタスクはありません。")
    if len(chosen) == 1:
        task = chosen[0]
        assert isinstance(task, ActionItem)
        return propose(ctx, f"No.{task.id}「{task.title}」を完了にしますか？", f"完了 {task.id}")
    options = [Button(_label(f"No.{t.id} {t.title}"), f"完了 {t.id}") for t in chosen]  # type: ignore[attr-defined]
    return ask(ctx, "どのタスクを完了にしますか？", [*options, NO], command="proposal")


def _report(ctx: Context, intent: Intent, text: str) -> Reply:
    day, rest = _day(ctx, text)
    counts, _ = find_counts(rest)
    kpis = list(
        ctx.session.scalars(
            select(Kpi).where(Kpi.agreement_id.in_(agreements_of(ctx.contact.id))).order_by(Kpi.id)
        )
    )
    _, plain = find_counts(rest)  # 「参加者85人でした」: the count is no subject
    subject = subject_of(words(plain))
    names = [c.label for c in counts if c.label] + ([subject] if subject else [])
    kpi = _kpi_named(kpis, names)
    shown = " ".join(f"{c.label}{fmt_number(c.value)}{c.unit}" for c in counts)
    if kpi is not None and counts and _names_kpi(names, kpi):
        # 「10月の利用者数は1,130人でした」: a KPI's own name and a value — the KPI, not an activity
        value = fmt_number(counts[-1].value)
        agreement = ctx.session.get(Agreement, kpi.agreement_id)
        assert agreement is not None
        # The period by its name (「2026年度 第3四半期」), so a month's figure given for a
        # quarterly KPI shows where it would go before anyone taps はい.
        period = period_label(period_start(day, kpi.period), kpi.period)
        return propose(
            ctx,
            f"KPI「{kpi.name}」の{period}に {value}{kpi.unit} を入力しますか？",
            f"KPI {kpi.key} {value} {day:%Y/%m/%d} 協定:{agreement.key}",
        )
    title = subject or "活動報告"
    log = " ".join(f"活動 {day:%Y/%m/%d} {title} {shown}".split())
    extra: list[Button] = []
    if kpi is not None and counts:
        agreement = ctx.session.get(Agreement, kpi.agreement_id)
        assert agreement is not None
        value = fmt_number(counts[-1].value)
        extra.append(
            Button(
                "KPIにも入れる",
                f"{log}{THEN}KPI {kpi.key} {value} {day:%Y/%m/%d} 協定:{agreement.key}",
            )
        )
    return propose(
        ctx, f"活動として記録しますか？\n{fmt_date(day)} {title} {shown}".rstrip(), log, *extra
    )


def _names_kpi(names: list[str], kpi: Kpi) -> bool:
    """The message names the KPI itself (「防災訓練参加者数は130人」), not an event that feeds it
    (「防災訓練おわりました、参加者85人」)."""
    return any(fuzz.ratio(re.sub(r"^\d*月の?|^今期は?", "", n), kpi.name) >= 80 for n in names)


def _kpi_named(kpis: list[Kpi], names: list[str]) -> Kpi | None:
    best: tuple[float, Kpi | None] = (0, None)
    for name in names:
        for k in kpis:
            score = fuzz.partial_ratio(name, k.name) if len(name) >= 2 else 0
            if score > best[0]:
                best = (score, k)
    return best[1] if best[0] >= 75 else None


def _day(ctx: Context, text: str) -> tuple[date, str]:
    try:
        found = find_when(text, today=ctx.today)
    except WeekdayMismatch:
        found = None
    if found is None:
        return ctx.today, text
    when, rest = found
    return (when.start if when.start <= ctx.today else ctx.today), rest


# --- meetings by date, title or context ----------------------------------------------------


def _upcoming(ctx: Context) -> list[Meeting]:
    return list(
        ctx.session.scalars(
            select(Meeting)
            .where(
                Meeting.agreement_id.in_(agreements_of(ctx.contact.id)),
                Meeting.cancelled.is_(False),
                Meeting.starts_at >= ctx.now,
            )
            .order_by(Meeting.starts_at)
        )
    )


def _meetings_meant(ctx: Context, text: str) -> tuple[list[Meeting], str]:
    """The upcoming meetings the message points at (by date, then by title), and the rest."""
    meetings = _upcoming(ctx)
    try:
        found = find_when(text, today=ctx.today)
    except WeekdayMismatch:
        found = None
    if found is not None:
        when, rest = found
        on = [
            m for m in meetings if when.start <= m.starts_at.astimezone(ctx.tz).date() <= when.end
        ]
        return on, rest
    titled = _best(_title_words(text), [(m.title, m) for m in meetings])
    return (titled or meetings), text  # type: ignore[return-value]


_NOT_TITLE = (
    MEETING | CANCEL_MEETING | MOVE_MEETING | {"時", "分", "半", "日", "月", "今日", "明日"}
)


def _title_words(text: str) -> str:
    """The nouns that may name a meeting: 「実務者会議キャンセルになりました」 → 実務者."""
    return "".join(
        w.surface
        for w in words(_TIME.sub(" ", text))
        if w.pos in ("名詞", "接尾辞", "接頭辞")
        and w.lemma not in _NOT_TITLE
        and not any(ch.isdigit() for ch in w.surface)
    )


def _meeting_cancel(ctx: Context, intent: Intent, text: str) -> Reply:
    meetings, _ = _meetings_meant(ctx, text)
    if not meetings:
        return Reply("中止にする会議が見つかりません。「会議」で一覧を確かめてください。")
    if len(meetings) == 1:
        m = meetings[0]
        return propose(
            ctx,
            f"{fmt_datetime(m.starts_at, ctx.tz)}「{m.title}」を中止にしますか？",
            f"会議 中止 {m.id}",
        )
    options = [
        Button(
            _label(f"{fmt_date(m.starts_at.astimezone(ctx.tz).date())} {m.title}"),
            f"会議 中止 {m.id}",
        )
        for m in meetings
    ]
    return ask(ctx, "どの会議を中止にしますか？", [*options, NO], command="proposal")


# 「会議の場所変わった、第2会議室」「実務者会議の会場は公民館に変更」: the new place is what follows
# 場所/会場, less the verbs and particles around it.
_PLACE_WORD = re.compile(r"場所|会場")
_PLACE_HEAD = re.compile(
    r"^(?:が|は|を|も)?\s*(?:変わ(?:った|りました|ります|る)|変更(?:になりました|しました|です)?"
    r"|移動(?:しました)?)?\s*[、,:：は]?\s*"
)
_PLACE_TAIL = re.compile(
    r"\s*(?:に|へ)?\s*(?:変更(?:です|します|しました|して(?:ください)?|お願いします|に?なりました)?"
    r"|変わ(?:った|りました|ります)|なり(?:ました)?|なった|移動(?:です|しました)?|です"
    r"|でお願いします)?[。.!！]*$"
)
_NEXT_ONE = re.compile(r"次|今度|直近|next")


def _new_place(text: str) -> tuple[str, str] | None:
    """(the words before 場所/会場, the new place), when the message names one."""
    found = _PLACE_WORD.search(text)
    if found is None:
        return None
    place = _PLACE_TAIL.sub("", _PLACE_HEAD.sub("", text[found.end() :], count=1))
    place = place.strip(" 、,。")
    if not 0 < len(place) <= 60 or re.search(r"\d{1,2}\s*[/月:：時]", place):
        return None  # none, or a place run into a new date or time: the date path reads those
    return text[: found.start()], place


def _meeting_place(ctx: Context, head: str, place: str) -> Reply:
    meetings = _upcoming(ctx)
    if not meetings:
        return Reply("場所を変更する会議が見つかりません。「会議」で一覧を確かめてください。")
    if _NEXT_ONE.search(head):  # 「次の会議の場所…」
        meetings = meetings[:1]
    else:
        meetings = _best(_title_words(head), [(m.title, m) for m in meetings]) or meetings  # type: ignore[assignment]

    def change(m: Meeting) -> str:
        return f"会議 変更 {m.id} 場所 {place}"

    if len(meetings) == 1:
        m = meetings[0]
        day = fmt_date(_local(ctx, m).date())
        return propose(ctx, f"「{m.title}」（{day}）の場所を「{place}」に変更しますか？", change(m))
    options = [
        Button(_label(f"{fmt_date(_local(ctx, m).date())} {m.title}"), change(m))
        for m in meetings[:5]
    ]
    return ask(
        ctx, f"どの会議の場所を「{place}」に変更しますか？", [*options, NO], command="proposal"
    )


def _meeting_move(ctx: Context, intent: Intent, text: str) -> Reply:
    placed = _new_place(text)
    if placed is not None:
        return _meeting_place(ctx, *placed)
    meetings = _upcoming(ctx)
    try:
        first = find_when(text, today=ctx.today)
    except WeekdayMismatch:
        first = None
    if first is None and _PLACE_WORD.search(text):  # 「会議の場所変わった」: but to where?
        return Reply(
            "新しい場所を教えてください。例：「会議の場所は第2会議室に変更」「会議 変更 3 場所 市役所3F」"
        )
    second = None
    if first is not None:
        try:
            second = find_when(first[1], today=ctx.today)
        except WeekdayMismatch:
            second = None
    clock = _clock(second[1] if second else first[1] if first else text)
    if second is not None and first is not None:  # 「12/17の会議を12/18に」: which, then where to
        old_day, new_day = first[0], second[0].start
        meetings = [m for m in meetings if old_day.start <= _local(ctx, m).date() <= old_day.end]
    elif first is not None:
        on_day = [m for m in meetings if first[0].start <= _local(ctx, m).date() <= first[0].end]
        if on_day and (
            clock is not None or (first[0].time is None and first[0].start != first[0].end)
        ):
            new_day, meetings = None, on_day  # 「12/10の打合せ 16時からに」: that day's, new time
        else:  # 「実務者会議、12/11 14:00に変更」: the new day
            new_day = first[0].start
            clock = clock or first[0].time
            meetings = _best(_title_words(text), [(m.title, m) for m in meetings]) or meetings  # type: ignore[assignment]
    else:
        new_day = None
        meetings = _best(_title_words(text), [(m.title, m) for m in meetings]) or meetings  # type: ignore[assignment]
    if new_day is None and clock is None:
        return Reply("新しい日時がわかりませんでした。例：「会議 変更 3 12/12 15:00」")
    if not meetings:
        return Reply("変更する会議が見つかりません。「会議」で一覧を確かめてください。")

    def target(m: Meeting) -> str:
        local = _local(ctx, m)
        day = new_day or local.date()
        at = clock or local.time()
        return f"会議 変更 {m.id} {day:%Y/%m/%d} {at:%H:%M}"

    if len(meetings) == 1:
        m = meetings[0]
        new = target(m).split(" ", 3)[3]
        return propose(ctx, f"「{m.title}」を {new} に変更しますか？", target(m))
    options = [
        Button(_label(f"{fmt_date(_local(ctx, m).date())} {m.title}"), target(m)) for m in meetings
    ]
    return ask(ctx, "どの会議を変更しますか？", [*options, NO], command="proposal")


def _local(ctx: Context, m: Meeting) -> datetime:
    return m.starts_at.astimezone(ctx.tz)


def _clock(text: str) -> time | None:
    found = _TIME.search(text)
    if found is None:
        return None
    hour = int(found.group(1))
    minute = 30 if found.group(4) else int(found.group(2) or found.group(3) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_REQUEST_WORDS = re.compile(
    r"(?:を|の|で|が|は)?(?:入れて(?:おいて|ください|下さい)?|入れといて|いれて|設定(?:して)?|登録(?:して)?|追加(?:して)?"
    r"|お願い(?:します|いたします)?|ください|下さい|します|したい|になりました|決まりました|予定です|やります"
    r"|開催します|です)[。.!！\s]*$"
)
_LINKS = re.compile(
    r"^(?:から|まで(?:に)?|に|の|で|は|を|、)+|(?:から|まで(?:に)?|に|の|で|は|を|、)+$"
)


def _new_item(ctx: Context, text: str, command: str) -> Reply:
    """「12/15 14時から打ち合わせ入れて」「12/5までに資料送付 @佐藤」: a new meeting or task,
    proposed with the date made plain; the command asks for what is still missing."""
    try:
        found = find_when(text, today=ctx.today)
    except WeekdayMismatch:
        found = None
    if found is None:
        return Reply(f"日付がわかりませんでした。例：「{command} 12/10 14:00 実務者会議」")
    when, rest = found
    clock = when.time or _clock(rest)
    rest = _TIME.sub(" ", rest) if clock and not when.time else rest
    title = rest
    for _ in range(3):
        title = _REQUEST_WORDS.sub("", title).strip()
        title = " ".join(_LINKS.sub("", w) for w in title.split()).strip()
    said = [w for w in title.split() if w not in ("予定", "スケジュール")] or title.split()
    words_ = [w for w in said if w not in MEETING]
    if len(words_) == 1 < len(said) and PLACE_WORD.search(words_[0]):
        words_ = said  # 「打ち合わせ 市役所」: the meeting's name and its place, not a title 市役所
    title = " ".join(words_ or said)
    day = fmt_date(when.start, today=ctx.today)  # with its year when not this fiscal year's
    if command == "会議":
        title = title or "打合せ"
        at = f" {clock:%H:%M}" if clock else ""
        if (when.start, clock or time.max) < (ctx.today, ctx.now.astimezone(ctx.tz).time()):
            # 「令和8年1月15日」 in December: said before anyone taps はい to be refused
            return Reply(f"{day}{at}は過ぎています。これからの日時で送ってください。")
        canonical = f"会議 {when.start:%Y/%m/%d}{at} {title}"
        return propose(ctx, f"会議を登録しますか？\n{day}{at} {title}", canonical)
    if not title:
        return Reply("タスクの内容がわかりませんでした。例：「タスク 12/5 協定書案送付 @佐藤」")
    due = when.start
    if when.end > when.start:  # 「来週中に」「今月中に」: by the span's last business day
        due = max(when.start, previous_business_day(when.end))
        day = fmt_date(due, today=ctx.today)
    canonical = f"タスク {due:%Y/%m/%d} {title}"
    return propose(ctx, f"タスクを登録しますか？\n期限 {day} {title}", canonical)


def _recounted(ctx: Context, text: str) -> Reply | None:
    """「あっ人数違った、42名です」 while a proposal waits: the same proposal with the new count
    (the activity's and the KPI value that came from it), asked again; None otherwise."""
    said, _ = find_counts(text)
    if len(said) != 1:
        return None
    new = said[0]

    def change(command: str) -> str:
        before, _ = find_counts(command.split(THEN)[0])
        old = [c for c in before if c.unit == new.unit and (not new.label or c.label == new.label)]
        if len(old) != 1:
            return command
        was, now = fmt_number(old[0].value), fmt_number(new.value)
        command = command.replace(
            f"{old[0].label}{was}{new.unit}", f"{old[0].label}{now}{new.unit}", 1
        )
        return re.sub(rf"(KPI \S+ ){re.escape(was)}(?= )", rf"\g<1>{now}", command, count=1)

    def text(command: str) -> str:
        plain = " ".join(AGREEMENT_TOKEN.sub("", command.split(THEN)[0]).split())
        return f"{fmt_number(new.value)}{new.unit}に直しました。\n「{plain}」でよろしいですか？"

    return revise(ctx, change, text)


def _correction(ctx: Context) -> Reply:
    """「さっきのKPI間違えた」: offer to take the last entry back; the right one is sent again."""
    entry = last_entry(ctx)
    if entry is None:
        return Reply(
            "直前に取り消せる入力がありません（取り消せるのは、ご自身の10分以内の入力です）。"
            "記録済みの内容を直すときは「タスク 変更 2 期限 12/19」「会議 変更 3 12/12 15:00」"
            "のように送ってください。"
        )
    return propose(
        ctx,
        f"直前の入力（{entry.summary}）を取り消しますか？\n取り消したあと、正しい内容をもう一度送ってください。",
        "取消",
    )


def _successor(ctx: Context, intent: Intent) -> Reply:
    if not intent.name:
        return Reply(
            "担当の交代ですね。後任の方のお名前を「担当変更 木村 さとみ」のように送ってください。"
        )
    return propose(ctx, f"正担当を{intent.name}さんに交代しますか？", f"担当変更 {intent.name}")


def _label(text: str) -> str:
    return short_title(text)[:20]
