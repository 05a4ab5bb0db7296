"""Slack's markup decoded: the tokens Slack documents for message text."""

from __future__ import annotations

import time

import pytest

from bot.slack_text import UNKNOWN_USER, decode, escape, unescape

NAMES = {"U1": "伊藤 由美", "W2": "田中　花子"}


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("清掃 &amp; 交流会", "清掃 & 交流会"),
        ("a &lt; b &gt; c &amp;lt;", "a < b > c &lt;"),
        ("<mailto:yamada@example.jp|yamada@example.jp>", "yamada@example.jp"),
        ("<mailto:yamada@example.jp>", "yamada@example.jp"),
        ("<https://example.jp/a?b=1&amp;c=2|報告書 &amp; 写真>", "報告書 & 写真"),
        ("<https://example.jp/a?b=1&amp;c=2>", "https://example.jp/a?b=1&c=2"),
        ("<#C024BE7LR|general> で", "#general で"),
        ("<#C024BE7LR> で", "#C024BE7LR で"),
        ("<!here> <!channel>", "@here @channel"),
        ("<!subteam^SAZ94GDB8|@rescue-team>", "@rescue-team"),
        ("<!date^1392734382^{date_num}|2014-02-18>", "2014-02-18"),
        ("<@U1> と <@W2|tanaka>", "@伊藤由美 と @田中花子"),
        ("<@UBOT> 予定", "予定"),
        ("<<@U1>>", "<@伊藤由美>"),  # a stray bracket is left as it is
    ],
)
def test_slack_markup_becomes_what_was_typed(sent: str, typed: str) -> None:
    assert decode(sent, contact_name=NAMES.get, bot_user_id="UBOT").text == typed


def test_an_unknown_user_is_reported_and_kept_as_a_word_that_is_no_one() -> None:
    decoded = decode("タスク 12/5 送付 <@U9> <@U9>", contact_name=NAMES.get)
    assert decoded.unknown_users == ("U9",)
    assert decoded.text == f"タスク 12/5 送付 {UNKNOWN_USER} {UNKNOWN_USER}"


def test_escape_and_unescape_round_trip() -> None:
    text = "清掃 & 交流会 <雨天> &amp;"
    assert escape(text) == "清掃 &amp; 交流会 &lt;雨天&gt; &amp;amp;"
    assert unescape(escape(text)) == text


def test_decoding_a_megabyte_of_brackets_is_linear() -> None:
    hostile = "<" * 300_000 + "&amp;" * 100_000 + "<@U1|" * 50_000
    started = time.perf_counter()
    decode(hostile, contact_name=NAMES.get)
    assert time.perf_counter() - started < 2


def test_mentions_are_looked_up_once_each_and_at_most_twenty() -> None:
    asked: list[str] = []

    def contact_name(user_id: str) -> str | None:
        asked.append(user_id)
        return NAMES.get(user_id)

    text = "<@U1> " * 1000 + " ".join(f"<@U{i}X>" for i in range(1000))
    decoded = decode(text, contact_name=contact_name)
    assert asked.count("U1") == 1 and len(asked) == 20
    assert decoded.text.startswith("@伊藤由美 @伊藤由美")


def test_a_pushed_notifications_text_is_escaped_like_its_blocks() -> None:
    from bot.render_batch import to_slack_batch
    from handlers.messages import Reply

    message = to_slack_batch([Reply("清掃 & 交流会 <b>"), Reply("次")], [None, None])
    assert message["text"] == "お知らせ2件：清掃 &amp; 交流会 &lt;b&gt; / 次"
    assert "清掃 &amp; 交流会 &lt;b&gt;" in message["blocks"][0]["text"]["text"]
