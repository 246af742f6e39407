"""X validation of pathological post texts: time at 1k, 5k and 10k characters.

twitter-text's URL regex took 4.4 s on `"a." * 1000` and minutes beyond; the counter
in connectors/x_text.py is linear, so the 10k/1k ratio should stay near 10.
"""

from __future__ import annotations

import time
from dataclasses import replace

from connectors.base import PublishRequest
from connectors.x import XConnector

SIZES = (1_000, 5_000, 10_000)
SHAPES = {
    "a. runs": "a.",
    "@ runs": "@a",
    "# runs": "#a",
    "domain-like runs": "ab-cd.",
    "http:// repeated": "http://",
    "path parentheses": "http://a.com/(((",
    "mixed": "a.b http://x.co/(a)?b=1 @c #d 日本.com ",
}


def seconds_to_validate(text: str, repeats: int = 3) -> float:
    request = replace(PublishRequest(delivery_id="bench", post_id="bench", text=text))
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        XConnector.validate(request)
        timings.append(time.perf_counter() - began)
    return min(timings)


def run() -> dict[str, dict[int, float]]:
    """Seconds per shape and size (the best of three runs)."""
    seconds_to_validate("warm up the character-class caches example.com")
    return {
        shape: {size: seconds_to_validate((unit * size)[:size]) for size in SIZES}
        for shape, unit in SHAPES.items()
    }
