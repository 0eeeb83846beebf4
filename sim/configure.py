"""From Hydra override strings to a validated :class:`~sim.config.SimConfig`.

The schema dataclasses are registered in Hydra's ConfigStore (``base_config``);
``conf/`` holds one config group per concern and ``scenarios/`` (reached as the
``scenario`` group) holds the named bundles.

Every way a config can be wrong ends here as one :class:`ConfigError` line naming
the field, the value and what is allowed: an unknown key (with the closest known
name), a wrong type, a value out of range (:func:`sim.config.validate`), a missing
scenario or group option, a malformed override, a config file that is not plain
YAML data.

Config files are data. YAML is read with a safe loader (OmegaConf's), so tags such
as ``!!python/object`` are refused; only the fields of the schema are accepted, so
``_target_`` and other instantiation keys are unknown fields; and a file in
``conf/`` or ``scenarios/`` may not reach into Hydra's own settings (``hydra.*``:
callbacks, launchers, logging), which Hydra would act on. Nothing in this package
calls ``hydra.utils.instantiate``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import typing
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from .config import ConfigError, SimConfig, describe_allowed, validate

ROOT = Path(__file__).resolve().parents[1]
#: The Hydra config directory (override with the SIM_CONF_DIR environment variable).
CONF_DIR = Path(os.environ.get("SIM_CONF_DIR", ROOT / "conf")).resolve()
SCENARIO_DIR = CONF_DIR / "scenario"
PRIMARY = "config"

ConfigStore.instance().store(name="base_config", node=SimConfig)


def scenario_names() -> list[str]:
    """Names of the scenarios in ``scenarios/`` (what ``scenario=NAME`` accepts)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def scenario_description(name: str) -> str:
    """The comment paragraph at the top of a scenario file."""
    lines = []
    for line in (SCENARIO_DIR / f"{name}.yaml").read_text().splitlines():
        if line.startswith("# @package"):
            continue
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return " ".join(lines)


def config_groups() -> list[str]:
    """The config groups of ``conf/`` (folders: market, customers, firms, scenario)."""
    return sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def group_options(group: str) -> list[str]:
    """What ``GROUP=NAME`` accepts: the YAML files of the group, subfolders as ``sub/name``."""
    folder = CONF_DIR / group
    return sorted(p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.yaml"))


def _label(path: Path) -> str:
    """A config file as the user knows it: ``scenarios/x.yaml`` rather than ``conf/scenario/x.yaml``."""
    real = Path(path).resolve()
    for base in (ROOT, Path.cwd()):
        try:
            return real.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


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


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = "a config file"
    if mark is not None and mark.name:
        where = f"{_label(Path(mark.name))}, line {mark.line + 1}"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    tag = re.search(r"tag '(tag:yaml\.org,2002:)?([^']+)'", str(exc))
    if tag and "constructor" in problem:
        shown = f"!!{tag.group(2)}" if tag.group(1) else tag.group(2)
        return (f"{where}: YAML tag {shown} is not allowed: config files are plain data "
                f"(numbers, strings, lists, mappings)")
    return f"{where}: not valid YAML: {problem}"


def _file_of(config_name: str) -> str:
    """``scenario/target`` (Hydra's name) -> ``scenarios/target.yaml``."""
    return _label(CONF_DIR / f"{config_name}.yaml")


def _missing_option(group: str, option: str) -> str:
    if group in config_groups():
        return f"{group} = {option!r}: no such {group}; allowed: {', '.join(group_options(group))}"
    return f"{group}/{option}: no such config"


def _entry_message(spot: _Spot, value: Any = None, adding: bool = False) -> str:
    dict_path, name = spot.entries[-1]
    kind = dict_path.rsplit(".", 1)[-1].rstrip("s")  # firms -> firm, segments -> segment
    if adding:
        return (f"{dict_path}.{name}: new {kind}s cannot be added on the command line; "
                f"define {kind} {name!r} in a scenario file (see scenarios/)")
    return (f"{dict_path}.{name}: no {kind} named {name!r} in this config; "
            f"{kind}s are defined in scenario files")


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
    spot = _lookup(key)
    if spot.kind == "unknown":
        return prefix + _unknown_message(spot)
    if spot.kind == "entry":
        if isinstance(value, dict) or value is None:
            return prefix + _entry_message(spot, value, adding=okey is not None)
        return prefix + _type_message(spot.path, None, spot.tp, value)
    if missing and spot.entries:
        return prefix + _entry_message(spot)
    if has_value:
        return prefix + _type_message(spot.path, spot.field, spot.tp, value)
    return prefix + _one_line(exc)


# ------------------------------------------------------------ safe config files
_HYDRA_KEYS_REFUSED = "config files are data: they may set model fields, not Hydra's own settings " \
                      "(callbacks, launchers, logging run code); pass hydra options on the command line"
_checked: dict[tuple[str, int, int], list] = {}  # checked files -> their defaults list


def _package_header(text: str) -> str | None:
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s*@package\s+(\S+)", line)
        if m:
            return m.group(1)
    return None


def check_config_file(path: str | os.PathLike, group: str = "") -> list:
    """Refuse a config file that is not plain data or that reaches into ``hydra.*``.

    Read with ``yaml.safe_load`` (no Python tags). Refused: an ``@package`` header
    placing the file in Hydra's node, a top-level ``hydra`` key in a ``_global_``
    file, and defaults-list entries selecting Hydra's groups (``hydra/...``).
    Returns the file's defaults list (checked files are remembered until they change).
    """
    path = Path(path)
    stat = path.stat()
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    if cache_key in _checked:
        return _checked[cache_key]
    label = _label(path)
    text = path.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_message(exc)) from None
    package = _package_header(text)
    pkg = (package if package is not None else group).replace("_group_", group)
    parts = [p for p in pkg.split(".") if p and p != "_global_"]
    if parts and parts[0] == "hydra":
        raise ConfigError(f"{label}: @package {package} puts the file into Hydra's settings: "
                          f"{_HYDRA_KEYS_REFUSED}")
    if isinstance(data, dict):
        if not parts and "hydra" in data:
            sub = data["hydra"]
            shown = "hydra." + next(iter(sub)) if isinstance(sub, dict) and sub else "hydra"
            raise ConfigError(f"{label}: sets {shown}: {_HYDRA_KEYS_REFUSED}")
        for entry in data.get("defaults") or []:
            names = [entry] if isinstance(entry, str) else list(entry) if isinstance(entry, dict) else []
            for name in names:
                if re.search(r"(^|[\s/@])hydra([/.@\s]|$)", str(name)):
                    raise ConfigError(f"{label}: defaults entry {name!r} selects Hydra's own config: "
                                      f"{_HYDRA_KEYS_REFUSED}")
    defaults = list(data.get("defaults") or []) if isinstance(data, dict) else []
    _checked[cache_key] = defaults
    return defaults


