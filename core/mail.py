"""Outgoing mail (invitations, password reset links), sent only when a mail server is configured
(``JSC_SMTP_HOST``)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from core.settings import Settings

log = logging.getLogger(__name__)


def _send(settings: Settings, to: str, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(text)
    host = settings.smtp_host
    if not host:  # the callers check first
        raise smtplib.SMTPException("no mail server is configured")
    with smtplib.SMTP(host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


async def send_invitation(
    settings: Settings, *, to: str, organization: str, role: str, token: str
) -> bool:
    """Mail the invitation; False when no mail server is configured or it refused."""
    if not settings.smtp_host:
        return False
    where = (
        f"{settings.public_url.rstrip('/')}/?invitation={token}"
        if settings.public_url
        else (f"POST {settings.api_url}/api/v1/auth/register with this token and a password")
    )
    text = (
        f"You are invited to join {organization} on JetStream Console as {role}.\n\n"
        f"Accept: {where}\n\nInvitation token: {token}\n"
    )
    try:
        await asyncio.to_thread(
            _send, settings, to, f"Join {organization} on JetStream Console", text
        )
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not mail the invitation to %s: %s", to, exc)
        return False


def reset_link(settings: Settings, token: str) -> str:
    """Where the mail sends the reader: the UI's page for a new password (``JSC_PUBLIC_URL``), or
    the API call to make when the console has no public address."""
    if settings.public_url:
        return f"{settings.public_url.rstrip('/')}/?reset={token}"
    return f"POST {settings.api_url}/api/v1/auth/reset-password with this token and a new password"


async def send_password_reset(settings: Settings, *, to: str, token: str) -> bool:
    """Mail a password reset link; False when no mail server is configured or it refused."""
    if not settings.smtp_host:
        return False
    minutes = max(1, settings.password_reset_ttl_s // 60)
    text = (
        f"Someone (you, we hope) asked to reset the password of {to} on JetStream Console.\n\n"
        f"Choose a new password: {reset_link(settings, token)}\n\n"
        f"Reset token: {token}\n\n"
        f"The link works once, within {minutes} minute(s). Resetting signs you out everywhere. "
        "If you did not ask, ignore this mail: your password stays as it is.\n"
    )
    try:
        await asyncio.to_thread(_send, settings, to, "Reset your JetStream Console password", text)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not mail the password reset link to %s: %s", to, exc)
        return False
