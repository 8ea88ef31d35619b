"""Tokens of the test-grade whisper model: English words (with whisper's leading space),
punctuation, and single Chinese characters. whisper.cpp concatenates the tokens' bytes, so a
transcript decodes to the sentence exactly."""

import re

BLANK = "[BLANK_AUDIO]"  # the text of noise and silence: Hark's guard drops bracketed-only text
_EN = re.compile(r"[A-Za-z0-9']+|[.,?!]")


def split(lang, text):
    if text == BLANK:
        return [" " + BLANK]
    if lang == "zh":
        return [c for c in text if not c.isspace()]
    return [w if w in ".,?!" else " " + w for w in _EN.findall(text)]


def join(toks):
    return "".join(toks).strip()
