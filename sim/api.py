"""The pure entry point: ``run(overrides, seed) -> xarray.Dataset``, no Hydra app needed."""

from __future__ import annotations

from typing import Any

import xarray as xr

from .config import SimConfig
from .configure import as_config, to_yaml
from .model import CustomerModel
from .output import versions


def build(overrides: list[str] | tuple[str, ...] = (), seed: int | None = None, config: Any = None
          ) -> CustomerModel:
    """Compose/validate a config and create the model (population drawn, not yet run)."""
    overrides = list(overrides)
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
        "Conventions": "CF-1.10",
    }
    attrs.update({f"version_{k}": v for k, v in versions().items()})
    return model.recorder.to_dataset(attrs)


def run(overrides: list[str] | tuple[str, ...] = (), seed: int | None = None, config: Any = None
        ) -> xr.Dataset:
    """Run a simulation and return its results.

    Parameters
    ----------
    overrides : list of str
        Hydra-style overrides, as on the command line: ``["scenario=baseline",
        "customers.n=10000", "steps=24"]``. Default scenario: ``disruptor``.
    seed : int, optional
        Shortcut for the ``seed=`` override.
    config : SimConfig, DictConfig or dict, optional
        A config object to run instead of composing ``conf/``; ``overrides`` are
        applied on top.
    """
    model = build(overrides, seed, config)
    model.run()
    return dataset(model)
