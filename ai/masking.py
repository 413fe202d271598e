"""Masking: values that look like secrets never reach the model (DESIGN rule 7).

Whatever a tool read from the systems (message payloads and headers, configurations, descriptions,
audit records) goes through :func:`mask_value` before it is sent. Pure functions, no I/O.

Replaced, with a placeholder that says what was there:

- private key PEM blocks (also cut off ones) ``[private key]``; NATS creds blocks and nkey seeds
  (``SU…``/``SA…``/``SO…``, 58 characters) ``[nats credentials]`` / ``[nkey seed]``;
- JWTs (``eyJ…`` three parts) ``[jwt]``; ``Bearer``/``Basic`` credentials ``Bearer [token]``;
- API keys: Anthropic / OpenAI ``sk-…``, the console's own ``jsc_<prefix>_…`` (its public prefix
  kept), AWS ``AKIA…``/``ASIA…``, GitHub ``ghp_…``/``github_pat_…``, Slack ``xox[abpr]-…``,
  Google ``AIza…``, Stripe ``sk_live_…`` -> ``[api key]``;
- the value of a key named like a secret (``password``, ``secret``, ``token``, ``api_key``,
  ``authorization``, ``credentials``, ``private_key``, …) in ``key=value``, ``key: value`` and JSON
  text, and in dictionaries ``[masked]``; a password in a URL (``nats://user:[masked]@host``);
- e-mail addresses ``[email]``; card numbers (13-19 digits, spaces or dashes allowed, Luhn-valid,
  an issuer's first digit) ``[card ****1234]``;
- long high-entropy strings (hex, base64, base64url; 32 characters or more) ``[secret]``.

Kept: ordinary text and numbers, UUIDs (cluster ids must stay readable), public nkeys (server,
account and user ids), subjects, stream and consumer names, paths, identifiers made of words; a
commit id under a key such as ``commit``/``sha``/``revision`` or after the word "commit".

:func:`truncate_payload` turns a message body into text for the model: UTF-8 text, or base64 of
binary, cut at a character boundary.
"""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from typing import Any

MASKED = "[masked]"

# -- kept as they are ----------------------------------------------------------------------------
_UUID = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{12}(?![0-9A-Za-z])"
)
# public nkeys: N (server), A (account), U (user), O (operator), C (cluster), X (curve): 56 chars
_PUBLIC_NKEY = re.compile(r"(?<![0-9A-Za-z])[NAUOCX][A-Z2-7]{55}(?![0-9A-Za-z])")
_PROTECT_OPEN, _PROTECT_CLOSE = "\ue000", "\ue001"
_PROTECTED = re.compile(f"{_PROTECT_OPEN}(\\d+){_PROTECT_CLOSE}")

# -- blocks --------------------------------------------------------------------------------------
_PEM = re.compile(r"-{5,}BEGIN (?P<label>[A-Z0-9 ]+?)-{5,}.*?(?:-{5,}END (?P=label)-{5,}|\Z)", re.S)

