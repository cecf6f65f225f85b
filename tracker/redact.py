"""Keeping secrets out of records: run records end up on public pages.

Three nets, each cheap:
- names: a value under a key, flag or variable whose name looks like a credential
  (``api_key``, ``hfToken``, ``DB_PASSWORD``, ``PGPASSWORD``, ``db_pass``...) is replaced by REDACTED;
- URLs: credentials in a URL's user-info part are dropped;
- shapes: strings that look like well-known tokens (GitHub, AWS, Slack, OpenAI, Hugging Face,
  Google, JWTs, private key blocks, bearer tokens, Slack webhooks) are replaced wherever they
  appear, and so are secrets found by their context in free text: ``Authorization:`` header
  values, ``user:password@host`` without a scheme, and ``NAME=value`` where NAME looks secret.
  Where two shapes overlap the union of both is replaced, so a URL's password goes even when
  its user name is itself a token.
"""
from __future__ import annotations

import functools
import re

REDACTED = "[REDACTED]"

# A name is secret-looking when one of its words is one of these. Words come from splitting on
# non-alphanumerics and camelCase, so "max_tokens", "keyframes" and "tokenizer" stay visible.
SECRET_WORDS = frozenset({
    "key", "apikey", "token", "secret", "password", "passwd", "pwd", "pass", "passphrase", "credential",
    "credentials", "auth", "privatekey", "accesskey", "sessionkey", "cookie",
})
# A word that ends in one of these is secret too: PGPASSWORD, MYSQLPWD, clientsecret.
SECRET_WORD_ENDINGS = ("password", "passwd", "pwd", "secret", "apikey", "accesskey", "secretkey", "privatekey")
# "token" after one of these words names a vocabulary entry, not a credential (eos_token: "</s>").
VOCABULARY_TOKEN_WORDS = frozenset({"pad", "eos", "bos", "unk", "sep", "cls", "mask", "start", "end"})
_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

TOKEN_PATTERNS = {
    "private key": (r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                    r"(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)"),
    "GitHub token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
    "AWS access key": r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
    "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",
    "OpenAI key": r"\bsk-(?:proj-|svcacct-|ant-)?[A-Za-z0-9_-]{20,}\b",
    "Hugging Face token": r"\bhf_[A-Za-z0-9]{30,}\b",
    # Not \b at the end: a key may end in "-", after which \b would fail before a space or quote.
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
    "JWT": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    # Any length after "Bearer" as the HTTP scheme spells it; 16 characters at least after a
    # lower-case "bearer", so prose ("the bearer of") stays.
    "bearer token": r"(?:\b(?:Bearer|BEARER)\s+[A-Za-z0-9._~+/-]+=*|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{16,}=*)",
    "Slack webhook": r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]+",
    # user:password in a URL (the site generator scans text that never went through redact_text).
    # The password may hold "@" (up to the last one before a "/") or, when what follows the
    # colon is not a port, "/" (AWS secret keys do).
    "URL credentials": r"(?<=://)[^\s/:@]{0,256}:(?:[^\s/]{1,256}(?=@)|(?!\d{1,5}(?:[/?#\s]|$))[^\s@]{1,256}(?=@))",
}
_TOKEN_REGEX = re.compile("|".join(f"(?P<g{index}>{pattern})" for index, pattern in enumerate(TOKEN_PATTERNS.values())))
_TOKEN_KINDS = {f"g{index}": kind for index, kind in enumerate(TOKEN_PATTERNS)}
_URL_CREDENTIALS_SHAPE = re.compile(f"(?P<g{list(TOKEN_PATTERNS).index('URL credentials')}>"
                                   f"{TOKEN_PATTERNS['URL credentials']})")
# Greedy up to the last "@" before the path, so a password containing "@" goes entirely; or, when
# the colon is not followed by a port, a password holding "/" up to the first "@". The scheme is
# at most 64 characters and the user info at most 512 (as the token pattern's): unbounded, every
# letter of a long run without "://" (a 50 KB note) started a scan to the run's end, quadratic
# (seconds in init()); a longer scheme run keeps its head unmatched, and the replacement gives the
# scheme back, so the text comes out the same.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,63}://)"
                              r"(?P<userinfo>[^/\s]{1,512}|[^\s/:@]{0,256}:(?!\d{1,5}(?:[/?#\s]|$))[^\s@]{1,512})@")

