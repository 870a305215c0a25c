"""What a stranger's input must become before anything of ours keeps or reads it.

Every edge that takes outside text (channel payloads, API bodies, web chat and live
socket frames, query strings) goes through here, so the store and the tokenizer only
ever see text they accept: no NUL (PostgreSQL refuses it in text and jsonb), no lone
surrogate (it cannot be encoded as UTF-8, so the tokenizer and the database fail on it),
no other C0 control but tab and line breaks. JSON is read with a bound on nesting, so a
deep document is refused instead of exhausting the recursion limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any payload we take (Slack blocks nest about six levels).
MAX_JSON_DEPTH = 32
REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UntrustedInput(ValueError):
    """Input refused; ``reason`` says why in words fit for the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_text(value: str) -> str:
    """``value`` as text every store and the tokenizer accept: lone surrogates become
    U+FFFD, NUL and other control characters but tab, CR and LF are dropped."""
    if value.isascii() and value.isprintable():
        return value  # the common case, and fast
    value = _SURROGATE.sub(REPLACEMENT, value)
    return _CONTROL.sub("", value)


def is_clean(value: str) -> bool:
    return clean_text(value) == value


def clean_tree(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, scalars) with every string, keys
    included, made clean."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    return value


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def loads(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from a stranger: malformed, too deep or undecodable input raises
    ``UntrustedInput``; strings come back clean."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise UntrustedInput(f"JSON nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise UntrustedInput("not valid JSON") from None
    if depth(value) > max_depth:
        raise UntrustedInput(f"JSON nested deeper than {max_depth} levels")
    return clean_tree(value)
