"""The model as an EMA Workbench model: uncertainties and levers from the config schema,
outcomes from the run's Dataset.

:func:`ema_model` builds an ``ema_workbench.Model`` (one seed) or ``ReplicatorModel``
(several seeds, one replication each) whose function runs the simulation, so the
workbench's samplers, evaluators (``SequentialEvaluator``, ``MultiprocessingEvaluator``)
and analyses (PRIM, feature scoring: :mod:`sim.study.discovery`) apply unchanged::

    from ema_workbench import SequentialEvaluator, perform_experiments
    from sim.study.ema import ema_model

    model = ema_model(
        uncertainties={"market.beta_human": (1.5, 4.5), "market.review_hazard": None},  # None: the schema's range
        levers={"firms.both.human": (0.5, 1.0)},
        outcomes={"share_both": {"variable": "share", "firm": "both", "reduce": "last"},
                  "hhi_mean": {"variable": "hhi", "reduce": "mean"},
                  "e_series": {"variable": "digital_expectation", "reduce": "series"}},
        base_overrides=["scenario=disruptor"], customers=2000, steps=60, seeds=0)
    experiments, outcomes = perform_experiments(model, scenarios=16, policies=2)

**Uncertainties and levers** name config paths, as in an override: ``market.contact_rate``,
``market.adoption.imitation``, ``firms.<firm>.human``, ``customers.segments.<segment>.literacy``
(the rows of ``sim.settings.schema.field_docs()``, with the scenario's own firm and segment
names). A numeric field becomes a ``RealParameter`` (an ``IntegerParameter`` for whole-number
fields) over the field's allowed range, or over ``(low, high)`` inside it; a choice field
(``firms.<firm>.steering``) becomes a ``CategoricalParameter`` over its options, or over a
given list of them. Workbench names must be Python identifiers, so a path's dots become
double underscores (``market__beta_human``, :func:`ema_name`); the function the workbench
calls maps them back, and :func:`config_path` does so for tables.

**Outcomes** use the rule of :mod:`sim.study.options` (its ``Output``): ``variable``
(a firm or market variable of :mod:`sim.results.output`), ``firm`` (a firm of the scenario,
or ``all``: summed over firms for ``reduce: sum``, otherwise weighted by customers),
``steps: [first, last]`` (default every step), ``fill`` (the value of an undefined result,
e.g. the NPS of a firm without customers; NaN otherwise) and ``reduce``:

* ``last``: the value at the last step of the window (a ``ScalarOutcome``);
* ``mean``: the mean over the window's steps, undefined steps skipped (``ScalarOutcome``);
* ``sum``: the sum over the window's steps (``ScalarOutcome``);
* ``series``: the value at every step of the window (an ``ArrayOutcome``, one entry per step).

**Seeds**: ``seeds=s`` (an int) gives a ``Model`` whose every experiment runs with seed ``s``
(common random numbers across experiments); ``seeds=[s1, s2, ...]`` a ``ReplicatorModel``
that runs every experiment once per seed and reports each outcome's mean over the seeds
(:func:`seed_mean`, the workbench's outcome ``function``; NaN if a seed gives NaN), so scalar
outcomes stay scalars for PRIM and feature scoring. Each run equals
``sim.run(base_overrides + [customers.n=..., steps=...] + [path=value ...], seed=s)`` (tested).

Everything is checked when the model is built, before anything runs: an unknown path, a
range outside the schema's, an unknown variable or firm, a bad window; each is one
:class:`~sim.settings.schema.ConfigError` line naming the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..runner.design import point_overrides
from ..settings.schema import ConfigError, SimConfig, allowed_range
from .options import REDUCE, Output, check_against_model, parse_outputs
from .sensitivity import reduce_output

#: The outcome reductions: the scalar ones of :mod:`sim.study.sensitivity`, and ``series``.
SERIES = "series"
REDUCTIONS = (*REDUCE, SERIES)
#: Default size of a run: small enough for hundreds of experiments on a laptop.
DEFAULT_CUSTOMERS = 2000
#: Workbench columns that are bookkeeping, not parameters.
BOOKKEEPING = ("scenario", "policy", "model")


def workbench():
    """The ``ema_workbench`` package (the ``analysis`` extra), imported quietly: it warns at
    import that ipyparallel (an evaluator we do not use) is missing."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*ipyparallel.*")
            import ema_workbench
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigError("the EMA Workbench is not installed: pip install 'customer-sim[analysis]'") from None
    return ema_workbench


