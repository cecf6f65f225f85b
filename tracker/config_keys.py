"""Config keys that flatten to the same dotted name, renamed at write time so no value is hidden.

Pages, ``tracker ls`` and ``tracker diff`` show a config flattened to dotted names
(``{"opt": {"lr": 1}}`` as ``opt.lr``), so ``{"a.b": 1, "a": {"b": 2}}`` would show one of the
two values under ``a.b``. When a config update would make two keys flatten to one name, the key
written later is renamed to ``<key>~2`` (``~3``...), with a warning naming both; the one written
first keeps its name. Keys merge at the top level (a later top-level key replaces the earlier
value whole), so only keys that survive the merge are compared.
"""
from __future__ import annotations

RENAME_SEPARATOR = "~"


def rename_colliding_keys(existing: dict, changes: dict) -> tuple[dict, list[tuple[str, str]]]:
    """``changes`` with keys renamed where they would flatten onto a name ``existing`` or an
    earlier change already shows; also returns (original dotted name, new dotted name) per rename."""
    taken: set[str] = set()
    for key, value in existing.items():
        if key not in changes:
            taken.update(_flat_names(key, value))
    renames: list[tuple[str, str]] = []
    return _claim_all("", changes, taken, renames), renames


def _flat_names(name: str, value) -> list[str]:
    if isinstance(value, dict) and value:
        return [flat for key, item in value.items() for flat in _flat_names(f"{name}.{key}", item)]
    return [name]


def _claim_all(prefix: str, mapping: dict, taken: set[str], renames: list) -> dict:
    claimed = {}
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            claimed[key] = _claim_all(f"{prefix}{key}.", value, taken, renames)
            continue
        name = key
        if f"{prefix}{name}" in taken:
            number = 2
            while (f"{prefix}{key}{RENAME_SEPARATOR}{number}" in taken
                   or f"{key}{RENAME_SEPARATOR}{number}" in mapping):
                number += 1
            name = f"{key}{RENAME_SEPARATOR}{number}"
            renames.append((f"{prefix}{key}", f"{prefix}{name}"))
        taken.add(f"{prefix}{name}")
        claimed[name] = value
    return claimed
