"""From Hydra override strings to a validated :class:`~sim.settings.schema.SimConfig`: composition.

The schema dataclasses are registered in Hydra's ConfigStore (``base_config``);
:func:`compose_jobs` composes ``conf/`` with override lists under one Hydra context,
checks the files each composition drew on (:mod:`sim.settings.files`) and converts the
result into a validated SimConfig; any failure is one :class:`~sim.settings.schema.ConfigError`
line (:mod:`sim.settings.errors`). :func:`expand_sweep` is the one place that uses Hydra's
private API (its basic sweeper's expansion of a multirun).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
import warnings
from collections.abc import Sequence
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from . import files as conffiles
from .errors import (
    PRIMARY,
    _lookup,
    _missing_option,
    _parse_message,
    _unknown_message,
    check_keys,
    explain,
    missing_entry,
)
from .files import (  # noqa: F401  (part of this module's API)
    CONF_DIR,
    SCENARIO_DIR,
    check_used_files,
    config_groups,
    group_options,
    scenario_description,
    scenario_names,
)
from .schema import ConfigError, SimConfig, validate

ConfigStore.instance().store(name="base_config", node=SimConfig)

__all__ = ["CONF_DIR", "SCENARIO_DIR", "Composed", "as_config", "check_overrides", "compose_config",
           "compose_jobs", "expand_sweep", "from_dictconfig", "override_list", "scenario_description",
           "scenario_names", "to_yaml"]


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


def _with_entry_names(message: str, overrides: list[str]) -> str:
    """An error about a firm or segment the config does not define, with the names it does define.

    Only group choices (``scenario=...``, ``firms=...``) decide which firms and segments
    exist; the config they compose gives the allowed names.
    """
    if " named " not in message and " cannot be added" not in message:
        return message
    choices = [o for o in overrides if "=" in o and "." not in o.partition("=")[0] and not o.startswith(("+", "~"))]
    try:
        cfg = compose(PRIMARY, overrides=choices)
    except Exception:
        return message
    return missing_entry(cfg, overrides) or message


def _compose_one(overrides: list[str], dirs: bool) -> Composed:
    check_overrides(overrides)
    try:
        cfg = compose(PRIMARY, overrides=overrides, return_hydra_config=True)
    except Exception as exc:  # Hydra raises several unrelated exception types
        raise ConfigError(_with_entry_names(explain(exc, overrides), overrides)) from None
    check_used_files(cfg)
    scenario = cfg.hydra.runtime.choices.get("scenario")
    out = Composed(from_dictconfig(cfg, scenario), overrides)
    if dirs:
        HydraConfig.instance().set_config(cfg)  # lets ${hydra:...} in the dirs resolve
        out.run_dir = str(cfg.hydra.run.dir)
        out.sweep_dir = str(cfg.hydra.sweep.dir)
    return out


#: Hydra's deprecation warning for a config file that extends a plugin's schema of the same name
#: (``conf/hydra/launcher/ray.yaml`` does so on purpose): silenced wherever Hydra composes.
SCHEMA_MATCH_WARNING = r"(?s).*is validated against ConfigStore schema"


def job_label(overrides: Sequence[str]) -> str:
    """A job's settings as an error line names them: its overrides without Hydra's own (``hydra.sweep.dir=``,
    ``hydra/launcher=``...), which say where and how it runs, not what."""
    return " ".join(o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/")))


def compose_jobs(jobs: Sequence[Sequence[str]], dirs: bool = False) -> list[Composed]:
    """Compose and validate several override lists (sweep jobs) under one Hydra context.

    A bad job raises :class:`ConfigError` whose message starts with ``job K`` when
    there is more than one job.
    """
    GlobalHydra.instance().clear()
    out = []
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(conffiles.CONF_DIR), job_name="sim"), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=SCHEMA_MATCH_WARNING)
            for k, job in enumerate(jobs):
                try:
                    out.append(_compose_one(list(job), dirs))
                except ConfigError as exc:
                    if len(jobs) == 1:
                        raise
                    raise ConfigError(f"job {k} ({job_label(job)}): {exc}") from None
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
        with initialize_config_dir(version_base="1.3", config_dir=str(conffiles.CONF_DIR), job_name="sim"):
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


def override_list(overrides: Any, what: str = "overrides") -> list[str]:
    """Override strings as a list: a list or tuple of strings, or one string split as a shell
    would split a command line (``"scenario=baseline seed=3"``); anything else is a ConfigError."""
    import shlex

    if overrides is None:
        return []
    if isinstance(overrides, str):
        try:
            return shlex.split(overrides)
        except ValueError as exc:
            raise ConfigError(f"{what} = {overrides!r}: {exc}") from None
    if isinstance(overrides, (list, tuple)):
        bad = [o for o in overrides if not isinstance(o, str)]
        if bad:
            raise ConfigError(f"{what}: {bad[0]!r} is not an override string: write overrides as "
                              f"strings like 'seed=3'")
        return list(overrides)
    raise ConfigError(f"{what}: expected a list of override strings (or one string), got "
                      f"{type(overrides).__name__}")


def to_yaml(cfg: SimConfig) -> str:
    """The resolved config as YAML (what is stored with every run).

    The text of ``OmegaConf.to_yaml(OmegaConf.structured(cfg))`` (the tests check it for
    every scenario and any text in its fields), made without building an OmegaConf tree and,
    when its text is printable ASCII (as every config in conf/ and scenarios/), emitted by
    libyaml with OmegaConf's representer of strings: 1.5 ms instead of 25 (4 ms with PyYAML's
    Python emitter, used otherwise and where libyaml is missing).
    """
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    plain = _plain(cfg, type(cfg))
    # libyaml writes some characters beyond ASCII otherwise than the Python emitter (U+10000 unescaped)
    fast = _c_dumper() if all(t.isascii() and t.isprintable() for t in _texts(plain)) else None
    return yaml.dump(plain, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=fast or get_omega_conf_dumper())


def _texts(value: Any):
    """Every key and string in the plain containers ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)
    elif isinstance(value, str):
        yield value


