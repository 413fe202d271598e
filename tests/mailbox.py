"""A real local mail server for tests: aiosmtpd on 127.0.0.1, in a thread, keeping every message
it receives. The test stack sends its mail here (``JSC_SMTP_HOST``/``JSC_SMTP_PORT``, see
tests/conftest.py), so a test reads the mail a person would get."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from stack.ports import free_port


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_content()


class Mailbox:
    """Start with ``start()``; ``host``/``port`` to send to; ``wait_for(address)`` the mail."""

    def __init__(self) -> None:
        self._mails: list[Mail] = []
        self._lock = threading.Lock()
        self.host, self.port = "127.0.0.1", free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._mails.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Mail]:
        """Every mail received so far for ``address``, oldest first."""
        with self._lock:
            return [m for m in self._mails if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> Mail:
        """The ``count``-th mail for ``address``, waited for until ``timeout``."""
        deadline = time.monotonic() + timeout
        while len(mails := self.to(address)) < count:
            assert time.monotonic() < deadline, f"no mail #{count} for {address} in {timeout} s"
            time.sleep(0.1)
        return mails[count - 1]
