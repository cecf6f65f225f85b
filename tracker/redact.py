"""Keeping secrets out of records: run records end up on public pages.

Three nets, each cheap:
- names: a value under a key, flag or variable whose name looks like a credential
  (``api_key``, ``hfToken``, ``DB_PASSWORD``...) is replaced by REDACTED;
- URLs: credentials in a URL's user-info part are dropped;
- shapes: strings that look like well-known tokens (GitHub, AWS, Slack, OpenAI, Hugging Face,
  Google, JWTs, private key blocks, bearer tokens) are replaced wherever they appear.
"""
from __future__ import annotations

import re

REDACTED = "[REDACTED]"

# A name is secret-looking when one of its words is one of these. Words come from splitting on
# non-alphanumerics and camelCase, so "max_tokens", "keyframes" and "tokenizer" stay visible.
SECRET_WORDS = frozenset({
    "key", "apikey", "token", "secret", "password", "passwd", "pwd", "passphrase", "credential",
    "credentials", "auth", "privatekey", "accesskey", "sessionkey",
})
_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")

TOKEN_PATTERNS = {
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    "GitHub token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
    "AWS access key": r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
    "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",
    "OpenAI key": r"\bsk-(?:proj-|svcacct-|ant-)?[A-Za-z0-9_-]{20,}\b",
    "Hugging Face token": r"\bhf_[A-Za-z0-9]{30,}\b",
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "JWT": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "bearer token": r"(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{16,}=*",
}
_TOKEN_REGEX = re.compile("|".join(f"(?P<g{index}>{pattern})" for index, pattern in enumerate(TOKEN_PATTERNS.values())))
_TOKEN_KINDS = {f"g{index}": kind for index, kind in enumerate(TOKEN_PATTERNS)}
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>.*)$", re.S)


def is_secret_name(name) -> bool:
    """True if ``name`` (a config key, CLI flag or variable name) looks like it holds a credential."""
    words = [word.lower() for word in _WORD_BOUNDARY.split(str(name)) if word]
    if any(word in SECRET_WORDS for word in words):
        return True
    joined = "".join(words)
    return joined in SECRET_WORDS or joined.endswith(("apikey", "accesskey", "secretkey", "privatekey"))


def find_token_shapes(text: str) -> list[tuple[str, int, int]]:
    """Token-shaped substrings of ``text`` as (kind, start, end)."""
    return [(_TOKEN_KINDS[match.lastgroup], match.start(), match.end()) for match in _TOKEN_REGEX.finditer(text)]


def redact_token_shapes(text: str) -> tuple[str, list[str]]:
    """``text`` with token-shaped substrings replaced, and the kinds that were found."""
    kinds: list[str] = []

    def replace(match):
        kinds.append(_TOKEN_KINDS[match.lastgroup])
        return REDACTED

    return _TOKEN_REGEX.sub(replace, text), kinds


def strip_url_credentials(url: str) -> str:
    """``https://user:token@host/path`` -> ``https://host/path``; other strings unchanged."""
    return _URL_CREDENTIALS.sub(lambda match: match.group("scheme"), url)


def redact_text(text: str) -> str:
    """A string with URL credentials and token shapes removed."""
    return redact_token_shapes(strip_url_credentials(text))[0]


def redact_mapping(value):
    """A deep copy of ``value`` with secret-named entries and token-shaped strings redacted."""
    if isinstance(value, dict):
        return {key: REDACTED if is_secret_name(key) and item not in (None, "") else redact_mapping(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact_mapping(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_argv(argv: list[str]) -> list[str]:
    """Command-line arguments with secret values replaced.

    Handles ``--api-key X``, ``--api-key=X``, ``NAME_TOKEN=X`` assignments, credentials in URLs
    and token-shaped values anywhere.
    """
    redacted = []
    hide_next = False
    for argument in argv:
        if hide_next:
            redacted.append(REDACTED)
            hide_next = False
            continue
        if argument.startswith("-") and len(argument) > 1:
            flag, equals, _ = argument.partition("=")
            if is_secret_name(flag.lstrip("-")):
                if equals:
                    redacted.append(f"{flag}={REDACTED}")
                else:
                    redacted.append(argument)
                    hide_next = True
                continue
        assignment = _ASSIGNMENT.match(argument)
        if assignment and is_secret_name(assignment.group("name")):
            redacted.append(f"{assignment.group('name')}={REDACTED}")
            continue
        redacted.append(redact_text(argument))
    return redacted


# A literal value assigned to a name (api_key = "...", "token": "...", HF_TOKEN=..., password: ...).
# Eight characters at least and no call or variable reference, so `key=lambda x: ...` stays intact.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?P<name>\b[A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*[:=][ \t]*"""
    r"""(?:(?P<quote>["'])(?P<quoted>[^"'\s]{8,})(?P=quote)|(?P<bare>[^\s"'`$()\[\]{},;#]{8,})(?=\s|$))""",
    re.MULTILINE)


def redact_file_text(text: str) -> str:
    """Source or config text with token shapes and literals assigned to secret-looking names replaced."""
    text, _ = redact_token_shapes(text)

    def replace(match):
        if not is_secret_name(match["name"]):
            return match[0]
        group = "quoted" if match["quoted"] is not None else "bare"
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        return match[0][:start] + REDACTED + match[0][end:]

    return _SECRET_ASSIGNMENT.sub(replace, text)