@functools.cache
def _c_dumper() -> type | None:
    """OmegaConf's YAML dumper (its representer of strings quotes what would read back as another type)
    on libyaml's emitter; None without libyaml."""
    import yaml
    from omegaconf._utils import OmegaConfDumper

    if not yaml.__with_libyaml__:
        return None

    class Dumper(yaml.CDumper):
        pass

    Dumper.add_representer(str, OmegaConfDumper.str_representer)
    return Dumper


def _plain(value: Any, tp: Any) -> Any:
    """``value`` as the plain containers OmegaConf would give for a field of type ``tp``: dataclasses
    as dicts in field order, numbers converted to the field's type."""
    if dataclasses.is_dataclass(tp):
        hints = _field_types(tp)
        return {f.name: _plain(getattr(value, f.name), hints[f.name]) for f in dataclasses.fields(tp)}
    origin = typing.get_origin(tp)
    if origin is dict:
        item = typing.get_args(tp)[1]
        return {str(k): _plain(v, item) for k, v in value.items()}
    if origin is list:
        item = typing.get_args(tp)[0]
        return [_plain(v, item) for v in value]
    if tp in (float, int, str, bool):
        return tp(value)
    return value


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def as_config(config: Any = None, overrides: list[str] | tuple[str, ...] = ()) -> SimConfig:
    """Accept a SimConfig, a DictConfig, a mapping, or nothing (compose with ``overrides``).

    The result is validated (the memory a run of it needs is checked where the model
    is built, :func:`sim.results.memory.check_memory`).
    """
    overrides = override_list(overrides)
    if config is None:
        cfg = compose_config(overrides)
    elif isinstance(config, SimConfig):
        cfg = config
        if overrides:
            check_overrides(overrides)
            problem = missing_entry(cfg, overrides)
            if problem:
                raise ConfigError(problem)
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
            merged = OmegaConf.merge(OmegaConf.structured(SimConfig), raw)
            problem = missing_entry(merged, overrides)
            if problem:
                raise ConfigError(problem)
            merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(overrides))
        except OmegaConfBaseException as exc:
            raise ConfigError(explain(exc, overrides)) from None
        cfg = from_dictconfig(merged)
    else:
        raise ConfigError(f"config: expected SimConfig, DictConfig or dict, got {type(config).__name__}")
    return cfg
