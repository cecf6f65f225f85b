"""Public names of a package imported on first use (PEP 562): the package's ``__getattr__`` and ``__dir__``."""
from __future__ import annotations

from importlib import import_module


def lazy_names(namespace: dict, modules_by_name: dict[str, str]):
    """``(__getattr__, __dir__)`` for the package whose globals are ``namespace``: each name of
    ``modules_by_name`` is imported from its (relative) module on first use, then kept in the
    package's globals, so later lookups cost nothing."""
    package = namespace["__name__"]

    def __getattr__(name: str):
        module_name = modules_by_name.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module_name, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(modules_by_name))

    return __getattr__, __dir__
