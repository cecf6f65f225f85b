"""Checking what a script passes to ``init()`` and the run's methods, before anything is written.

Misuse raises a UsageError naming the argument, so a bad call leaves no run folder, no
writer thread and no record behind. Text is made storable (``safe_text``) and redacted here,
so that records hold no lone surrogate and no secret whatever the caller passed.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from .config_sources import config_from_source
from .errors import ArgumentTypeError, RunIdError, StepError
from .values import check_int_size, safe_text, to_jsonable

MAX_RUN_ID_CHARS = 200  # a run id names a folder: most file systems allow 255 bytes


def clean_text(argument: str, value, *, optional: bool = False) -> str | None:
    """``value`` as storable, redacted text; ArgumentTypeError unless it is a str (or None when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ArgumentTypeError(argument, value, "a str or None" if optional else "a str")
    from .redact import redact_text  # compiles its patterns: paid at init(), not at import

    return redact_text(safe_text(str(value)))


def clean_tags(argument: str, tags) -> list[str]:
    """Tags as a list of storable, redacted strings; a single str is one tag."""
    if isinstance(tags, str):
        tags = [tags]
    elif not isinstance(tags, Iterable) or isinstance(tags, (bytes, Mapping)):
        raise ArgumentTypeError(argument, tags, "a str or a list of str")
    return [clean_text(f"{argument}[{index}]", tag) for index, tag in enumerate(tags)]


def config_mapping(argument: str, config) -> dict:
    """A config as a dict of JSON values: a dict, a dataclass instance, an argparse.Namespace, or one
    of the sources ``config_sources`` knows (an OmegaConf config, a click.Context, a pydantic model)."""
    plain = config_from_source(config, argument)
    if isinstance(plain, Mapping):
        converted = to_jsonable(dict(plain), _path=argument)
    elif isinstance(plain, (str, bytes, int, float, list, tuple, set, frozenset)) or plain is None:
        converted = None
    else:
        converted = to_jsonable(plain, _path=argument)  # dataclass, Namespace ...
    if not isinstance(converted, dict):
        raise ArgumentTypeError(argument, config, "a dict, a dataclass instance or an argparse.Namespace")
    return converted


def check_run_id(run_id) -> str:
    """``run_id`` when it can safely name a folder; RunIdError says why not."""
    if not isinstance(run_id, str):
        raise ArgumentTypeError("id", run_id, "a str")
    if not run_id or run_id in (".", ".."):
        raise RunIdError(run_id, "it is empty or a relative folder")
    if run_id.startswith("."):
        raise RunIdError(run_id, "it starts with '.', which hides the folder from readers")
    if "/" in run_id or "\\" in run_id:
        raise RunIdError(run_id, "it contains a path separator")
    if not run_id.isprintable():  # control and format characters, lone surrogates
        raise RunIdError(run_id, "it contains a control character or text that is not valid Unicode")
    if len(run_id) > MAX_RUN_ID_CHARS or run_id != run_id.strip():
        raise RunIdError(run_id, f"it is over {MAX_RUN_ID_CHARS} characters or has spaces at an end")
    from .redact import REDACTED, redact_text

    redacted = redact_text(run_id)
    if redacted != run_id:  # an id names the folder and every page URL: it cannot be redacted later
        raise RunIdError(redacted.replace(REDACTED, "[SECRET]"), "it holds a token-shaped string")
    return run_id


def check_step(step) -> int:
    """``step`` as an int: ints, whole floats and anything with ``.item()`` giving one."""
    value = step
    if type(value) is not int and not isinstance(value, (bool, str, bytes)) and hasattr(value, "item"):
        try:
            value = value.item()
        except Exception:
            raise StepError(step) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StepError(step)
    if isinstance(value, float):
        if not value.is_integer():  # NaN and infinities included
            raise StepError(step)
        value = int(value)
    return check_int_size(int(value), "step")
