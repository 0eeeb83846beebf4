"""Where the config files are, what they may hold, and how a bad one is refused.

``conf/`` holds one config group per concern (market, customers, firms) and
``scenarios/`` (reached as the ``scenario`` group) holds the named bundles.

Config files are data. YAML is read with a safe loader, so tags such as
``!!python/object`` are refused; a file in ``conf/`` or ``scenarios/`` may not reach
into Hydra's own settings (``hydra.*``: callbacks, launchers, logging), which Hydra
would act on (:func:`check_config_file`, :func:`check_used_files`). Only the fields of
the schema are accepted (:func:`sim.settings.errors.check_keys`), so ``_target_`` and other
instantiation keys are unknown fields; nothing in this package calls
``hydra.utils.instantiate``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from .schema import ConfigError

ROOT = Path(__file__).resolve().parents[2]
#: The Hydra config directory (override with the SIM_CONF_DIR environment variable).
CONF_DIR = Path(os.environ.get("SIM_CONF_DIR", ROOT / "conf")).resolve()
SCENARIO_DIR = CONF_DIR / "scenario"


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


