"""The pure entry point: ``run(overrides, seed) -> xarray.Dataset``, no Hydra app needed."""

from __future__ import annotations

from typing import Any

import xarray as xr

from .model import CustomerModel
from .results.output import versions
from .settings.compose import as_config, override_list, to_yaml
from .settings.schema import SimConfig


def build(overrides: list[str] | tuple[str, ...] | str = (), seed: int | None = None, config: Any = None
          ) -> CustomerModel:
    """Compose/validate a config and create the model (population drawn, not yet run).

    ``overrides``: a list of override strings, or one string split like a command line
    (``"scenario=baseline seed=3"``). ``seed=None`` keeps the config's seed (0 unless set).
    """
    overrides = override_list(overrides)
    if seed is not None:
        overrides.append(f"seed={int(seed)}")
    cfg = as_config(config, overrides)
    return CustomerModel(cfg)


def dataset(model: CustomerModel, config_yaml: str | None = None) -> xr.Dataset:
    """The recorded steps of ``model`` as a Dataset with the resolved config attached.

    ``config_yaml``: ``to_yaml(model.cfg)`` if the caller has it already (it costs a
    structured OmegaConf config, tens of milliseconds).
    """
    cfg: SimConfig = model.cfg
    attrs: dict[str, Any] = {
        "title": "customer relationship simulation",
        "scenario": cfg.scenario,
        "seed": cfg.seed,
        "customers_n": cfg.customers.n,
        "config": to_yaml(cfg) if config_yaml is None else config_yaml,
        "Conventions": "CF-1.8",  # the newest the CF checker (cfchecker) knows; the files use nothing newer
    }
    v = versions()
    attrs["source"] = f"customer-sim {v['customer-sim']} (agent-based model; " + ", ".join(
        f"{k} {ver}" for k, ver in v.items() if k != "customer-sim") + ")"
    # no timestamp: the same config and seed give identical Datasets
    attrs["history"] = (f"simulated by customer-sim {v['customer-sim']}: scenario {cfg.scenario or '-'}, seed "
                        f"{cfg.seed}, {cfg.customers.n} customers, {model.steps} steps (config attribute: "
                        f"every setting)")
    # attribute names of letters, digits and underscores (CF 2.3): version_customer_sim, version_hydra_core
    attrs.update({f"version_{k.replace('-', '_')}": ver for k, ver in v.items()})
    return model.recorder.to_dataset(attrs)


def run(overrides: list[str] | tuple[str, ...] | str = (), seed: int | None = None, config: Any = None
        ) -> xr.Dataset:
    """Run a simulation and return its results.

    Parameters
    ----------
    overrides : list of str, or str
        Hydra-style overrides, as on the command line: ``["scenario=baseline",
        "customers.n=10000", "steps=24"]``, or the same as one string
        (``"scenario=baseline customers.n=10000"``, split as a shell would). Default
        scenario: ``disruptor``.
    seed : int, optional
        Shortcut for the ``seed=`` override.
    config : SimConfig, DictConfig or dict, optional
        A config object to run instead of composing ``conf/``; ``overrides`` are
        applied on top.
    """
    model = build(overrides, seed, config)
    model.run()
    return dataset(model)


def align_runs(*datasets: xr.Dataset, fill_value: Any = None) -> tuple[xr.Dataset, ...]:
    """Runs aligned on the union of their firms, steps and segments (an outer join).

    xarray's arithmetic joins on the intersection: ``b.share - a.share`` of a baseline
    and a disruptor run silently drops the disruptor. Align first and compare::

        a, b = sim.align_runs(base, disr)
        b.share - a.share            # disruptor: NaN (absent from the baseline)
        a, b = sim.align_runs(base, disr, fill_value={"share": 0.0, "customers": 0})
        b.share - a.share            # disruptor: its share (absent counts as 0)

    ``fill_value``: what a firm absent from a run has (default NaN: missing), a number or a
    mapping per variable. Or set ``xr.set_options(arithmetic_join="outer")`` for a block.
    """
    kwargs = {} if fill_value is None else {"fill_value": fill_value}
    return xr.align(*datasets, join="outer", **kwargs)
