"""Real protocol peers on loopback for the email tests: an SMTP server (aiosmtpd) that
catches what the service sends, and a small IMAP4rev1 server that speaks the subset a
mailbox poller uses (LOGIN, SELECT, UID SEARCH, UID FETCH, UID STORE, LOGOUT) over TCP,
with the RFC 3501 semantics that matter: RFC822 and BODY[] set \\Seen, BODY.PEEK[]
does not."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

# -- SMTP --------------------------------------------------------------------------------------


@dataclass
class Caught:
    """One mail the SMTP peer accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(msg, EmailMessage)
        return msg


class SmtpPeer:
    """An outbound relay stand-in. Set ``rcpt_reply``/``data_reply`` to an SMTP reply line
    (e.g. "451 4.3.0 try later") to refuse the next mails that way."""

    def __init__(self) -> None:
        self.caught: list[Caught] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="relay.test", ident="test relay", loop=loop),
            "127.0.0.1",
            0,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        assert envelope.original_content is not None
        self.caught.append(
            Caught(envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content)
        )
        self._arrived.set()
        return "250 2.0.0 Ok: queued"

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Caught]:
        """Wait (bounded) until ``count`` mails have arrived."""
        async with asyncio.timeout(timeout):
            while len(self.caught) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.caught


# -- IMAP --------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)

    @property
    def seen(self) -> bool:
        return "\\Seen" in self.flags


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|\(([^)]*)\)|(\S+)')


def _tokens(text: str) -> list[str]:
    out = []
    for quoted, group, atom in _TOKEN.findall(text):
        if quoted or (not group and not atom):
            out.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            out.append(group or atom)
    return out


class ImapPeer:
    """One mailbox, one user, one folder."""

    def __init__(self, user: str, password: str, folder: str = "INBOX") -> None:
        self.user = user
        self.password = password
        self.folder = folder
        self.mails: list[Mailbox] = []
        self.commands: list[str] = []
        self.logins = 0
        self._next_uid = 101
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def add(self, raw: bytes, *, seen: bool = False) -> int:
        uid = self._next_uid
        self._next_uid += 1
        self.mails.append(Mailbox(uid, raw, {"\\Seen"} if seen else set()))
        return uid

    def mail(self, uid: int) -> Mailbox:
        return next(m for m in self.mails if m.uid == uid)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        state: dict[str, Any] = {"auth": False, "selected": False}
        try:
            writer.write(b"* OK [CAPABILITY IMAP4rev1] test IMAP peer ready\r\n")
            await writer.drain()
            while line := await reader.readline():
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                self.commands.append(text)
                tag, _, rest = text.partition(" ")
                name, _, args = rest.partition(" ")
                reply = self._command(tag, name.upper(), args, state)
                writer.write(reply)
                await writer.drain()
                if name.upper() == "LOGOUT":
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _command(self, tag: str, name: str, args: str, state: dict[str, Any]) -> bytes:
        ok = f"{tag} OK {name} completed\r\n".encode()
        if name == "CAPABILITY":
            return b"* CAPABILITY IMAP4rev1 UIDPLUS\r\n" + ok
        if name == "NOOP":
            return ok
        if name == "LOGOUT":
            return b"* BYE logging out\r\n" + ok
        if name == "LOGIN":
            user, password = [*_tokens(args), "", ""][:2]
            if (user, password) != (self.user, self.password):
                return f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials\r\n".encode()
            state["auth"] = True
            self.logins += 1
            return ok
        if not state["auth"]:
            return f"{tag} BAD not authenticated\r\n".encode()
        if name == "SELECT":
            folder = _tokens(args)[0] if args else ""
            if folder.upper() != self.folder.upper():
                return f"{tag} NO no such mailbox\r\n".encode()
            state["selected"] = True
            return (
                f"* {len(self.mails)} EXISTS\r\n* 0 RECENT\r\n"
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                f"* OK [UIDVALIDITY 7] UIDs valid\r\n* OK [UIDNEXT {self._next_uid}] next\r\n"
                f"{tag} OK [READ-WRITE] SELECT completed\r\n"
            ).encode()
        if not state["selected"]:
            return f"{tag} BAD no mailbox selected\r\n".encode()
        if name == "UID":
            sub, _, rest = args.partition(" ")
            return self._uid(tag, sub.upper(), rest)
        return f"{tag} BAD unknown command {name}\r\n".encode()

    def _uid(self, tag: str, sub: str, args: str) -> bytes:
        tokens = _tokens(args)
        if sub == "SEARCH":
            criteria = [t.upper() for t in tokens]
            if criteria[:1] == ["CHARSET"]:
                criteria = criteria[2:]
            if criteria == ["UNSEEN"]:
                hits = [m.uid for m in self.mails if not m.seen]
            elif criteria == ["ALL"]:
                hits = [m.uid for m in self.mails]
            else:
                return f"{tag} BAD unsupported search {args}\r\n".encode()
            found = "".join(f" {uid}" for uid in hits)
            return f"* SEARCH{found}\r\n{tag} OK SEARCH completed\r\n".encode()
        if sub == "FETCH":
            wanted, items = tokens[0], tokens[1].upper().split()
            out = b""
            for seq, mail in enumerate(self.mails, start=1):
                if not self._in_set(mail.uid, wanted):
                    continue
                parts = [f"UID {mail.uid}".encode()]
                literal: bytes | None = None
                for item in items:
                    if item == "RFC822.SIZE":
                        parts.append(f"RFC822.SIZE {len(mail.raw)}".encode())
                    elif item == "FLAGS":
                        parts.append(f"FLAGS ({' '.join(sorted(mail.flags))})".encode())
                    elif item in ("RFC822", "BODY[]", "BODY.PEEK[]"):
                        if item != "BODY.PEEK[]":
                            mail.flags.add("\\Seen")
                        label = "RFC822" if item == "RFC822" else "BODY[]"
                        literal = f"{label} {{{len(mail.raw)}}}".encode()
                    elif item != "UID":
                        return f"{tag} BAD unsupported fetch item {item}\r\n".encode()
                head = b"* %d FETCH (" % seq + b" ".join(parts)
                if literal is not None:
                    out += head + b" " + literal + b"\r\n" + mail.raw + b")\r\n"
                else:
                    out += head + b")\r\n"
            return out + f"{tag} OK FETCH completed\r\n".encode()
        if sub == "STORE":
            wanted, mode, flags = tokens[0], tokens[1].upper(), tokens[2].split()
            out = b""
            for seq, mail in enumerate(self.mails, start=1):
                if not self._in_set(mail.uid, wanted):
                    continue
                if mode.startswith("+FLAGS"):
                    mail.flags.update(flags)
                elif mode.startswith("-FLAGS"):
                    mail.flags.difference_update(flags)
                else:
                    mail.flags = set(flags)
                if not mode.endswith(".SILENT"):
                    flags_now = " ".join(sorted(mail.flags))
                    out += f"* {seq} FETCH (UID {mail.uid} FLAGS ({flags_now}))\r\n".encode()
            return out + f"{tag} OK STORE completed\r\n".encode()
        return f"{tag} BAD unsupported UID command {sub}\r\n".encode()

    def _in_set(self, uid: int, wanted: str) -> bool:
        for piece in wanted.split(","):
            low, _, high = piece.partition(":")
            top = max((m.uid for m in self.mails), default=0)
            start = top if low == "*" else int(low)
            end = start if not high else (top if high == "*" else int(high))
            if min(start, end) <= uid <= max(start, end):
                return True
        return False