# -- key = value ---------------------------------------------------------------------------------
_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|"
    r"secret[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key|"
    r"authorization|credentials?|creds|cookie"
)
_KEY_VALUE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<key>(?P<kq>\\?[\"'])?[A-Za-z0-9_.-]*?(?:{_SECRET_WORDS})(?P=kq)?)"
    r"(?![A-Za-z0-9])(?P<sep>\s*[:=]\s*)"
    r"(?:(?P<q>\\?[\"'])(?P<quoted>(?:(?!(?P=q)).)+?)(?P=q)"
    r"|(?P<bare>(?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s,;&\"'<>{}\[\]()]+))",
    re.I,
)
_SECRET_KEY_NAME = re.compile(
    rf"(?:^|_)(?:{_SECRET_WORDS.replace('[_-]?', '_?')}|jwt|"
    r"nkey_seed)$",
    re.I,
)
_KEEP_BARE = {"null", "none", "true", "false", "undefined", "", "***", "*****", "redacted"}

# -- tokens --------------------------------------------------------------------------------------
_URL_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s/:@\[\]]+)"
    r"(?::(?P<password>[^\s/@]*))?@"
)
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(
    r"\b(?P<scheme>[Bb]earer|BEARER|Basic|BASIC)\s+"
    r"(?P<token>(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,})"
)
_API_KEYS = [
    (re.compile(r"(?<![A-Za-z0-9_-])sk-(?:ant-)?[A-Za-z0-9_-]{16,}"), "[api key]"),
    (
        re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>jsc_[0-9a-f]{8})_[A-Za-z0-9_-]{16,}"),
        r"\g<prefix>_[api key]",
    ),
    (re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"), "[api key]"),
    (re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{30,}"), "[api key]"),
    (re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}"), "[api key]"),
    (re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}"), "[api key]"),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"), "[api key]"),
    (re.compile(r"(?<![A-Za-z0-9])[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"), "[api key]"),
]
_NKEY_SEED = re.compile(r"(?<![A-Za-z0-9])S[UANOCXP][A-Z2-7]{56}(?![A-Za-z0-9])")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
_CARD = re.compile(r"(?<![0-9.])[2-6](?:[ -]?[0-9]){12,18}(?![0-9]|\.[0-9])")
_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_=-])")
_HEX = re.compile(r"[0-9a-fA-F]+")
_COMMIT_BEFORE = re.compile(r"(?:commit|sha|sha1|revision|rev|ref)[\s:=#\"'@]{1,3}$", re.I)
_IDENTIFIER_PART = re.compile(r"[A-Za-z]+|[0-9]+|[A-Za-z0-9]{1,3}")


