"""Runs of the validation scenarios (``scenarios/validation/``), shared by the tests and the document.

Each ``run_*`` function composes its scenario, sets the case's parameters, runs the
model and returns the measured series as plain arrays. Nothing here computes a
theoretical value: that is :mod:`tests.validation.theory`'s job.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from sim.api import dataset  # noqa: E402
from sim.engine.layout import Sm, St, Tr
from sim.model import CustomerModel  # noqa: E402
from sim.settings.compose import compose_config  # noqa: E402
from sim.settings.schema import SimConfig  # noqa: E402

FIRM_NAMES = "abcdefghij"


def scenario(name: str, overrides: list[str] | tuple[str, ...] = ()) -> SimConfig:
    """Compose ``scenario=validation/NAME`` with command-line style overrides."""
    return compose_config([f"scenario=validation/{name}", *overrides])


def with_firms(cfg: SimConfig, **fields_per_firm: list) -> SimConfig:
    """Replace the firms by ``len(list)`` copies of the scenario's first firm with per-firm fields.

    ``with_firms(cfg, price=[1.0, 1.2])`` gives firms ``a`` and ``b`` at prices 1.0
    and 1.2. (Hydra cannot add a firm from the command line, so cases with a
    varying number of firms edit the composed config.)
    """
    template = next(iter(cfg.firms.values()))
    n = len(next(iter(fields_per_firm.values())))
    cfg.firms = {FIRM_NAMES[k]: dataclasses.replace(template, **{f: v[k] for f, v in fields_per_firm.items()})
                 for k in range(n)}
    return cfg


# ------------------------------------------------------------------------- 1. logit
@dataclass
class LogitRun:
    alpha: float
    prices: np.ndarray
    n: int
    shares: np.ndarray  #: (steps, F) market shares at the end of each step


def run_logit(alpha: float, prices, n: int, steps: int = 20, seed: int = 0) -> LogitRun:
    cfg = scenario("logit", [f"customers.n={n}", f"steps={steps}", f"seed={seed}",
                             f"customers.segments.all.alpha0={alpha}"])
    with_firms(cfg, price=list(prices))
    model = CustomerModel(cfg)
    model.run()
    ds = dataset(model)
    return LogitRun(alpha, np.asarray(prices, float), n, ds.share.values)


# ------------------------------------------------------------- 2. price equilibrium
@dataclass
class PriceRun:
    alpha: float
    costs: np.ndarray      #: configured unit costs c0 + extra
    lam: float
    n: int
    p0: np.ndarray
    shares0: np.ndarray    #: shares of the initial assignment (what step 1 reacts to)
    price: np.ndarray      #: (steps, F) prices set at each step
    unit_cost: np.ndarray  #: (steps, F) the model's output unit_cost
    share: np.ndarray      #: (steps, F)
    alphas: np.ndarray     #: the customers' price sensitivities (the model's own draws)
    mu: float              #: the firms' demand_memory


def run_prices(alpha: float, extras, lam: float, n: int = 50_000, steps: int = 40, p0: float = 1.0,
               base_cost: float = 0.4, seed: int = 0, cv: float = 0.0) -> PriceRun:
    """The price_equilibrium scenario with ``len(extras)`` firms of unit costs ``base_cost + extras``,
    customers' price sensitivity Gamma-distributed with mean ``alpha`` and coefficient of variation ``cv``."""
    cfg = scenario("price_equilibrium", [f"customers.n={n}", f"steps={steps}", f"seed={seed}",
                                         f"customers.segments.all.alpha0={alpha}",
                                         f"customers.segments.all.alpha0_cv={cv}",
                                         f"market.base_unit_cost={base_cost}"])
    k = len(extras)
    with_firms(cfg, unit_cost_extra=list(extras), price_adjust=[lam] * k, price=[p0] * k)
    model = CustomerModel(cfg)
    shares0 = np.array([f.share for f in model.firm_list])
    alphas = model.pop.traits[Tr.ALPHA0].astype(float)
    model.run()
    ds = dataset(model)
    return PriceRun(alpha, base_cost + np.asarray(extras, float), lam, n, np.full(k, p0), shares0,
                    ds.price.values, ds.unit_cost.values, ds.share.values, alphas,
                    next(iter(cfg.firms.values())).demand_memory)


# ---------------------------------------------------------------------------- 3. Bass
def run_bass(p: float, q: float, n: int = 50_000, steps: int = 50, seed: int = 0) -> np.ndarray:
    """Adopted share at the end of steps 1..steps."""
    cfg = scenario("bass", [f"customers.n={n}", f"steps={steps}", f"seed={seed}",
                            f"market.adoption.innovation={p}", f"market.adoption.imitation={q}"])
    model = CustomerModel(cfg)
    model.run()
    return dataset(model).adoption_total.values


