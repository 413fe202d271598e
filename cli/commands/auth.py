"""``jsc login`` and ``jsc logout``: the session whose tokens the other commands use."""

from __future__ import annotations

import typer

from cli import config
from cli.client import LOGIN_HINT, Api, CliError
from cli.config import ConfigError, Credentials
from cli.output import emit_json, handled, say


def _load() -> Credentials:
    try:
        return config.load()
    except ConfigError as exc:
        raise CliError(str(exc)) from None


@handled
def login(
    url: str | None = typer.Option(
        None,
        "--url",
        help="The console's API, e.g. "
        "http://127.0.0.1:8000 (default: JSC_API_URL, else the last "
        "one signed in to).",
    ),
    email: str | None = typer.Option(
        None, "--email", "-e", help="Your email (prompted when missing)."
    ),
    password: str | None = typer.Option(
        None,
        "--password",
        "-p",
        envvar="JSC_PASSWORD",
        show_envvar=False,
        help="Your password (prompted, hidden, when missing; or JSC_PASSWORD).",
    ),
    code: str | None = typer.Option(
        None,
        "--code",
        help="The 6-digit code of your "
        "authenticator app, when the account uses MFA (prompted "
        "when needed).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print who you are signed in as, as JSON."),
) -> None:
    """Sign in to the console's API.

    The session is kept in $JSC_CONFIG, or ~/.config/jsc/credentials.json (mode 0600)."""
    stored = _load()
    target = config.normalize_url(url) if url else config.api_url(stored)
    if not email:
        same = config.normalize_url(stored.url or "") == target
        email = typer.prompt("Email", default=stored.email if same and stored.email else None)
    if password is None:
        password = typer.prompt("Password", hide_input=True)
    api = Api(target, creds=Credentials(url=target))
    with api:
        try:
            api.login(email.strip(), password, code)
        except CliError as error:
            if error.body.get("mfa_required") and not code:
                api.login(email.strip(), password, typer.prompt("MFA code"))
            else:
                if error.hint == LOGIN_HINT:  # this is the login
                    error.hint = None
                raise
        me = api.get("/auth/me")
    if as_json:
        emit_json({"url": target, "user": me})
        return
    org = (me.get("organization") or {}).get("name")
    say(
        f"Signed in to {target} as {me.get('email', email)} "
        f"(role {me.get('role')}{f', organization {org}' if org else ''})."
    )
    say(f"Credentials saved in {config.config_path()}.")


@handled
def logout() -> None:
    """End the session on the API and forget its tokens."""
    stored = _load()
    if not stored.signed_in:
        say("Not signed in; nothing to do.")
        return
    note = ""
    try:
        with Api(stored.url, creds=stored) as api:
            api.post("/auth/logout", {"refresh_token": stored.refresh_token})
    except CliError as error:  # still forget the tokens; say why the server did not end it
        note = f" (the API did not confirm: {error.message})"
    stored = _load()  # a refresh during logout may have rotated them
    stored.access_token = stored.refresh_token = stored.expires_at = None
    try:
        config.save(stored)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    say(f"Signed out of {stored.url}{note}.")
    if config.api_key():
        say("JSC_API_KEY is still set: commands keep using that key.")