def _used_files(choices: dict[str, Any]) -> Iterable[tuple[Path, str]]:
    for group, option in choices.items():
        if option is None or group.startswith("hydra"):
            continue
        path = CONF_DIR / group / f"{option}.yaml"
        if path.is_file():
            yield path, group


def check_used_files(cfg: DictConfig) -> None:
    """Check every config file the composition of ``cfg`` drew on (see :func:`check_config_file`)."""
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    todo = list(_used_files(choices))
    seen: set[Path] = set()
    while todo:
        path, group = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for entry in check_config_file(path, group):
            if isinstance(entry, str) and entry != "_self_":  # a plain config, relative to the group
                target = CONF_DIR / (entry.lstrip("/") if entry.startswith("/") else f"{group}/{entry}")
                target = target.with_suffix(".yaml")
                if target.is_file():
                    todo.append((target, target.parent.relative_to(CONF_DIR).as_posix()))
    callbacks = OmegaConf.to_container(cfg.hydra.callbacks) if "callbacks" in cfg.hydra else None
    if callbacks:
        overrides = OmegaConf.to_container(cfg.hydra.overrides.hydra)
        if not any(str(o).lstrip("+~").startswith(("hydra.callbacks", "hydra/callbacks")) for o in overrides):
            raise ConfigError(f"hydra.callbacks ({', '.join(callbacks)}) set by a config file: "
                              f"{_HYDRA_KEYS_REFUSED}")


# ----------------------------------------------------------------- composition
def check_overrides(overrides: Sequence[str]) -> None:
    """Check override keys against the schema and group options before Hydra composes.

    Catches unknown keys (``+`` or not, with the closest known name), missing
    scenarios and group options, and malformed overrides; values are checked by
    the composition itself.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = []
    for token in overrides:
        try:
            parsed += parser.parse_overrides([token])
        except Exception as exc:  # OverrideParseException
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if problem.startswith("Error parsing override") and len(str(exc).splitlines()) > 1:
                problem = str(exc).splitlines()[1].strip()
            raise ConfigError(_parse_message(token, problem)) from None
    groups = config_groups()
    for o in parsed:
        key = o.key_or_group
        if o.is_hydra_override() or key == "hydra" or o.package is not None:
            continue
        if "." not in key and key in groups:
            if o.is_delete() or o.is_sweep_override():
                continue
            value = o.value()
            if isinstance(value, str) and value not in group_options(key):
                raise ConfigError(_missing_option(key, value))
            continue
        spot = _lookup(key)
        if spot.kind == "unknown":
            raise ConfigError(_unknown_message(spot))


def from_dictconfig(cfg: DictConfig, scenario: str | None = None) -> SimConfig:
    """Convert a composed DictConfig (its ``hydra`` node ignored) into a validated SimConfig."""
    try:
        cfg = cfg.copy()
        with open_dict(cfg):
            cfg.pop("hydra", None)
        check_keys(OmegaConf.to_container(cfg, resolve=False))
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc)) from None
    if not isinstance(obj, SimConfig):
        raise ConfigError("config is not a SimConfig: the primary config must start from base_config")
    if scenario and not obj.scenario:
        obj.scenario = scenario
    return validate(obj)


@dataclasses.dataclass
class Composed:
    """One job's validated config and where Hydra would write it."""

    config: SimConfig
    overrides: list[str]
    run_dir: str | None = None
    sweep_dir: str | None = None


