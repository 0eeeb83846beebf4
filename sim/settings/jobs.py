"""Many jobs composed fast: Hydra once per structure, the plain values applied to a copy.

:func:`compose_many` checks a whole sweep at once (the command line, the sweep driver);
:class:`JobComposer` composes one job at a time with the same shortcut, keeping what it
composed for the next job (a sweep's worker process, which runs job after job). Both
give exactly what :func:`sim.settings.compose.compose_jobs` gives, job by job
(``tests/settings/test_jobs.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import typing
from collections.abc import Sequence

from .compose import Composed, compose_jobs, explain, from_dictconfig, job_label
from .errors import _lookup
from .files import CONF_DIR, config_groups
from .schema import ConfigError, SimConfig, validate


def _interpolations_in_conf() -> bool:
    """True if any model config file (``conf/``, ``scenarios/``) uses ``${...}`` interpolation."""
    for path in CONF_DIR.rglob("*.yaml"):
        rel = path.relative_to(CONF_DIR).parts
        if rel[0] == "hydra" or rel == ("config.yaml",):
            continue
        if "${" in path.read_text():
            return True
    return False


@functools.cache
def _parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


def _plain_value_overrides(job: Sequence[str]) -> tuple[tuple[str, ...], dict[str, object]] | None:
    """Split a job into its structural overrides and plain ``field=value`` overrides (parsed as Hydra does).

    Plain: an existing leaf field of the schema set to a value (no ``+``/``~``, no group choice,
    no sweep syntax). ``None`` if the job cannot be parsed.
    """
    try:
        parsed = _parser().parse_overrides(list(job))
    except Exception:
        return None
    groups = config_groups()
    structural, plain = [], {}
    for text, o in zip(job, parsed, strict=True):
        key = o.key_or_group
        if (o.is_hydra_override() or o.package is not None or o.is_sweep_override() or o.is_add()
                or o.is_delete() or o.is_force_add() or key in groups or _lookup(key).kind != "field"):
            structural.append(text)
        else:
            plain[key] = o.value()
    return tuple(structural), plain


def _set_plain(cfg, key: str, value: object) -> bool:
    """Set the leaf field ``key`` of the dataclass ``cfg`` to ``value`` if its type is exactly the
    field's (an int for a float field becomes a float, as OmegaConf makes it); False otherwise."""
    obj = cfg
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(obj, dict):
            if part not in obj:
                return False
            obj = obj[part]
        elif dataclasses.is_dataclass(obj) and hasattr(obj, part):
            obj = getattr(obj, part)
        else:
            return False
    name = parts[-1]
    if not dataclasses.is_dataclass(obj) or name not in {f.name for f in dataclasses.fields(obj)}:
        return False
    tp = typing.get_type_hints(type(obj))[name]
    if tp is bool and isinstance(value, bool):
        pass
    elif tp is int and isinstance(value, int) and not isinstance(value, bool):
        pass
    elif tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    elif tp is str and isinstance(value, str):
        pass
    else:
        return False
    setattr(obj, name, value)
    return True


def _derive(base: SimConfig, plain: dict[str, object], job: list[str]) -> SimConfig:
    """The config of ``job``: ``base`` (a job of the same structure, composed by Hydra) with the
    plain values of ``job`` applied as Hydra applies an override, then validated. Raises
    :class:`ConfigError` (without the job's label)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    fast = copy.deepcopy(base)
    if all(_set_plain(fast, key, value) for key, value in plain.items()):
        return validate(fast)
    try:  # a value of another type: OmegaConf converts it or says what is wrong, as in Hydra
        node = OmegaConf.structured(base)
        for key, value in plain.items():
            OmegaConf.update(node, key, value, merge=True)
        return from_dictconfig(node, base.scenario)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc, job)) from None


def compose_many(jobs: Sequence[Sequence[str]], first_dirs: bool = False) -> list[Composed]:
    """Compose and validate many jobs quickly: the same result as :func:`sim.settings.compose.compose_jobs`.

    Hydra composes one job per distinct structure (group choices, added or deleted
    keys, and the set of plain keys set); the jobs that differ from it only in the
    values of plain fields (a seed, a price...) get those values applied to a copy
    of its config exactly as Hydra applies an override (``OmegaConf.update``), then
    the same validation. Without this, checking a sweep cost a full Hydra
    composition (about 80 ms) per job. With ``${...}`` interpolations in the config
    files (a changed value could move another), every job is composed by Hydra.
    """
    jobs = [list(j) for j in jobs]
    if len(jobs) <= 1 or _interpolations_in_conf():
        return compose_jobs(jobs, dirs=first_dirs)
    split = [_plain_value_overrides(j) for j in jobs]
    if any(s is None for s in split):
        return compose_jobs(jobs, dirs=first_dirs)
    reps: dict[tuple, int] = {}
    for k, (structural, plain) in enumerate(split):
        reps.setdefault((structural, tuple(plain)), k)
    rep_jobs = sorted(set(reps.values()))
    try:
        composed_reps = compose_jobs([jobs[k] for k in rep_jobs], dirs=first_dirs)
    except ConfigError as exc:
        if len(rep_jobs) == 1 and len(jobs) > 1:  # name the job, as compose_jobs does for several
            raise ConfigError(f"job {rep_jobs[0]} ({job_label(jobs[rep_jobs[0]])}): {exc}") from None
        msg = str(exc)
        if msg.startswith("job "):  # renumber: job i of the representatives is job rep_jobs[i] of the sweep
            i, rest = msg[4:].split(" ", 1)
            raise ConfigError(f"job {rep_jobs[int(i)]} {rest}") from None
        raise
    by_job = dict(zip(rep_jobs, composed_reps, strict=True))
    out = []
    for k, (structural, plain) in enumerate(split):
        rep = reps[(structural, tuple(plain))]
        if k == rep:
            out.append(by_job[k])
            continue
        base = by_job[rep]
        try:
            cfg = _derive(base.config, plain, jobs[k])
        except ConfigError as exc:
            raise ConfigError(f"job {k} ({job_label(jobs[k])}): {exc}") from None
        out.append(Composed(cfg, jobs[k], base.run_dir, base.sweep_dir))
    return out


class JobComposer:
    """Compose jobs one at a time, as :func:`compose_many` composes a list.

    The first job of each structure is composed by Hydra (tens of milliseconds) and kept;
    a later job of the same structure is derived from it (a copy, its plain values, the
    validation: about a millisecond). A sweep's worker process keeps one for all the jobs it
    runs. :meth:`compose` returns the validated :class:`~sim.settings.schema.SimConfig` or
    raises :class:`ConfigError` (one line).
    """

    def __init__(self) -> None:
        self._bases: dict[tuple, SimConfig] = {}
        self._hydra_only: bool | None = None  # config files with ${...}: Hydra composes every job

    def compose(self, job: Sequence[str]) -> SimConfig:
        job = list(job)
        if self._hydra_only is None:
            self._hydra_only = _interpolations_in_conf()
        split = None if self._hydra_only else _plain_value_overrides(job)
        if split is None:
            return compose_jobs([job])[0].config
        structural, plain = split
        key = (structural, tuple(plain))
        base = self._bases.get(key)
        if base is None:
            cfg = compose_jobs([job])[0].config
            self._bases[key] = copy.deepcopy(cfg)
            return cfg
        return _derive(base, plain, job)
