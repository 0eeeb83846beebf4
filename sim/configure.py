"""From Hydra override strings to a validated :class:`~sim.config.SimConfig`.

The schema dataclasses are registered in Hydra's ConfigStore (``base_config``);
``conf/`` holds one config group per concern and ``scenarios/`` (reached as the
``scenario`` group) holds the named bundles. Composition errors (unknown keys,
wrong types, a scenario that does not exist) become :class:`ConfigError` with one
line naming the field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from .config import ConfigError, SimConfig, validate

ROOT = Path(__file__).resolve().parents[1]
#: The Hydra config directory (override with the SIM_CONF_DIR environment variable).
CONF_DIR = Path(os.environ.get("SIM_CONF_DIR", ROOT / "conf")).resolve()
SCENARIO_DIR = CONF_DIR / "scenario"

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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    for line in text.splitlines():
        if line.startswith("full_key:"):
            return f"{line.split(':', 1)[1].strip()}: {first}"
    return first


def from_dictconfig(cfg: DictConfig, scenario: str | None = None) -> SimConfig:
    """Convert a composed DictConfig (its ``hydra`` node ignored) into a validated SimConfig."""
    try:
        cfg = cfg.copy()
        with open_dict(cfg):
            cfg.pop("hydra", None)
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(_one_line(exc)) from None
    if not isinstance(obj, SimConfig):
        raise ConfigError("config is not a SimConfig: the primary config must start from base_config")
    if scenario and not obj.scenario:
        obj.scenario = scenario
    return validate(obj)


def compose_config(overrides: list[str] | tuple[str, ...] = ()) -> SimConfig:
    """Compose ``conf/`` with command-line style overrides, e.g. ``["scenario=baseline", "seed=3"]``."""
    overrides = list(overrides)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR), job_name="sim"):
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
            scenario = cfg.hydra.runtime.choices.get("scenario")
    except Exception as exc:  # Hydra raises several unrelated exception types
        if isinstance(exc, ConfigError):
            raise
        msg = _one_line(exc)
        if "scenario" in msg and ("not found" in msg.lower() or "could not" in msg.lower()):
            msg = f"scenario: no such scenario; allowed: {', '.join(scenario_names())}"
        raise ConfigError(msg) from None
    finally:
        GlobalHydra.instance().clear()
    return from_dictconfig(cfg, scenario)


def to_yaml(cfg: SimConfig) -> str:
    """The resolved config as YAML (what is stored with every run)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def as_config(config: Any = None, overrides: list[str] | tuple[str, ...] = ()) -> SimConfig:
    """Accept a SimConfig, a DictConfig, a mapping, or nothing (compose with ``overrides``)."""
    if config is None:
        return compose_config(overrides)
    if isinstance(config, SimConfig):
        cfg = config
        if overrides:
            merged = OmegaConf.merge(OmegaConf.structured(cfg), OmegaConf.from_dotlist(list(overrides)))
            cfg = from_dictconfig(merged)
        return validate(cfg)
    if isinstance(config, (DictConfig, dict)):
        try:
            merged = OmegaConf.merge(OmegaConf.structured(SimConfig), config,
                                     OmegaConf.from_dotlist(list(overrides)))
        except OmegaConfBaseException as exc:
            raise ConfigError(_one_line(exc)) from None
        return from_dictconfig(merged)
    raise ConfigError(f"config: expected SimConfig, DictConfig or dict, got {type(config).__name__}")
