"""intent_p95_ms: understanding one message (handlers/understanding), no database.

Measured over every message of the battery (tests/battery_cases.py), each analysed afresh in
every round (the analyser's per-message cache is emptied), after the analyser is built once.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from handlers.text import normalize
from handlers.understanding import analyser
from handlers.understanding.intent import understand
from tests.battery_cases import messages

GOAL_MS = 5.0


def run(rounds: int = 20) -> dict[str, Any]:
    texts = [normalize(m) for m in messages()]
    understand(texts[0])  # the dictionary loads once per process, not per message
    samples: list[float] = []
    for _ in range(rounds):
        analyser._words.cache_clear()
        for text in texts:
            t0 = time.perf_counter()
            understand(text)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "intent_p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "details": {
            "intent_messages": len(texts),
            "intent_rounds": rounds,
            "intent_median_ms": round(statistics.median(samples), 3),
            "intent_max_ms": round(samples[-1], 3),
        },
    }
