"""Bytes of a mail body or header word to text, whatever charset label the sender's
client put on them.

Labels in real mail are often too narrow or plainly wrong: Chinese clients label GBK
text ``gb2312``, Korean ones ``ks_c_5601-1987`` for what is Windows code page 949,
webmail sends UTF-8 labelled ``iso-8859-1`` or ``us-ascii``. Like browsers and mail
clients (WHATWG Encoding), we read a label as the superset its senders really use, and
bytes that are valid UTF-8 as UTF-8 whatever their label, since non-ASCII text in any
other charset is practically never valid UTF-8 by chance.
"""

from __future__ import annotations

import codecs
from email.header import decode_header

# What each narrow label is read as: the superset its senders actually write.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "cp950",
    "x-big5": "cp950",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
}
# Encodings whose bytes are not ASCII-compatible, where "try UTF-8 first" would be wrong.
_NOT_ASCII_BASED = ("utf-16", "utf-32", "utf_16", "utf_32")
# After these a body always decodes: latin-1 maps every byte.
_LAST_RESORTS = ("cp1252", "latin-1")


def read_as(charset: str | None) -> str | None:
    """The codec a charset label is read with (None for no label or an unknown one)."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower()
    label = _SUPERSETS.get(label, label)
    try:
        codecs.lookup(label)
    except LookupError:
        return None
    return label


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` as text: strict UTF-8 when the bytes are UTF-8, else the label's
    superset, else Windows-1252, else Latin-1 (which never fails)."""
    codec = read_as(charset)
    candidates: list[str] = []
    if data.isascii():
        # Plain ASCII is itself in nearly every charset; 7-bit encodings such as
        # ISO-2022-JP and UTF-7 still need their own codec.
        candidates = [codec or "ascii", "ascii"]
    elif codec and codec.startswith(_NOT_ASCII_BASED):
        candidates = [codec]
    else:
        candidates = ["utf-8", *([codec] if codec else [])]
    for candidate in (*candidates, *_LAST_RESORTS):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1", "replace")  # unreachable: latin-1 decodes any byte


def decode_words(value: str, raw_charset: str | None = None) -> str:
    """A raw header value with its RFC 2047 encoded words (``=?charset?B?...?=``)
    decoded by ``decode_bytes``, so a wrong or narrow label on a word is read as the
    sender meant it. 8-bit bytes outside encoded words (kept by the parser as
    surrogates) are read the same way, in ``raw_charset`` when the mail names one for
    its body (mail clients read unlabelled header bytes in the body's charset)."""
    if any("\udc80" <= c <= "\udcff" for c in value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"), raw_charset)
    if "=?" not in value:
        return value
    try:
        pieces = decode_header(value)
    except Exception:  # a malformed word: keep the text as it came
        return value
    out: list[str] = []
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            # decode_header hands unencoded runs back as raw-unicode-escape bytes.
            out.append(chunk.decode("raw-unicode-escape", "replace"))
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)
