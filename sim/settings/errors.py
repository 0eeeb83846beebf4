"""One line for every way a config can be wrong: the field, the value, what is allowed.

An unknown key (with the closest known name), a wrong type, a value out of range
(:func:`sim.settings.schema.validate`), a missing scenario or group option, a malformed
override, a config file that is not plain YAML data: :func:`explain` turns the
exception Hydra or OmegaConf raised into one :class:`~sim.settings.schema.ConfigError` line;
:func:`check_keys` checks a plain mapping against the schema.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import typing
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from . import files as conffiles
from .files import _label, _yaml_message, config_groups, group_options
from .schema import ConfigError, SimConfig, describe_allowed

#: The primary config's name (Hydra's), as it appears in its error messages.
PRIMARY = "config"


# ---------------------------------------------------------------- schema lookup
@functools.cache
def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _dict_item(tp: Any) -> type | None:
    return typing.get_args(tp)[-1] if typing.get_origin(tp) is dict else None


def _entry_kind(cls: type) -> str:
    return cls.__name__.removesuffix("Config").lower()  # FirmConfig -> firm


@dataclasses.dataclass
class _Spot:
    """Where a dotted key lands in the schema."""

    kind: str  # "field", "entry" (a named firm/segment), "unknown"
    path: str  # the key up to and including the part that decided ``kind``
    field: dataclasses.Field | None = None
    tp: Any = None
    owner: str = ""  # path of the dataclass holding the (unknown) name
    owner_cls: type | None = None
    name: str = ""  # the unknown name
    entries: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (dict path, entry name)


def _lookup(key: str) -> _Spot:
    """Follow a dotted key (``market.contact_rate``, ``firms.both.price``) through the schema."""
    parts = key.split(".")
    cls: type | None = SimConfig
    owner = ""
    entries: list[tuple[str, str]] = []
    i = 0
    while i < len(parts):
        name = parts[i]
        path = ".".join(parts[: i + 1])
        if cls is None or name not in _fields(cls):
            return _Spot("unknown", path, owner=owner, owner_cls=cls, name=name, entries=entries)
        f, tp = _fields(cls)[name], _hints(cls)[name]
        if i == len(parts) - 1:
            return _Spot("field", path, f, tp, entries=entries)
        if dataclasses.is_dataclass(tp):
            cls, owner, i = tp, path, i + 1
            continue
        item = _dict_item(tp)
        if item is not None:
            entry_path = ".".join(parts[: i + 2])
            entries.append((path, parts[i + 1]))
            if i + 2 == len(parts):
                return _Spot("entry", entry_path, tp=item, owner=path, entries=entries)
            cls, owner, i = item, entry_path, i + 2
            continue
        if typing.get_origin(tp) is list and parts[i + 1].isdigit() and i + 2 == len(parts):
            return _Spot("field", key, f, tp, entries=entries)  # one element of a list
        return _Spot("unknown", ".".join(parts[: i + 2]), owner=path, owner_cls=None, name=parts[i + 1],
                     entries=entries)
    raise AssertionError("unreachable")


def _unknown_message(spot: _Spot) -> str:
    if spot.owner_cls is None:
        return f"{spot.path}: unknown field; {spot.owner} is a single value and has no fields"
    names = list(_fields(spot.owner_cls))
    close = difflib.get_close_matches(spot.name, names, n=1, cutoff=0.6)
    prefix = f"{spot.owner}." if spot.owner else ""
    hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
    where = f"of {spot.owner}" if spot.owner else "at the top level"
    return f"{spot.path}: unknown field{hint}; allowed fields {where}: {', '.join(names)}"


def _allowed(f: dataclasses.Field | None, tp: Any) -> str:
    if f is not None:
        text = describe_allowed(dict(f.metadata))
        if text:
            return text
    if dataclasses.is_dataclass(tp):
        return f"a group of fields ({', '.join(_fields(tp))})"
    item = _dict_item(tp)
    if item is not None:
        return f"a mapping from {_entry_kind(item)} names to {_entry_kind(item)} fields"
    if tp is str:
        return "a string"
    return "a value of type " + getattr(tp, "__name__", str(tp))


def _type_message(path: str, f: dataclasses.Field | None, tp: Any, value: Any) -> str:
    if isinstance(value, str) and value == "???":
        return f"{path} has no value: it must be {_allowed(f, tp)}"
    hint = ""
    if (f is not None and f.metadata.get("integer") and isinstance(value, float) and value.is_integer()
            and abs(value) < 2**63):
        hint = f"; write {int(value)}, without a decimal point or exponent"
    return f"{path} = {value!r} must be {_allowed(f, tp)}{hint}"


def check_keys(data: Any, cls: type = SimConfig, prefix: str = "") -> None:
    """Raise :class:`ConfigError` for the first key of ``data`` (a plain mapping) not in the schema."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in _fields(cls):
            raise ConfigError(_unknown_message(_Spot("unknown", path, owner=prefix.rstrip("."),
                                                     owner_cls=cls, name=str(key))))
        tp = _hints(cls)[key]
        if dataclasses.is_dataclass(tp):
            check_keys(value, tp, path + ".")
        elif (item := _dict_item(tp)) is not None and isinstance(value, dict):
            for name, entry in value.items():
                check_keys(entry, item, f"{path}.{name}.")