# Secrets found by their context: (kind, lower-cased literals a match holds, pattern). The part
# replaced is the group "secret" (for an assignment, the value, and only when its name is secret).
_CONTEXT_PATTERNS = [
    # An HTTP Authorization header's credential, whatever its length, after the scheme if any
    # (Basic, Bearer, Token ...), which stays visible.
    ("Authorization header", ("authoriz",), re.compile(
        r"\b[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn]\b[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?:(?i:basic|bearer|token|digest|negotiate|ntlm|apikey)[ \t]+)?(?P<secret>[^\s\"',;]+)")),
    # user:password@host with no scheme (a scheme's "://" is the URL pattern's job). Not a port,
    # time or version after the colon, not mailto:, not an image digest (name:tag@sha256:...).
    ("user:password@host", ("@",), re.compile(
        r"(?<![\w.%+~:/@-])(?!mailto:|sip:|xmpp:)(?P<secret>[A-Za-z0-9._%+~-]{1,128}:(?!//)"
        r"(?![\d.:]+@)(?!\d{1,5}(?:[/?#\s]|$))[^\s@]{1,256})@(?=[A-Za-z0-9\[])(?!sha\d+:)")),
    # NAME=value in free text (a log line, a note, a shell command) where NAME looks secret; not
    # NAME==value, a comparison or a requirement pin (google-auth==2.63.0).
    ("secret assignment", ("key", "token", "secret", "pass", "pwd", "auth", "credential", "cookie"), re.compile(
        r"(?<![A-Za-z0-9_])(?P<name>[A-Za-z_][A-Za-z0-9_.-]{0,63})=(?!=)(?:\"(?P<secret_dq>[^\"\r\n]{1,512})\"|"
        r"'(?P<secret_sq>[^'\r\n]{1,512})'|(?P<secret>[^\s\"'&;,()\[\]{}<>]{1,512}))")),
]
# Values of a secret-looking NAME=value that are not secrets: flags, unset values, references.
_PLAIN_ASSIGNED = frozenset({"true", "false", "none", "null", "yes", "no", "on", "off"})
# NAME=value, also Hydra's +name=value and ++name=value overrides.
_ASSIGNMENT = re.compile(r"^(?P<name>[+~]{0,2}[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>.*)$", re.S)


@functools.lru_cache(maxsize=4096)  # free text and configs repeat their names
def is_secret_name(name) -> bool:
    """True if ``name`` (a config key, CLI flag or variable name) looks like it holds a credential."""
    words = [word.lower() for word in _WORD_BOUNDARY.split(str(name)) if word]
    for index, word in enumerate(words):
        if word == "token" and index and words[index - 1] in VOCABULARY_TOKEN_WORDS:
            continue
        if word in SECRET_WORDS or word.endswith(SECRET_WORD_ENDINGS):
            return True
    joined = "".join(words)
    return joined in SECRET_WORDS or joined.endswith(SECRET_WORD_ENDINGS)


def find_token_shapes(text: str) -> list[tuple[str, int, int]]:
    """Token-shaped substrings of ``text`` as (kind, start, end), in order and not overlapping.

    Spans of different shapes that overlap are merged into one (named by the first), so the
    replacement covers everything any shape found. Patterns are only tried where one of their
    literals is (found case-blind with ``str.find``, which skips ordinary text far faster than
    any pattern: console logs are scanned line by line as they are written).
    """
    lowered = _lowered(text)
    found = []
    position = 0
    for at, hint in _hint_positions(lowered, _ANCHOR_HINTS):
        if at < position:
            continue
        if hint == "://":
            # URL credentials first: a user name that is itself a token must not leave the password.
            match = _URL_CREDENTIALS_SHAPE.match(text, at + 3) or _TOKEN_REGEX.match(text, at + 3)
        else:
            match = _TOKEN_REGEX.match(text, at)
        if match:
            found.append((_TOKEN_KINDS[match.lastgroup], match.start(), match.end()))
            position = match.end()
    in_context = _context_secrets(text, lowered)
    return _merged(found + in_context) if in_context else found


# Lower-cased literals the token shapes start with (URL credentials: right after "://").
_ANCHOR_HINTS = ("-----begin", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "akia", "asia", "abia",
                 "acca", "xox", "sk-", "hf_", "aiza", "eyj", "bearer", "hooks.slack.com/", "://")
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_NAME_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")  # the start of the name a secret word is in


def _lowered(text: str) -> str:
    lowered = text.lower()
    # A few characters lower-case to two ("İ"); positions must match the text's, so lower ASCII only.
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _hint_positions(lowered: str, hints: tuple[str, ...]) -> list[tuple[int, str]]:
    positions = []
    for hint in hints:
        at = lowered.find(hint)
        while at != -1:
            positions.append((at, hint))
            at = lowered.find(hint, at + 1)
    positions.sort()
    return positions