def ema_name(path: str) -> str:
    """The workbench name of a config path: dots become double underscores
    (``firms.both.human`` -> ``firms__both__human``), a Python identifier as the workbench asks."""
    return path.replace(".", "__")


def config_path(name: str) -> str:
    """The config path of a workbench name (inverse of :func:`ema_name`)."""
    return name.replace("__", ".")


# --------------------------------------------------------------------- the schema
@dataclasses.dataclass(frozen=True)
class Field:
    """A config field found by its path: its metadata and current value in the base config."""

    path: str
    meta: Mapping[str, Any]
    value: Any


def _numeric_paths(obj: Any, prefix: str = "") -> list[str]:
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if "range" in f.metadata or "options" in f.metadata:
            out.append(prefix + f.name)
        elif dataclasses.is_dataclass(value):
            out += _numeric_paths(value, f"{prefix}{f.name}.")
        elif isinstance(value, dict):
            for key, item in value.items():
                if dataclasses.is_dataclass(item):
                    out += _numeric_paths(item, f"{prefix}{f.name}.{key}.")
    return out


def find_field(cfg: SimConfig, path: str, role: str = "parameter") -> Field:
    """The field at ``path`` in ``cfg`` (``market.contact_rate``, ``firms.both.human``), or one
    ConfigError line naming the path and what is allowed (the closest known paths)."""
    import difflib

    if not isinstance(path, str) or not path:
        raise ConfigError(f"{role} {path!r}: expected a config path such as market.contact_rate")
    obj: Any = cfg
    parts = path.split(".")
    meta: Mapping[str, Any] | None = None
    for k, part in enumerate(parts):
        where = ".".join(parts[:k])
        if isinstance(obj, dict):
            if part not in obj:
                raise ConfigError(f"{role} {path}: no entry {part!r} in {where}; allowed: {', '.join(obj) or 'none'}")
            obj, meta = obj[part], None
        elif dataclasses.is_dataclass(obj):
            fields = {f.name: f for f in dataclasses.fields(obj)}
            if part not in fields:
                close = difflib.get_close_matches(path, _numeric_paths(cfg), n=3)
                hint = f"; did you mean {' or '.join(close)}?" if close else (
                    "; see the config paths of sim.settings.schema.field_docs() (python -m sim --help)")
                raise ConfigError(f"{role} {path}: unknown config path{hint}")
            obj, meta = getattr(obj, part), fields[part].metadata
        else:
            raise ConfigError(f"{role} {path}: {where} is a single value, it has no field {part!r}")
    if meta is None or not ("range" in meta or "options" in meta):
        what = "a group of settings" if dataclasses.is_dataclass(obj) or isinstance(obj, dict) else \
            f"a {type(obj).__name__}"
        raise ConfigError(f"{role} {path}: {what}, not a number or a choice; allowed: a numeric or choice field "
                          "(sim.settings.schema.field_docs())")
    return Field(path, meta, obj)


