"""Whether a reply header in a mail's body opens a forward rather than a quote: a mail
the customer forwards inline ("---------- Forwarded message ---------", "Begin forwarded
message:", or an "Original Message" / Outlook header block in a mail whose subject says
"Fwd:") is something they want us to read, so ``reply_text`` keeps it after their note
instead of dropping it as history. Pure functions of text.
"""

from __future__ import annotations

import re

# Words that only ever introduce a forward: "---------- Forwarded message ---------",
# "-------- Message transféré --------", "----- Weitergeleitete Nachricht -----".
FORWARD_WORDS = re.compile(
    r"forwarded message|forwarded e-?mail|message transféré|weitergeleitete nachricht"
    r"|mensaje reenviado|mensagem encaminhada|messaggio inoltrato|doorgestuurd bericht"
    r"|vidarebefordrat meddelande|videresendt (?:besked|meddelelse)|przekazana wiadomość"
    r"|přeposlaná zpráva|továbbított üzenet|пересылаемое сообщение|転送メッセージ|转发的邮件",
    re.IGNORECASE,
)
# A separator line: words between rules of dashes or equals signs.
SEPARATOR = re.compile(r"^\s*[-=]{3,}\s*(?P<words>[^-=\s].*?)\s*[-=]{3,}\s*$")
# Apple Mail's introduction, in the languages it writes it.
FORWARD_INTRO = re.compile(
    r"^(?:Begin forwarded message|Anfang der weitergeleiteten (?:E-Mail|Nachricht)"
    r"|Début du message réexpédié|Inicio del mensaje reenviado|Início da mensagem reencaminhada"
    r"|Inizio messaggio inoltrato|Doorgestuurd bericht begint|Vidarebefordrat brev)\s*[:\uff1a]$",
    re.IGNORECASE,
)
# A subject whose first prefix says the mail is a forward: "Fwd:", "FW:", "WG:" (German),
# "TR:" (French), "RV:" (Spanish), "ENC:" (Portuguese), "I:" (Italian), "Doorst:" (Dutch),
# "VB:" (Swedish), "VS:" (Finnish), "PD:" (Polish), "Пересл:" (Russian), "转发:" (Chinese).
_FORWARD_SUBJECT = re.compile(
    r"^\s*(?:fwd?|wg|tr|rv|enc|i|doorst|vb|vs|pd|пересл|转发|轉寄)\s*(?:\[\d+\])?\s*[:\uff1a]",
    re.IGNORECASE,
)


def forward_marker(line: str) -> bool:
    """Whether ``line`` introduces a forwarded mail whatever the subject says."""
    text = line.strip()
    if FORWARD_INTRO.match(text):
        return True
    match = SEPARATOR.match(text)
    return match is not None and bool(FORWARD_WORDS.search(match.group("words")))


def forward_subject(subject: str | None) -> bool:
    """Whether the mail's subject starts with a forward's prefix (its first prefix only:
    "Re: Fwd: order" is a reply to a forward)."""
    return bool(subject and _FORWARD_SUBJECT.match(subject))


def opens_forward(line: str, *, is_attribution: bool, forwarding: bool) -> bool:
    """Whether a reply header starting at ``line`` opens a forwarded mail: a marker only
    forwards use, or, in a mail whose subject says it is a forward, any header block but an
    "On ... wrote:" line (which only ever introduces a quote)."""
    return forward_marker(line) or (forwarding and not is_attribution)