def _context_secrets(text: str, lowered: str) -> list[tuple[str, int, int]]:
    found = []
    tried = set()
    for kind, hints, pattern in _CONTEXT_PATTERNS:
        for at, _ in _hint_positions(lowered, hints):
            if kind == "secret assignment":
                # Match from the start of the name the secret word is part of (once per name).
                name = _NAME_BEFORE.search(text, max(0, at - 64), at + 1)
                start = name.start() if name else at
                if start in tried:
                    continue
                tried.add(start)
                match = pattern.match(text, start)
                if not match or not _secret_assignment(match["name"], match[_assigned_group(match)]):
                    continue
                group = _assigned_group(match)
                found.append((kind, match.start(group), match.end(group)))
            else:  # the whole line the literal is on, once
                line_start = text.rfind("\n", 0, at) + 1
                if (kind, line_start) in tried:
                    continue
                tried.add((kind, line_start))
                for match in pattern.finditer(text, line_start, text.find("\n", at) + 1 or len(text)):
                    found.append((kind, match.start("secret"), match.end("secret")))
    return found


def _assigned_group(match) -> str:
    return next(name for name in ("secret", "secret_dq", "secret_sq") if match.group(name) is not None)


def _secret_assignment(name: str, value: str) -> bool:
    # A bare "key=" is a keyword argument in code (sorted(x, key=len)), not a credential.
    return (name.lower() != "key" and is_secret_name(name) and value.lower() not in _PLAIN_ASSIGNED
            and not value.startswith(("$", REDACTED)))


def _merged(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    merged: list[list] = []
    for kind, start, end in sorted(spans, key=lambda span: (span[1], -span[2])):
        if merged and start < merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([kind, start, end])
    return [tuple(span) for span in merged]


def redact_token_shapes(text: str) -> tuple[str, list[str]]:
    """``text`` with token-shaped substrings replaced, and the kinds that were found."""
    spans = find_token_shapes(text)
    if not spans:
        return text, []
    pieces = []
    position = 0
    for _, start, end in spans:
        pieces += [text[position:start], REDACTED]
        position = end
    pieces.append(text[position:])
    return "".join(pieces), [kind for kind, _, _ in spans]


def strip_url_credentials(url: str) -> str:
    """``https://user:token@host/path`` -> ``https://host/path``; other strings unchanged.

    A bare ``https://token@host`` loses the token too. An ssh URL keeps its user
    (``ssh://git@host/x`` needs it to connect) and loses only a password.
    """
    def replace(match):
        scheme, userinfo = match.group("scheme"), match.group("userinfo")
        if "ssh" in scheme.lower():
            return f"{scheme}{userinfo.split(':', 1)[0]}@"
        return scheme

    return _URL_CREDENTIALS.sub(replace, url)


def redact_text(text: str) -> str:
    """A string with URL credentials and token shapes removed."""
    return redact_token_shapes(strip_url_credentials(text))[0]


def redact_mapping(value):
    """A deep copy of ``value`` with secret-named entries and token-shaped strings redacted.

    None, "" and booleans under a secret-looking name are kept: they hold no secret and show
    that it was unset or switched (``use_auth: true``). String keys are redacted like values.
    """
    if isinstance(value, dict):
        return {redact_text(key) if isinstance(key, str) else key:
                REDACTED if is_secret_name(key) and item not in (None, "") and not isinstance(item, bool)
                else redact_mapping(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact_mapping(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_argv(argv: list[str]) -> list[str]:
    """Command-line arguments with secret values replaced.

    Handles ``--api-key X``, ``--api-key=X``, ``--pass X``, ``-p X`` (the password flag of
    mysql and others), ``NAME_TOKEN=X``, ``PGPASSWORD=X`` and Hydra ``+db.password=X``
    assignments, header arguments (``-H "Authorization: ..."``, ``-H "X-Api-Key: ..."``),
    credentials in URLs and token-shaped values anywhere. After a secret flag the next
    argument is hidden unless it is another ``--flag`` (``--use-auth --lr 0.1``).
    """
    redacted = []
    hide_next = header_next = False
    for argument in argv:
        if hide_next and not argument.startswith("--"):
            redacted.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        if header_next:
            header_next = False
            name, colon, value = argument.partition(":")
            if colon and value.strip() and is_secret_name(name.strip()):
                redacted.append(f"{name}: {REDACTED}")
                continue
        if argument in _HEADER_FLAGS:
            header_next = True
        elif argument in _PASSWORD_FLAGS:
            redacted.append(argument)
            hide_next = True
            continue
        elif argument.startswith(tuple(f"{flag}=" for flag in _PASSWORD_FLAGS)):
            redacted.append(f"{argument.partition('=')[0]}={REDACTED}")
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


_HEADER_FLAGS = frozenset({"-H", "--header"})  # curl, wget, httpie: the next argument is "Name: value"
_PASSWORD_FLAGS = ("-p",)  # short flags that take a password (mysql, mongo, redis-cli -a is rarer)


# A literal value assigned to a name (api_key = "...", "token": "...", HF_TOKEN=..., password: ...).
# Eight characters at least and no call or variable reference, so `key=lambda x: ...` stays intact.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?P<name>\b[A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*(?::|=(?!=))[ \t]*"""
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
