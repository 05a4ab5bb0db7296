"""The Japanese analyser (SudachiPy, core dictionary), built once per process.

Sudachi gives each word its normalised form (打合せ → 打ち合わせ, よてい → 予定, おわり → 終わる)
and its reading, so the rules in `intent` look at one spelling per word instead of every variant.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from sudachipy import Dictionary, SplitMode

_LOCK = threading.Lock()  # a Sudachi tokenizer is not safe to share between threads


@dataclass(frozen=True)
class Word:
    surface: str
    lemma: str  # Sudachi's normalised form, lower-cased for ASCII
    reading: str  # katakana
    pos: str  # 名詞, 動詞, 助動詞, ...


@functools.cache
def _tokenizer():  # type: ignore[no-untyped-def]
    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


def words(text: str) -> tuple[Word, ...]:
    """The words of a (normalised) message; cached, the same message is often analysed twice."""
    # Lone surrogates (broken emoji from some clients) cannot be analysed; they carry no words.
    clean = text[:500].encode("utf-8", "ignore").decode("utf-8")
    return _words(clean)


@functools.lru_cache(maxsize=2048)
def _words(text: str) -> tuple[Word, ...]:
    with _LOCK:
        morphemes = _tokenizer().tokenize(text)
        return tuple(
            Word(m.surface(), m.normalized_form().lower(), m.reading_form(), m.part_of_speech()[0])
            for m in morphemes
        )


def reading(text: str) -> str:
    return "".join(w.reading for w in words(text))
