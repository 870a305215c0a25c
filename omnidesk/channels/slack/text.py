"""What a person wrote in Slack, as plain text: read from the message's rich-text blocks
when it has them (they carry lists, quotes, code and mentions as structure), else from its
mrkdwn ``text``, else from legacy attachments (a shared message). Mentions become names
(``@Alice Doe``; an unknown person stays a readable ``@U…``), links their label and
address, emphasis markers go, code keeps its backticks. Pure functions, no I/O: the
caller looks the mentioned people up first (``mentioned_users``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

_ENTITY = re.compile(r"<([^<>\n]+)>")
_LEADING_PUNCTUATION = re.compile(r"^[\s,:;]+")
# Where a mention of the bot was: removed, and the gap it leaves closed.
_REMOVED = "\x00"
_CODE = re.compile(r"(```.*?```|`[^`\n]+`)", re.DOTALL)
_BROADCASTS = ("here", "channel", "everyone")
_NO_NAMES: Mapping[str, str] = MappingProxyType({})


def _emphasis(marker: str) -> re.Pattern[str]:
    # Slack's rule: a marker opens after a non-alphanumeric and before a non-space, and
    # closes before a non-alphanumeric, within one line, so snake_case and 2*3*4 stay.
    m = re.escape(marker)
    return re.compile(rf"(?<![A-Za-z0-9{m}]){m}(?=\S)([^\n]*?\S){m}(?![A-Za-z0-9{m}])")


_EMPHASIS = tuple(_emphasis(m) for m in "*_~")


def mentioned_users(event: Mapping[str, Any]) -> set[str]:
    """Ids of people mentioned without a name: their names must be looked up."""
    found = {
        target[1:]
        for target, _, label in (
            m.group(1).partition("|") for m in _ENTITY.finditer(str(event.get("text") or ""))
        )
        if target.startswith("@") and not label
    }
    for element in _inline_elements(event.get("blocks")):
        if element.get("type") == "user" and element.get("user_id"):
            found.add(str(element["user_id"]))
    return found


def message_text(
    event: Mapping[str, Any], bot_user_id: str | None = None, names: Mapping[str, str] = _NO_NAMES
) -> str:
    """The text of a message event (or of the ``message`` inside a ``message_changed``)."""
    labels = {**_labels(str(event.get("text") or "")), **names}
    blocks = [b for b in event.get("blocks") or () if isinstance(b, dict)]
    rich = [b for b in blocks if b.get("type") == "rich_text"]
    if rich:
        text = "\n".join(_rich_text(b, bot_user_id, labels) for b in rich)
    else:
        text = plain_text(str(event.get("text") or ""), bot_user_id, labels, clean=False)
    if not _clean(text):
        text = _attachments_text(event.get("attachments"), bot_user_id, labels)
    return _clean(text)


def plain_text(
    text: str,
    bot_user_id: str | None = None,
    names: Mapping[str, str] = _NO_NAMES,
    *,
    clean: bool = True,
) -> str:
    """Slack mrkdwn as plain text: mentions of the bot removed, other mentions, channels
    and links readable, emphasis markers dropped, HTML entities unescaped."""

    def entity(match: re.Match[str]) -> str:
        return _entity(match.group(1), bot_user_id, names)

    pieces = _CODE.split(text.replace(_REMOVED, ""))
    converted = "".join(
        piece if i % 2 else _unstyle(_ENTITY.sub(entity, piece)) for i, piece in enumerate(pieces)
    )
    converted = html.unescape(converted) if "&" in converted else converted
    return _clean(converted) if clean else converted


def _entity(inner: str, bot_user_id: str | None, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        if target[1:] == bot_user_id:
            return _REMOVED
        return f"@{(label or names.get(target[1:]) or target[1:]).lstrip('@')}"
    if target.startswith("#"):
        return f"#{label or names.get(target[1:]) or target[1:]}"
    if target.startswith("!"):
        if label:
            return label
        word = target[1:].split("^")[0]
        return f"@{word}" if word in _BROADCASTS else ""
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return f"{label} ({target})" if label and label != target else target


def _unstyle(text: str) -> str:
    # Nested emphasis (~_*x*_~) peels one layer per round.
    for _ in range(3):
        before = text
        for pattern in _EMPHASIS:
            text = pattern.sub(r"\1", text)
        if text == before:
            break
    return text


def _clean(text: str) -> str:
    # The gap a removed mention leaves becomes one space; the rest keeps its spacing.
    text = re.sub(rf"[ \t]*{_REMOVED}[ \t]*", " ", text)
    return _LEADING_PUNCTUATION.sub("", text).strip()


def _labels(text: str) -> dict[str, str]:
    """Names Slack put in the mrkdwn itself (``<#C123|general>``), for the blocks."""
    found = {}
    for match in _ENTITY.finditer(text):
        target, _, label = match.group(1).partition("|")
        if label and target[:1] in ("@", "#"):
            found[target[1:]] = label.lstrip("@#")
    return found


def _rich_text(block: Mapping[str, Any], bot: str | None, names: Mapping[str, str]) -> str:
    parts: list[str] = []
    for element in block.get("elements") or ():
        kind = element.get("type")
        if kind == "rich_text_list":
            parts.append(_list(element, bot, names))
        elif kind == "rich_text_quote":
            quoted = _inline(element.get("elements"), bot, names).strip("\n")
            parts.append("\n".join(f"> {line}" for line in quoted.split("\n")))
        elif kind == "rich_text_preformatted":
            code = "".join(str(e.get("text") or "") for e in element.get("elements") or ())
            parts.append(f"```\n{code.strip(chr(10))}\n```")
        else:
            parts.append(_inline(element.get("elements"), bot, names))
    text = ""
    for part in parts:
        if text and not text.endswith("\n"):
            text += "\n"
        text += part
    return text


def _list(element: Mapping[str, Any], bot: str | None, names: Mapping[str, str]) -> str:
    indent = "  " * int(element.get("indent") or 0)
    start = int(element.get("offset") or 0)
    lines = []
    for i, item in enumerate(element.get("elements") or ()):
        mark = f"{start + i + 1}." if element.get("style") == "ordered" else "-"
        lines.append(f"{indent}{mark} {_inline(item.get('elements'), bot, names).strip()}")
    return "\n".join(lines)


def _inline(elements: Any, bot: str | None, names: Mapping[str, str]) -> str:
    return "".join(_piece(e, bot, names) for e in elements or () if isinstance(e, dict))


def _piece(element: Mapping[str, Any], bot: str | None, names: Mapping[str, str]) -> str:
    kind = element.get("type")
    if kind == "text":
        text = str(element.get("text") or "")
        return f"`{text}`" if (element.get("style") or {}).get("code") else text
    if kind == "link":
        url, label = str(element.get("url") or ""), str(element.get("text") or "")
        if url.startswith("mailto:"):
            return label or url.removeprefix("mailto:")
        return f"{label} ({url})" if label and label != url else url
    if kind == "user":
        uid = str(element.get("user_id") or "")
        return _REMOVED if uid == bot else f"@{names.get(uid) or uid}"
    if kind == "channel":
        cid = str(element.get("channel_id") or "")
        return f"#{names.get(cid) or cid}"
    if kind == "usergroup":
        return f"@{names.get(str(element.get('usergroup_id'))) or element.get('usergroup_id')}"
    if kind == "broadcast":
        return f"@{element.get('range') or 'here'}"
    if kind == "emoji":
        return _emoji(element)
    return str(element.get("fallback") or element.get("text") or element.get("value") or "")


def _emoji(element: Mapping[str, Any]) -> str:
    try:
        return "".join(chr(int(code, 16)) for code in str(element["unicode"]).split("-"))
    except (KeyError, ValueError, OverflowError):
        return f":{element.get('name') or ''}:"


def _attachments_text(attachments: Any, bot: str | None, names: Mapping[str, str]) -> str:
    """Legacy attachments of a message with no text of its own: a shared message or a
    post made of attachments only."""
    lines: list[str] = []
    for attachment in attachments or ():
        if not isinstance(attachment, dict):
            continue
        body = attachment.get("text") or attachment.get("fallback")
        for part in (attachment.get("pretext"), attachment.get("title"), body):
            if part:
                lines.append(plain_text(str(part), bot, names))
    return "\n".join(line for line in lines if line)


def _inline_elements(blocks: Any) -> Iterable[Mapping[str, Any]]:
    for block in blocks or ():
        if not isinstance(block, dict) or block.get("type") != "rich_text":
            continue
        for element in block.get("elements") or ():
            children = element.get("elements") or ()
            if element.get("type") == "rich_text_list":
                children = [e for item in children for e in item.get("elements") or ()]
            yield from (c for c in children if isinstance(c, dict))