# ------------------------------------------------------------ error translation
def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else type(exc).__name__
    for line in text.splitlines():
        if line.startswith("full_key:"):
            return f"{line.split(':', 1)[1].strip()}: {first}"
    return first


def _file_of(config_name: str) -> str:
    """``scenario/target`` (Hydra's name) -> ``scenarios/target.yaml``."""
    return _label(conffiles.CONF_DIR / f"{config_name}.yaml")


#: Ray's Hydra launcher: not in the ``ray`` extra (it pins cloudpickle<3, which downgraded cloudpickle
#: under dask), installed after it without its dependencies (pyproject.toml; ``make ray``).
RAY_LAUNCHER = "hydra-ray-launcher==1.2.2"


def after_extra(extra: str | None) -> str:
    """The end of an install hint for this project's ``extra``: the ``ray`` extra's second step."""
    return f', then pip install --no-deps "{RAY_LAUNCHER}"' if extra == "ray" else ""


#: Hydra plugins by the group option they add: (pip package, this project's extra that installs it).
HYDRA_PLUGINS = {
    "hydra/launcher/joblib": ("hydra-joblib-launcher", None),
    "hydra/launcher/submitit_local": ("hydra-submitit-launcher", "slurm"),
    "hydra/launcher/submitit_slurm": ("hydra-submitit-launcher", "slurm"),
    "hydra/launcher/ray": ("hydra-ray-launcher", "ray"),
    "hydra/launcher/ray_aws": ("hydra-ray-launcher", "ray"),
    "hydra/launcher/rq": ("hydra-rq-launcher", None),
    "hydra/sweeper/optuna": ("hydra-optuna-sweeper", None),
    "hydra/sweeper/ax": ("hydra-ax-sweeper", None),
    "hydra/sweeper/nevergrad": ("hydra-nevergrad-sweeper", None),
}