def _compose_one(overrides: list[str], dirs: bool) -> Composed:
    check_overrides(overrides)
    try:
        cfg = compose(PRIMARY, overrides=overrides, return_hydra_config=True)
    except Exception as exc:  # Hydra raises several unrelated exception types
        raise ConfigError(explain(exc, overrides)) from None
    check_used_files(cfg)
    scenario = cfg.hydra.runtime.choices.get("scenario")
    out = Composed(from_dictconfig(cfg, scenario), overrides)
    if dirs:
        HydraConfig.instance().set_config(cfg)  # lets ${hydra:...} in the dirs resolve
        out.run_dir = str(cfg.hydra.run.dir)
        out.sweep_dir = str(cfg.hydra.sweep.dir)
    return out


def compose_jobs(jobs: Sequence[Sequence[str]], dirs: bool = False) -> list[Composed]:
    """Compose and validate several override lists (sweep jobs) under one Hydra context.

    A bad job raises :class:`ConfigError` whose message starts with ``job K`` when
    there is more than one job.
    """
    GlobalHydra.instance().clear()
    out = []
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR), job_name="sim"):
            for k, job in enumerate(jobs):
                try:
                    out.append(_compose_one(list(job), dirs))
                except ConfigError as exc:
                    if len(jobs) == 1:
                        raise
                    raise ConfigError(f"job {k} ({' '.join(job)}): {exc}") from None
    finally:
        GlobalHydra.instance().clear()
    return out


def compose_config(overrides: list[str] | tuple[str, ...] = ()) -> SimConfig:
    """Compose ``conf/`` with command-line style overrides, e.g. ``["scenario=baseline", "seed=3"]``."""
    return compose_jobs([list(overrides)])[0].config


def expand_sweep(overrides: Sequence[str]) -> list[list[str]]:
    """The jobs of a multirun (``-m``) as override lists, as Hydra's basic sweeper makes them.

    ``seed=0,1 scenario=a,b`` gives four jobs; ``range(...)`` and ``glob(...)`` work too.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR), job_name="sim"):
            loader = GlobalHydra.instance().config_loader()
            parser = OverridesParser.create(config_loader=loader)
            try:
                parsed = parser.parse_overrides(list(overrides))
                batches = BasicSweeper.split_arguments(parsed, None)
            except Exception as exc:
                raise ConfigError(explain(exc, overrides)) from None
    finally:
        GlobalHydra.instance().clear()
    return [list(job) for job in batches[0]]


def to_yaml(cfg: SimConfig) -> str:
    """The resolved config as YAML (what is stored with every run)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def as_config(config: Any = None, overrides: list[str] | tuple[str, ...] = ()) -> SimConfig:
    """Accept a SimConfig, a DictConfig, a mapping, or nothing (compose with ``overrides``).

    The result is validated and checked against the memory available
    (:func:`sim.guard.check_memory`), since a model is about to be allocated from it.
    """
    from .guard import check_memory

    overrides = list(overrides)
    if config is None:
        cfg = compose_config(overrides)
    elif isinstance(config, SimConfig):
        cfg = config
        if overrides:
            check_overrides(overrides)
            try:
                merged = OmegaConf.merge(OmegaConf.structured(cfg), OmegaConf.from_dotlist(overrides))
            except OmegaConfBaseException as exc:
                raise ConfigError(explain(exc, overrides)) from None
            cfg = from_dictconfig(merged)
        validate(cfg)
    elif isinstance(config, (DictConfig, dict)):
        check_overrides(overrides)
        try:
            raw = OmegaConf.create(config) if isinstance(config, dict) else config
            check_keys(OmegaConf.to_container(raw, resolve=False))
            merged = OmegaConf.merge(OmegaConf.structured(SimConfig), raw, OmegaConf.from_dotlist(overrides))
        except OmegaConfBaseException as exc:
            raise ConfigError(explain(exc, overrides)) from None
        cfg = from_dictconfig(merged)
    else:
        raise ConfigError(f"config: expected SimConfig, DictConfig or dict, got {type(config).__name__}")
    check_memory(cfg)
    return cfg