def mask_text(text: str, *, entropy: bool = True) -> str:
    """``text`` with whatever looks like a secret replaced (see the module's docstring).
    ``entropy=False`` keeps long random-looking strings (a value known to be a digest or an id)."""
    if not text:
        return text
    kept: list[str] = []

    def protect(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"{_PROTECT_OPEN}{len(kept) - 1}{_PROTECT_CLOSE}"

    out = _PEM.sub(_pem, text)
    out = _UUID.sub(protect, out)
    out = _PUBLIC_NKEY.sub(protect, out)
    out = _KEY_VALUE.sub(_key_value, out)
    out = _URL_USERINFO.sub(_userinfo, out)
    out = _JWT.sub("[jwt]", out)
    out = _BEARER.sub(lambda m: f"{m.group('scheme')} [token]", out)
    for pattern, placeholder in _API_KEYS:
        out = pattern.sub(placeholder, out)
    out = _NKEY_SEED.sub("[nkey seed]", out)
    out = _EMAIL.sub(lambda m: m.group(0) if m.group(0).startswith("git@") else "[email]", out)
    out = _CARD.sub(_card, out)
    if entropy:
        out = _RUN.sub(_random_run, out)
    if not kept:
        return out
    return _PROTECTED.sub(
        lambda m: kept[int(m.group(1))] if int(m.group(1)) < len(kept) else m.group(0), out
    )


def mask_value(value: Any, *, _key: str = "") -> Any:
    """``value`` (dicts, lists, tuples, strings, numbers) with secrets masked, recursively: strings
    by :func:`mask_text` (dictionary keys too), the values of secret-named keys entirely, card
    numbers stored as integers."""
    if isinstance(value, dict):
        return {
            (mask_text(k) if isinstance(k, str) else k): _masked_item(k, v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_value(v, _key=_key) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return mask_text(bytes(value).decode("utf-8", errors="replace"))
    if isinstance(value, str):
        return mask_text(value, entropy=not _names_an_id(_key))
    if isinstance(value, int) and not isinstance(value, bool) and _is_card(str(abs(value))):
        return _card_placeholder(str(abs(value)))
    return value


def is_secret_key(name: str) -> bool:
    """Whether a field named ``name`` holds a secret (``password``, ``db_password``, ``apiKey``,
    ``x-api-key``, ``access_token``, ``AWS_SECRET_ACCESS_KEY``; not ``max_tokens``)."""
    return bool(_SECRET_KEY_NAME.search(_snake(name)))


def truncate_payload(
    data: bytes | bytearray | memoryview | str, limit: int = 512
) -> tuple[str, bool, str]:
    """``(text, truncated, encoding)`` of a message body for the model: ``encoding`` is ``utf-8``
    when the body is text (at most ``limit`` bytes of it, cut before a character, never inside
    one) or ``base64`` for binary (the base64 of its first bytes, at most ``limit`` characters)."""
    if limit < 4:
        raise ValueError("limit: must be at least 4")
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _BINARY_CHARS.search(text):
        if len(raw) <= limit:
            return text, False, "utf-8"
        cut = limit
        while cut > 0 and (raw[cut] & 0xC0) == 0x80:  # a continuation byte: inside a character
            cut -= 1
        return raw[:cut].decode("utf-8"), True, "utf-8"
    size = limit // 4 * 3
    return base64.b64encode(raw[:size]).decode("ascii"), len(raw) > size, "base64"


# -- helpers -------------------------------------------------------------------------------------

_BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def _names_an_id(key: Any) -> bool:
    """A key whose value is an identifier or a digest, not a secret, however random it looks."""
    return isinstance(key, str) and bool(
        re.search(
            r"(?:^|_)(?:id|ids|uuid|sha|sha1|sha256|commit|revision|rev|digest|hash|checksum|etag|"
            r"fingerprint|nonce|msg_id|request_id)$",
            _snake(key),
        )
    )


def _masked_item(key: Any, value: Any) -> Any:
    if isinstance(key, str) and is_secret_key(key):
        return _mask_all(value)
    return mask_value(value, _key=key if isinstance(key, str) else "")


def _mask_all(value: Any) -> Any:
    """Every string and number under a secret-named key; ``None`` and booleans stay."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_all(v) for v in value]
    if isinstance(value, str) and value.strip().lower() in _KEEP_BARE:
        return value
    return MASKED


def _pem(match: re.Match) -> str:
    label = match.group("label")
    if "PRIVATE KEY" in label:
        return "[private key]"
    if "NKEY SEED" in label or "NATS" in label or "CREDS" in label:
        return "[nats credentials]"
    return match.group(0)  # certificates, public keys: not secrets


def _key_value(match: re.Match) -> str:
    key, sep = match.group("key"), match.group("sep")
    if match.group("q") is not None:
        q = match.group("q")
        if match.group("quoted").strip().lower() in _KEEP_BARE:
            return match.group(0)
        return f"{key}{sep}{q}{MASKED}{q}"
    bare = match.group("bare")
    if bare.lower() in _KEEP_BARE:
        return match.group(0)
    if match.group("kq"):  # JSON: a quoted key; keep the text valid JSON
        return f'{key}{sep}"{MASKED}"'
    return f"{key}{sep}{MASKED}"


def _userinfo(match: re.Match) -> str:
    scheme, user, password = match.group("scheme"), match.group("user"), match.group("password")
    if password is None:  # a token as the user part (nats://token@host)
        return f"{scheme}{MASKED}@"
    return f"{scheme}{user}:{MASKED}@"


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits)


def _card_placeholder(digits: str) -> str:
    return f"[card ****{digits[-4:]}]"


def _card(match: re.Match) -> str:
    text = match.group(0)
    separators = set(re.sub(r"[0-9]", "", text))
    if len(separators) > 1:  # "4111 1111-1111 1111": not how a card is written
        return text
    digits = _digits(text)
    return _card_placeholder(digits) if _is_card(digits) else text


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _random_run(match: re.Match) -> str:
    run = match.group(0)
    core = run.rstrip("=")
    if len(core) < 32 or _COMMIT_BEFORE.search(
        match.string[max(0, match.start() - 12) : match.start()]
    ):
        return run
    if _HEX.fullmatch(core):
        has_letter = any(c.isalpha() for c in core)
        has_digit = any(c.isdigit() for c in core)
        return "[secret]" if has_letter and has_digit and _entropy(core) >= 3.0 else run
    parts = [p for p in re.split(r"[-_./+]", core) if p]
    if all(_IDENTIFIER_PART.fullmatch(p) for p in parts):
        return run  # words, numbers and short codes joined: a name, a path
    if all(_IDENTIFIER_PART.fullmatch(p) or _HEX.fullmatch(p) for p in parts) and any(
        p.isalpha() and len(p) >= 3 and not _HEX.fullmatch(p) for p in parts
    ):
        return run  # a name with an id in it (jsc_mirror_<uuid hex>)
    kinds = (
        any(c.isupper() for c in core),
        any(c.islower() for c in core),
        any(c.isdigit() for c in core),
    )
    if sum(kinds) >= 2 and _entropy(core) >= 4.0:
        return "[secret]"
    return run