def _parameter(cfg: SimConfig, path: str, spec: Any, role: str):
    """The workbench parameter of ``path``: its range (or options) from the schema, narrowed by ``spec``."""
    ema = workbench()
    if path == "seed":
        raise ConfigError(f"{role} seed: seeds are given by seeds= (an int, or a list for replications)")
    fld = find_field(cfg, path, role)
    name = ema_name(path)
    if "options" in fld.meta:
        options = tuple(fld.meta["options"])
        chosen = options if spec is None else spec
        if isinstance(chosen, str) or not isinstance(chosen, (list, tuple)) or not chosen \
                or any(o not in options for o in chosen):
            raise ConfigError(f"{role} {path} = {spec!r}: allowed a list of options among {', '.join(options)}")
        return ema.CategoricalParameter(name, list(chosen), variable_name=path)
    lo_s, hi_s = fld.meta["range"]
    integer = bool(fld.meta.get("integer", False))
    units = f" ({fld.meta['units']})" if fld.meta.get("units") else ""
    allowed = f"allowed {allowed_range(fld.meta)}{units}"
    if spec is None:
        if not (math.isfinite(lo_s) and math.isfinite(hi_s)):
            raise ConfigError(f"{role} {path}: the schema's range {allowed_range(fld.meta)} is unbounded; "
                              "give (low, high)")
        lo, hi = lo_s, hi_s
    else:
        if (isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence) or len(spec) != 2
                or not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in spec)):
            raise ConfigError(f"{role} {path} = {spec!r}: expected (low, high) inside the {allowed}")
        lo, hi = float(spec[0]), float(spec[1])
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo < lo_s or hi > hi_s:
            raise ConfigError(f"{role} {path}: range [{lo:g}, {hi:g}] is outside the schema's range: {allowed}")
        if not lo < hi:
            raise ConfigError(f"{role} {path}: range [{lo:g}, {hi:g}] is empty: give low < high, {allowed}")
        if integer and (lo != int(lo) or hi != int(hi)):
            raise ConfigError(f"{role} {path}: range [{lo:g}, {hi:g}] must be whole numbers, {allowed}")
    if integer:
        return ema.IntegerParameter(name, int(lo), int(hi), variable_name=path)
    return ema.RealParameter(name, float(lo), float(hi), variable_name=path)


def _as_specs(raw: Any, role: str) -> dict[str, Any]:
    """``{path: spec}`` from a mapping, or from a list of paths (each over the schema's range)."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, (list, tuple)) and all(isinstance(p, str) for p in raw):
        return dict.fromkeys(raw)
    raise ConfigError(f"{role}: expected a list of config paths or a mapping path -> (low, high) | None")


# --------------------------------------------------------------------- the simulation
@dataclasses.dataclass
class Simulation:
    """The function the workbench calls: one run of the simulation, reduced to the outcomes.

    Called with keyword arguments ``{config path: value, ..., "seed": s}``; returns
    ``{outcome name: float or 1-D array}``. A plain picklable object, so the
    ``MultiprocessingEvaluator`` can send it to its worker processes.
    """

    base: SimConfig
    outputs: tuple[Output, ...]
    series: frozenset[str]

    def overrides(self, values: Mapping[str, Any]) -> list[str]:
        """The override strings of one experiment (its parameter values, by config path)."""
        return point_overrides({path: (str(v) if isinstance(v, str) else v) for path, v in values.items()})

    def __call__(self, seed: int = 0, **values: Any) -> dict[str, Any]:
        from ..api import run

        ds = run(self.overrides(values), seed=int(seed), config=self.base)
        return outcome_values(ds, self.outputs, self.series)


def outcome_values(ds, outputs: Sequence[Output], series: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """The outcomes of one run's Dataset: a float per scalar outcome (:func:`sim.study.sensitivity.reduce_output`),
    an array over the window's steps per series outcome (the same firm rule, no reduction over steps)."""
    out: dict[str, Any] = {}
    for o in outputs:
        if o.name not in series:
            out[o.name] = float(reduce_output(ds, o))
            continue
        da = ds[o.variable]
        if o.steps is not None:
            da = da.sel(step=slice(*o.steps))
        if "firm" in da.dims:
            if o.firm == "all":  # as reduce_output: customer-weighted mean over the firms with a value
                w = ds["customers"].sel(step=da.step).astype(float)
                da = (da * w).sum("firm") / w.where(da.notnull()).sum("firm")
            else:
                da = da.sel(firm=o.firm)
        if o.fill is not None:
            da = da.fillna(o.fill)
        out[o.name] = np.asarray(da.values, dtype=float)
    return out