def closest(word: str, options: Sequence[str]) -> str | None:
    """The option closest to ``word`` (case-insensitive), or None when nothing is close."""
    lower = {o.lower(): o for o in options}
    if word.lower() in lower:
        return lower[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return lower[match[0]] if match else None


def _missing_option(group: str, option: str) -> str:
    plugin = HYDRA_PLUGINS.get(f"{group}/{option}")
    if plugin:
        package, extra = plugin
        how = f"pip install -e '.[{extra}]'{after_extra(extra)}" if extra else f"pip install {package}"
        return (f"{group}={option} needs the Hydra plugin {package}, which is not installed: {how} "
                f"(into this project's .venv)")
    if group in config_groups():
        options = group_options(group)
        near = closest(option, options)
        hint = f" (did you mean {group}={near}?)" if near else ""
        return f"{group} = {option!r}: no such {group}{hint}; allowed: {', '.join(options)}"
    return f"{group}/{option}: no such config"


def _entry_message(spot: _Spot, value: Any = None, adding: bool = False) -> str:
    dict_path, name = spot.entries[-1]
    kind = dict_path.rsplit(".", 1)[-1].rstrip("s")  # firms -> firm, segments -> segment
    if adding:
        return (f"{dict_path}.{name}: new {kind}s cannot be added on the command line; "
                f"define {kind} {name!r} in a scenario file (see scenarios/)")
    return (f"{dict_path}.{name}: no {kind} named {name!r} in this config; "
            f"{kind}s are defined in scenario files")


def _entries_of(config: Any, dict_path: str) -> list[str] | None:
    """The entry names (firms, segments) at ``dict_path`` of a SimConfig or DictConfig, or None."""
    node = config
    for part in dict_path.split("."):
        try:
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        except (AttributeError, KeyError, Exception):
            return None
    try:
        return [str(k) for k in node.keys()]
    except Exception:
        return None


def missing_entry(config: Any, overrides: Sequence[str]) -> str | None:
    """One line for the first override that names a firm or segment ``config`` does not define.

    Firms and segments come from scenario files and config groups (``firms=...``); an
    override sets fields of an existing one and never creates one (a new entry would get
    every field's default silently). The line names the field and the allowed names.
    """
    for item in overrides:
        key, sep, _ = str(item).partition("=")
        key = key.lstrip("+~")
        if not sep or key.startswith("hydra") or "." not in key:
            continue
        spot = _lookup(key)
        for dict_path, name in spot.entries:
            names = _entries_of(config, dict_path)
            if names is None or name in names:
                continue
            kind = dict_path.rsplit(".", 1)[-1].rstrip("s")
            return (f"{key}: no {kind} named {name!r} in this config; allowed {kind}s: {', '.join(names) or 'none'} "
                    f"(new {kind}s are defined in a scenario file or a config group, not by an override)")
    return None


def _override_value(overrides: Sequence[str], key: str) -> Any:
    for item in reversed(list(overrides)):
        k, sep, v = item.partition("=")
        if sep and k.lstrip("+~") == key:
            try:
                return yaml.safe_load(v) if v else v
            except yaml.YAMLError:
                return v
    return None


def _parse_message(token: str, problem: str) -> str:
    if token and "=" not in token:
        if token in group_options("scenario"):
            return f"{token}: not an override: write KEY=VALUE; did you mean scenario={token}?"
        return f"{token}: not an override: write KEY=VALUE, e.g. scenario=baseline"
    return (f"{token}: could not parse this override ({problem}): write KEY=VALUE, lists as [a,b], "
            f"text with spaces or special characters in quotes")


def explain(exc: BaseException, overrides: Sequence[str] = ()) -> str:
    """One line for any composition/conversion error: field, value, what is allowed."""
    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, ConfigError):
            return str(e)
        if isinstance(e, yaml.YAMLError):
            return _yaml_message(e)
    top = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    prefix = ""
    m = re.match(r"In '([^']+)': ", top)
    if m and m.group(1) != PRIMARY:
        prefix = f"{_file_of(m.group(1))}: "
    m = re.search(r"Could not (?:find|load) '([^']+)/([^'/]+)'", top)
    if m:
        group, option = m.group(1).lstrip("/"), m.group(2)
        if f"{group}/{option}" in HYDRA_PLUGINS:  # not a file's fault: a plugin is missing
            prefix = ""
        return prefix + _missing_option(group, option)
    m = re.search(r"Could not (?:find|load) '([^']+)'", top)
    if m:
        return prefix + f"{m.group(1)}: no such config"
    if type(exc).__name__ == "OverrideParseException":
        bad = re.search(r"override '([^']*)'", top)
        return _parse_message(bad.group(1) if bad else "", top)
    inner = next((e for e in chain if getattr(e, "full_key", None)), None)
    okey = None
    m = re.search(r"Could not override '([^']+)'", top) or \
        re.search(r"Error merging override ([^=\s]+)=", top)
    if m:
        okey = m.group(1).lstrip("+~")
    if okey is not None:
        key = okey
        if inner is not None and inner.full_key == key:
            value, has_value = inner.value, True
        else:
            value, has_value = _override_value(overrides, key), True
        missing = "Could not override" in top or (inner is not None and "not in" in str(inner))
    elif inner is not None:
        key, value, has_value = inner.full_key, inner.value, True
        missing = isinstance(inner, KeyError) or "not in" in str(inner).splitlines()[0]
    else:
        return prefix + re.sub(r"^In '[^']+': ", "", _one_line(exc))
    if key.startswith("hydra."):  # Hydra's own config (a launcher's options), not the model's schema
        return prefix + (f"{key}: unknown Hydra setting (of Hydra or of the chosen launcher, hydra/launcher=...)"
                         if missing else f"{key}: {str(inner or exc).strip().splitlines()[0]}")
    spot = _lookup(key)
    if spot.kind == "unknown":
        return prefix + _unknown_message(spot)
    if spot.kind == "entry":
        if isinstance(value, dict) or value is None:
            return prefix + _entry_message(spot, value, adding=okey is not None)
        return prefix + _type_message(spot.path, None, spot.tp, value)
    if missing and spot.entries:
        return prefix + _entry_message(spot)
    if spot.entries and inner is not None and "is not a subclass of" in str(inner):
        return prefix + _entry_message(spot, adding=True)  # +firms.new.price=1: a new firm from one field
    if has_value:
        return prefix + _type_message(spot.path, spot.field, spot.tp, value)
    return prefix + _one_line(exc)


