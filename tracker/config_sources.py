"""Configuration as users pass it: OmegaConf/Hydra, click and pydantic objects as plain values.

Each source is recognised by the modules of its class and its bases (``type(value).__mro__``),
never by importing its library: a script that uses none of them loads none of them, and a plain
dict costs one look at ``dict`` and ``object``. The library is only reached through the object
itself, or through ``sys.modules`` when the object proves it is loaded.

- an OmegaConf ``DictConfig``/``ListConfig``: resolved (interpolations filled in) to plain
  containers; a value still missing (``???``) stays the text ``???``; an interpolation that
  cannot be resolved is a ConfigValueError naming the argument and OmegaConf's key. Passed as
  the whole config inside a running Hydra app, the command line's overrides are added as
  ``hydra.overrides`` (``["lr=0.1", "model=big"]``: the key ``hydra`` is Hydra's own, never in
  the task's config).
- a ``click.Context``: its parameters, a group's first and each subcommand's after them (a
  subcommand's parameter wins over its group's of the same name).
- a pydantic model: ``model_dump(mode="json")`` (pydantic 2), ``.dict()`` (pydantic 1).
"""
from __future__ import annotations

import sys

from .errors import ConfigValueError

NOT_A_SOURCE = object()  # what plain_source returns for a value of no known source
SOURCE_LIBRARIES = ("omegaconf", "click", "pydantic")
HYDRA_KEY = "hydra"  # where the Hydra app's command-line overrides go in a run's config


def plain_source(value, path: str = "config"):
    """``value`` as plain dicts, lists and scalars when it comes from a known source, else NOT_A_SOURCE."""
    library = _source_library(type(value))
    if library is None or isinstance(value, type):  # a class is no config, even a model's
        return NOT_A_SOURCE
    if library == "omegaconf" and sys.modules["omegaconf"].OmegaConf.is_config(value):
        return _omegaconf_container(value, path)
    if library == "click" and isinstance(getattr(value, "params", None), dict):  # a Context, not a Command
        return _click_params(value)
    if library == "pydantic" and (hasattr(value, "model_dump") or hasattr(value, "__fields__")):
        return _pydantic_dump(value)
    return NOT_A_SOURCE


def config_from_source(config, argument: str = "config"):
    """A whole config as ``init(config=...)`` takes it: ``plain_source``, plus a Hydra app's
    command-line overrides for an OmegaConf config; ``config`` itself when no source knows it."""
    plain = plain_source(config, argument)
    if plain is NOT_A_SOURCE:
        return config
    if isinstance(plain, dict) and _source_library(type(config)) == "omegaconf" and HYDRA_KEY not in plain:
        overrides = hydra_overrides()
        if overrides is not None:
            plain[HYDRA_KEY] = {"overrides": overrides}
    return plain


def hydra_overrides() -> list[str] | None:
    """The command line's overrides of the running Hydra app (``["lr=0.1"]``), or None outside one."""
    module = sys.modules.get("hydra.core.hydra_config")  # loaded by any running Hydra app
    if module is None:
        return None
    try:
        if not module.HydraConfig.initialized():
            return None
        return [str(override) for override in module.HydraConfig.get().overrides.task]
    except Exception:  # a Hydra whose HydraConfig has changed shape: the config alone is still right
        return None


def _source_library(kind: type) -> str | None:
    if kind is dict:  # the common case, answered before the walk
        return None
    for klass in kind.__mro__:
        module = getattr(klass, "__module__", None)
        library = module.partition(".")[0] if isinstance(module, str) else None
        if library in SOURCE_LIBRARIES:
            return library
    return None


def _omegaconf_container(config, path: str):
    omegaconf = sys.modules["omegaconf"]  # loaded: the value is one of its objects
    try:
        return omegaconf.OmegaConf.to_container(config, resolve=True, throw_on_missing=False)
    except omegaconf.errors.OmegaConfBaseException as exc:
        # full_key counts from the root config, which a node nested in a dict is not: named apart
        key = getattr(exc, "full_key", None)
        raise ConfigValueError(path, config, f"OmegaConf could not resolve {key or 'it'} ({type(exc).__name__}: "
                                             f"{(str(exc).splitlines() or [''])[0]})") from None


def _click_params(context) -> dict:
    contexts = []
    while context is not None:  # a subcommand's context points to its group's
        contexts.append(context)
        context = getattr(context, "parent", None)
    params = {}
    for each in reversed(contexts):
        params.update(getattr(each, "params", None) or {})
    return params


def _pydantic_dump(model):
    if not hasattr(model, "model_dump"):  # pydantic 1, or pydantic.v1 models
        return model.dict()
    try:
        return model.model_dump(mode="json")
    except Exception:  # a field of a type pydantic cannot write as JSON: the rest as Python values
        return model.model_dump()