def _outcomes(raw: Any, base_overrides: list[str]) -> tuple[list[Output], frozenset[str]]:
    """Outcome specs (the format of :func:`sim.study.options.parse_outputs`, plus ``reduce: series``)."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError("outcomes: expected a mapping name -> {variable: ..., firm: ..., reduce: last|mean|sum|"
                          "series, steps: [first, last]}")
    plain, series = {}, set()
    for name, spec in raw.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"outcomes: name {name!r} must be a Python identifier (letters, digits, _), "
                              "as the EMA Workbench requires")
        if isinstance(spec, Mapping) and spec.get("reduce") == SERIES:
            series.add(name)
            spec = {**spec, "reduce": "last"}
        elif isinstance(spec, Mapping) and "reduce" in spec and spec["reduce"] not in REDUCTIONS:
            raise ConfigError(f"outcomes.{name}.reduce: {spec['reduce']!r}; allowed: {', '.join(REDUCTIONS)}")
        plain[name] = spec
    outputs = [o for o, _ in parse_outputs(plain, where="outcomes")]
    check_against_model(base_overrides, outputs, where="outcomes")
    return outputs, frozenset(series)


def seed_mean(values: Sequence[Any]) -> Any:
    """The mean over seeds of a replicated outcome (a float, or an array over steps); NaN stays NaN."""
    mean = np.mean(np.asarray(values, dtype=float), axis=0)
    return float(mean) if np.ndim(mean) == 0 else mean


def _outcome(ema, o: Output, series: bool, replicated: bool):
    """A ``ScalarOutcome`` (or an ``ArrayOutcome`` for a series); replicated: the mean over the seeds."""
    cls = ema.ArrayOutcome if series else ema.ScalarOutcome
    try:
        return cls(o.name, function=seed_mean if replicated else None)
    except ValueError as exc:  # the workbench registers each outcome name with one class per process
        raise ConfigError(f"outcomes.{o.name}: this Python session already has an outcome {o.name!r} of the other "
                          f"kind (scalar or series; the EMA Workbench allows one per name): choose another name"
                          ) from exc


def ema_model(uncertainties: Mapping[str, Any] | Sequence[str], outcomes: Mapping[str, Mapping[str, Any]],
              levers: Mapping[str, Any] | Sequence[str] | None = None, *,
              base_overrides: Sequence[str] | str = (), customers: int | None = DEFAULT_CUSTOMERS,
              steps: int | None = None, seeds: int | Sequence[int] = 0, name: str = "customersim"):
    """The simulation as an EMA Workbench model.

    Parameters
    ----------
    uncertainties, levers : list of config paths, or mapping path -> ``(low, high)`` | ``None`` | options
        The varied config fields (see the module docstring); ``None`` or a bare path: the
        schema's whole range (or every option of a choice field). Uncertainties are sampled
        as scenarios, levers as policies (``perform_experiments(model, scenarios, policies)``).
    outcomes : mapping name -> ``{variable, firm, reduce, steps, fill}``
        ``reduce``: ``last``, ``mean``, ``sum`` (scalar outcomes) or ``series`` (an array
        over the window's steps). Names must be Python identifiers.
    base_overrides : overrides for every run (``["scenario=baseline"]``); default: the
        default scenario.
    customers, steps : run size (``customers.n``, ``steps``); ``None`` keeps the scenario's.
        Default 2,000 customers.
    seeds : an int (a ``Model``, every experiment with that seed) or a list of ints (a
        ``ReplicatorModel``, every experiment once per seed, outcomes averaged over the seeds).
    name : the model's name in the workbench's tables (letters and digits).

    Raises
    ------
    ConfigError
        One line naming the field and what is allowed, before anything runs.
    """
    from ..settings.compose import as_config, compose_config, override_list

    ema = workbench()
    base = override_list(base_overrides, "base_overrides")
    for key, value in (("customers", customers), ("steps", steps)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{key} = {value!r}: allowed a whole number >= 1 (or None: the scenario's)")
            base.append(f"{'customers.n' if key == 'customers' else key}={int(value)}")
    if not name.isalnum():
        raise ConfigError(f"name = {name!r}: allowed letters and digits only (the workbench's rule)")
    cfg = compose_config(base)
    unc = _as_specs(uncertainties, "uncertainties")
    lev = _as_specs(levers, "levers")
    if not unc and not lev:
        raise ConfigError("uncertainties: none given; allowed at least one config path (uncertainty or lever)")
    both = sorted(set(unc) & set(lev))
    if both:
        raise ConfigError(f"levers {both[0]}: also an uncertainty; a path is one or the other")
    unc_params = [_parameter(cfg, p, s, "uncertainty") for p, s in unc.items()]
    lev_params = [_parameter(cfg, p, s, "lever") for p, s in lev.items()]
    outputs, series = _outcomes(outcomes, base)
    # every parameter at each end of its range (schema ranges are intervals, so the ends
    # being valid makes the whole range valid, unless two fields constrain each other)
    for p in [*unc_params, *lev_params]:
        path = p.variable_name[0]
        ends = list(p.categories) if isinstance(p, ema.CategoricalParameter) else [p.lower_bound, p.upper_bound]
        for end in ends:
            value = getattr(end, "value", end)
            try:
                as_config(cfg, point_overrides({path: value}))
            except ConfigError as err:
                raise ConfigError(f"{path} = {value!r} (an end of its range): {err}") from None
    function = Simulation(cfg, tuple(outputs), series)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool) and seeds >= 0:
        model = ema.Model(name, function=function)
        model.constants = [ema.Constant("seed", int(seeds))]
    elif isinstance(seeds, (list, tuple)) and seeds and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in seeds):
        model = ema.ReplicatorModel(name, function=function)
        model.replications = [{"seed": int(s)} for s in seeds]
    else:
        raise ConfigError(f"seeds = {seeds!r}: allowed a whole number >= 0, or a non-empty list of them")
    model.uncertainties = unc_params
    model.levers = lev_params
    replicated = isinstance(model, ema.ReplicatorModel)
    model.outcomes = [_outcome(ema, o, o.name in series, replicated) for o in outputs]
    return model


def run_experiments(model, scenarios: int | list = 0, policies: int | list = 0, *, processes: int = 1,
                    sample_seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``perform_experiments`` with a seeded sample and the evaluator chosen by ``processes``.

    ``scenarios``/``policies``: a number of Latin-hypercube samples of the uncertainties/levers
    (or the workbench's own scenario/policy objects). The workbench (2.5) samples with NumPy's
    global generator: it is seeded with ``sample_seed`` for the call and restored afterwards,
    so the same call gives the same experiments. ``processes=1``: the ``SequentialEvaluator``
    (in this process); more: the ``MultiprocessingEvaluator`` with that many worker processes.
    Returns the workbench's ``(experiments, outcomes)``: a DataFrame with a column per
    parameter (workbench names, :func:`config_path` maps them back), and a dict of arrays.
    """
    ema = workbench()
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ConfigError(f"processes = {processes!r}: allowed a whole number >= 1")
    state = np.random.get_state()
    np.random.seed(int(sample_seed))
    try:
        if processes == 1:
            with ema.SequentialEvaluator(model) as evaluator:
                return evaluator.perform_experiments(scenarios=scenarios, policies=policies)
        with ema.MultiprocessingEvaluator(model, n_processes=processes) as evaluator:
            return evaluator.perform_experiments(scenarios=scenarios, policies=policies)
    finally:
        np.random.set_state(state)


def parameters_of(experiments: pd.DataFrame) -> pd.DataFrame:
    """The experiments' parameter columns by config path (the workbench's bookkeeping columns dropped)."""
    keep = [c for c in experiments.columns if c not in BOOKKEEPING]
    return experiments[keep].rename(columns=config_path)