# --------------------------------------------------------------------------- 4. trust
def run_trust(g: float, a_plus: float, a_minus: float, contact: float, tau0: float, n: int = 50_000,
              steps: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean trust at the end of steps 1..steps, and the final trust of every customer."""
    cfg = scenario("trust", [f"customers.n={n}", f"steps={steps}", f"seed={seed}",
                             f"firms.solo.human_capacity={g}", f"market.trust_gain={a_plus}",
                             f"market.trust_loss={a_minus}", f"market.contact_rate={contact}",
                             f"market.trust_init={tau0}"])
    model = CustomerModel(cfg)
    model.run()

    return dataset(model).trust.values[:, 0], model.pop.state[St.TRUST].astype(float)


# -------------------------------------------------------------------------- 5. tenure
@dataclass
class TenureRun:
    n: int
    at_risk: np.ndarray    #: at_risk[k - 1]: relationships still running at the start of their k-th step
    events: np.ndarray     #: events[k - 1]: relationships that ended in their k-th step
    tenure: np.ndarray     #: (steps,) customer-weighted mean of the output ``tenure``
    churn: np.ndarray      #: (steps,) customer-weighted mean of the output ``churn``
    tenure_array_ok: bool  #: the model's tenure counter agrees with the spells seen from outside


def run_tenure(name: str, overrides: list[str], n: int = 50_000, steps: int = 60, seed: int = 0,
               n_firms: int | None = None) -> TenureRun:
    """Run a tenure scenario step by step and tally relationship spells for Kaplan-Meier.

    A spell starts at step 0 (initial assignment) or at the step a customer switches;
    at step t every customer is at risk at duration k = t - start; an event is a
    change of provider. Spells still running at the end are censored.
    """
    cfg = scenario(name, [f"customers.n={n}", f"steps={steps}", f"seed={seed}", *overrides])
    if n_firms is not None:
        with_firms(cfg, price=[1.0] * n_firms)
    model = CustomerModel(cfg)
    counts0 = np.array([f.customers for f in model.firm_list], float)
    start = np.zeros(n, np.int64)
    prev = model.pop.provider.copy()
    at_risk = np.zeros(steps, np.int64)
    events = np.zeros(steps, np.int64)
    ok = True
    for t in range(1, steps + 1):
        model.step()
        now = model.pop.provider
        moved = now != prev
        k = t - start
        at_risk += np.bincount(k - 1, minlength=steps)[:steps]
        events += np.bincount(k[moved] - 1, minlength=steps)[:steps]
        start[moved] = t
        prev = now.copy()
        # the model's own counter: steps with this provider, the switching step counting as 1
        expected = np.where(start == 0, t, t - start + 1)
        ok &= bool(np.array_equal(model.pop.tenure, expected))
    ds = dataset(model)
    cust = ds.customers.values
    tenure = np.nansum(ds.tenure.values * cust, axis=1) / cust.sum(axis=1)
    prev_cust = np.vstack([counts0, cust[:-1]])
    churn = np.nansum(ds.churn.values * prev_cust, axis=1) / prev_cust.sum(axis=1)
    return TenureRun(n, at_risk, events, tenure, churn, ok)


# ----------------------------------------------------------------------------- 6. NPS
def nps_from_scores(provider: np.ndarray, score: np.ndarray, n_firms: int) -> np.ndarray:
    """NPS per firm recomputed from the customers' 0-10 scores: 100 (promoters - detractors) / customers."""
    valid = provider >= 0
    prov = provider[valid].astype(np.int64)
    sc = score[valid]
    cust = np.bincount(prov, minlength=n_firms).astype(float)
    prom = np.bincount(prov[sc >= 9], minlength=n_firms)
    det = np.bincount(prov[sc <= 6], minlength=n_firms)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cust > 0, 100.0 * (prom - det) / cust, np.nan)


def run_nps_identity(overrides: list[str], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Output ``nps`` and the NPS recomputed from the score array, after every step: (steps, F) each."""

    model = CustomerModel(compose_config(overrides + [f"steps={steps}"]))
    recomputed = np.empty((steps, len(model.firm_list)))
    for t in range(steps):
        model.step()
        recomputed[t] = nps_from_scores(model.pop.provider, model.pop.small[Sm.SCORE], len(model.firm_list))
    return dataset(model).nps.values, recomputed


def run_nps(offset: float, noise: float, n: int = 50_000, steps: int = 5, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray]:
    """Output ``nps`` (steps, F) and customers per firm (steps, F) of the NPS scenario."""
    cfg = scenario("nps", [f"customers.n={n}", f"steps={steps}", f"seed={seed}",
                           f"market.rec_offset={offset}", f"market.rec_noise={noise}"])
    model = CustomerModel(cfg)
    model.run()
    ds = dataset(model)
    return ds.nps.values, ds.customers.values
