"""The Mesa model: firms as agents, customers as arrays moved by the kernels."""

from __future__ import annotations

import logging
import operator
import re
from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np

from .engine import kernels as K
from .engine.layout import (
    FIRM_COLUMNS,
    FIRM_TALLIES,
    NO_FIRM,
    PARAMS,
    SEGMENT_TALLIES,
    P,
    S,
    Sm,
    St,
    T,
    Tr,
    config_params,
)
from .engine.rng import mix64, step_key
from .engine.state import Population, draw_population
from .firms.agents import Firm, intervention_pulls, quadrant
from .firms.demand import Classes
from .results.memory import check_memory
from .results.output import FIRM_ATTRS, Recorder, make_datacollector
from .settings.schema import FORMS, ConfigError, SimConfig, validate

#: Taste groups per segment in the firms' customer classes: the segment split at the quantiles of human preference.
TASTE_BINS = 4
#: The kernel's firm columns (``layout.FIRM_COLUMNS``) of a Firm, in column order.
_firm_columns = operator.attrgetter(*(column.source for column in FIRM_COLUMNS))
#: The recorded firm attributes (``output.FIRM_ATTRS``) of a Firm.
_firm_attrs = operator.attrgetter(*FIRM_ATTRS)


class CustomerModel(mesa.Model):
    """Firms compete for customers on the digital x human quadrant map.

    The model owns the configuration, the random generator (``self.rng``, used
    only to draw the population; per-step draws are counter-based, keyed by the
    seed and step), the clock (``self.steps``, advanced by Mesa) and the
    customer :class:`~sim.engine.state.Population`. Firms are :class:`~sim.firms.agents.Firm`
    agents in ``self.firms`` (and Mesa's ``self.agents``).

    Construction
    ------------
    ``CustomerModel(cfg)``
        a validated :class:`~sim.settings.schema.SimConfig` (positional), run as it is.
    ``CustomerModel(scenario=..., seed=..., customers=..., steps=..., **parameters)``
        keyword construction, as Mesa's tools (``mesa.batch_run``, SolaraViz) call it.
        Every keyword is optional; all of them are checked before any work, and a bad
        one raises :class:`~sim.settings.schema.ConfigError` with one line (as ``sim.build``):

        * ``scenario`` (str): a scenario name (``scenarios/NAME.yaml``); default ``disruptor``;
        * ``seed`` (int) or ``rng`` (int or ``numpy.random.Generator``), not both, as in
          Mesa; ``seed=None`` and no ``rng`` draw a fresh seed, recorded in
          ``model.seed`` and ``model.cfg.seed`` so the run can be repeated;
        * ``customers`` (int): ``customers.n``; ``steps`` (int): the horizon;
        * ``overrides`` (list of str, or one str split like a command line): override
          strings, as on the command line (``["firms.disruptor.price=0.8"]``);
        * any other keyword is a config field: a dotted path passed as
          ``**{"firms.disruptor.price": 0.8}``, the same path with ``__`` for the dots
          (``firms__disruptor__price=0.8``, ``market__adoption__innovation=0.01``), or a
          market field by its bare name (``contact_rate=0.3``).

    Stepping
    --------
    ``running`` turns False after the horizon's last step (``cfg.steps``) and when no
    firm is alive and none is still to enter. Stepping on past the horizon extends the
    recording (the Dataset then holds every step run). ``datacollector`` is a Mesa
    :class:`~mesa.DataCollector` (model reporters: the market variables; agent
    reporters: the firms' variables) collected at construction (step 0) and after
    every step; see :func:`sim.results.output.make_datacollector`.
    """

    def __init__(self, cfg: SimConfig | None = None, /, *, scenario: str | None = None,
                 rng: Any = None, customers: int | None = None,
                 steps: int | None = None, overrides: Sequence[str] | str = (), **parameters: Any):
        # ``seed`` comes through ``parameters``, unnamed: Mesa 3.4+'s batch_run hands each run's ``rng``
        # value to the model's ``seed`` keyword when the signature names one (to ``rng`` otherwise),
        # which replaced a ``seed`` given in batch_run's parameters by None (a fresh, unrecorded seed).
        seed = parameters.pop("seed", None)
        if cfg is None:
            cfg = keyword_config(scenario=scenario, seed=seed, rng=rng, customers=customers, steps=steps,
                                 overrides=overrides, **parameters)
        elif not isinstance(cfg, SimConfig):
            raise ConfigError(f"CustomerModel: the positional argument must be a SimConfig, got "
                              f"{type(cfg).__name__}; use keywords (scenario=..., seed=...) otherwise")
        elif any(v is not None for v in (scenario, seed, rng, customers, steps)) or overrides or parameters:
            raise ConfigError("CustomerModel: give either a SimConfig or keywords, not both "
                              "(sim.build(overrides, seed, config=cfg) merges them)")
        validate(cfg)
        check_memory(cfg)  # before anything is allocated
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.seed = cfg.seed
        for name, firm in cfg.firms.items():
            if firm.enter_step > cfg.steps:
                log.warning(f"firms.{name}.enter_step = {firm.enter_step} is after the horizon "
                            f"(steps = {cfg.steps}): {name} never enters this run")
        m = cfg.market
        self.n = cfg.customers.n
        self.pop: Population = draw_population(cfg, self.rng)
        self.bounds = K.chunk_bounds(self.n)
        self.firm_names = list(cfg.firms)
        self.segment_names = list(cfg.customers.segments)
        traits = self.pop.traits
        self.mean_human_pref = float(traits[Tr.HUMAN_PREF].mean(dtype=np.float64))
        self.mean_affinity = float(traits[Tr.AFFINITY].mean(dtype=np.float64))
        self.mean_alpha = float(traits[Tr.ALPHA0].mean(dtype=np.float64))
        self.eligible = int(np.count_nonzero(traits[Tr.LITERACY] >= np.float32(m.adoption.literacy_threshold)))
        self.adopted = int(np.count_nonzero(self.pop.small[Sm.ADOPTED]))
        self.adoption = self.adopted / self.n
        self.expectation = m.expectation_init
        self.frontier = m.expectation_init  # the external digital frontier E follows besides the market
        self.digital_used = m.expectation_init  # the digital level adopters use (set each step)
        self.human_expectation = m.human_expectation
        self.mean_price = 0.0
        self._taste_groups()
        self.shock_active = False
        self.firm_list = [Firm(self, name, i, fc) for i, (name, fc) in enumerate(cfg.firms.items())]
        self.firms = mesa.agent.AgentSet(self.firm_list, random=self.random)
        n_firms = len(self.firm_list)
        self._par_config = np.array(config_params(cfg))
        self.par = np.zeros(len(PARAMS))
        self.firm_cols = np.zeros((n_firms, len(FIRM_COLUMNS)))
        self.interv = np.zeros((n_firms, len(FORMS)))
        self._spend = np.array([f.cfg.intervention for f in self.firm_list], float).reshape(n_firms, len(FORMS))
        self._effect = np.array([f.cfg.intervention_effect for f in self.firm_list], float)
        n_chunks = self.bounds.shape[0] - 1
        self.tally = np.zeros((n_chunks, n_firms, len(FIRM_TALLIES)))
        self.seg_tally = np.zeros((n_chunks, len(self.segment_names), len(SEGMENT_TALLIES)))
        self.recorder = Recorder(cfg.steps, self.firm_names, self.segment_names)
        self._prev_customers = np.zeros(n_firms)
        self._lost_at_exit = np.zeros(n_firms)
        # initial assignment: every customer chooses among the firms present at step 0 (or stays out)
        self._fill_kernel_inputs()
        self._assign(step_key(cfg.seed, -1), NO_FIRM)
        counts = np.bincount(self.pop.provider[self.pop.provider >= 0], minlength=n_firms)
        assigned = int(counts.sum())
        for f in self.firm_list:
            f.customers = int(counts[f.index])
            f.share = f.customers / assigned if assigned else 0.0  # among customers with a provider, as _settle
        self._prev_customers = counts.astype(float)
        self._adopters_at = np.zeros(n_firms)  # last step's adopters and human contacts per firm (E and H)
        self._human_at = np.zeros(n_firms)
        self._burn_in(m.burn_in)
        for f in self.alive_firms():  # reserves: reserve_months of each firm's costs with its first customers
            f.fund_reserves(f.customers)
        self.datacollector = make_datacollector(self)
        self.datacollector.collect(self)

    def _burn_in(self, steps: int) -> None:
        """Let customers live with their first provider for ``steps`` steps before step 1.

        The customer kernel runs with no review (hazard 0) and no adoption, the market
        and the firms stand still and no accounts are booked, so trust, engagement,
        satisfaction and the other scores start near where the firms' service holds
        them instead of at the arbitrary initial values. Reputation (NPS) and the
        firms' human contacts per customer start from the last burn-in step; tenure
        counts the burn-in steps. Draws use step keys -2, -3, ... (never a run step's).
        """
        if steps <= 0:
            return
        self._set_mean_price()
        for k in range(steps):
            self._fill_kernel_inputs()
            self.par[P.REVIEW_HAZARD] = 0.0
            self.par[P.ADOPT_PROB] = 0.0
            self._customer_step(step_key(self.cfg.seed, -2 - k))
        tal = self.tally.sum(axis=0)
        assigned = tal[:, T.CUSTOMERS].sum()
        if assigned:
            self.mean_alpha = float(tal[:, T.ALPHA].sum() / assigned)
        for f in self.firm_list:
            c = tal[f.index, T.CUSTOMERS]
            if c > 0:
                f.reputation = (tal[f.index, T.PROMOTERS] - tal[f.index, T.DETRACTORS]) / c
                f.human_per_customer = tal[f.index, T.HUMAN] / c
        self._adopters_at = tal[:, T.ADOPTED].copy()
        self._human_at = tal[:, T.HUMAN].copy()

    # ---------------------------------------------------------------- helpers
    def alive_firms(self) -> list[Firm]:
        return [f for f in self.firm_list if f.alive]

    def _taste_groups(self) -> None:
        """The static taste groups of the firms' customer classes (:class:`Classes`): each segment split
        at the quartiles of its customers' human preference (:data:`TASTE_BINS` groups per segment), with
        each group's mean human preference and affinity."""
        traits, seg = self.pop.traits, self.pop.small[Sm.SEGMENT].astype(np.int64)
        phi = traits[Tr.HUMAN_PREF]
        n_groups = len(self.segment_names) * TASTE_BINS
        group = seg * TASTE_BINS
        for s in range(len(self.segment_names)):
            mine = seg == s
            if mine.any():
                cuts = np.quantile(phi[mine], np.linspace(0.0, 1.0, TASTE_BINS + 1)[1:-1])
                group[mine] += np.searchsorted(cuts, phi[mine], side="right")
        counts = np.maximum(np.bincount(group, minlength=n_groups), 1)
        self._group = group
        self._group_phi = np.bincount(group, phi.astype(np.float64), n_groups) / counts
        self._group_w = np.bincount(group, traits[Tr.AFFINITY].astype(np.float64), n_groups) / counts
        self._classes: tuple[int, Classes] | None = None

    @property
    def classes(self) -> Classes:
        """The customer classes firms forecast with (:mod:`sim.firms.demand`), as the population stands:
        each taste group's adopters and non-adopters, their sizes and mean price sensitivity, and each
        firm's customers in each class. Counted when first asked for in a step (a few passes over the
        customers: the adaptive strategy asks every step, Nash pricing only before a firm has seen demand)."""
        if self._classes is not None and self._classes[0] == self.steps:
            return self._classes[1]
        n_groups = self._group_phi.shape[0]
        cls = self._group + n_groups * (1 - self.pop.small[Sm.ADOPTED].astype(np.int64))
        weight = np.bincount(cls, minlength=2 * n_groups).astype(float)
        alpha = np.bincount(cls, self.pop.state[St.ALPHA].astype(np.float64), 2 * n_groups) / np.maximum(weight, 1.0)
        key = (self.pop.provider.astype(np.int64) + 1) * 2 * n_groups + cls
        n_firms = len(self.firm_list)
        by_firm = np.bincount(key, minlength=(n_firms + 1) * 2 * n_groups).reshape(n_firms + 1, -1)[1:]
        ones = np.ones(n_groups)
        keep = weight > 0  # empty classes (a group nobody adopted in, say) are left out
        classes = Classes(weight=weight[keep], phi=np.concatenate([self._group_phi, self._group_phi])[keep],
                          w=np.concatenate([self._group_w, self._group_w])[keep], alpha=alpha[keep],
                          adopted=np.concatenate([ones, 0.0 * ones])[keep],
                          by_firm=by_firm[:, keep].astype(float))
        self._classes = (self.steps, classes)
        return classes

    def _fill_kernel_inputs(self) -> None:
        """Write the market parameters and this step's market state into ``par``, the firms'
        columns into ``firm_cols`` (``layout.FIRM_COLUMNS``: each a Firm attribute) and the
        intervention pulls into ``interv``."""
        m, p = self.cfg.market, self.par
        p[:] = self._par_config
        p[P.EXPECTATION] = self.expectation
        p[P.HUMAN_EXPECTATION] = self.human_expectation
        innov = m.adoption.innovation + (m.shock.adoption_boost if self.shock_active else 0.0)
        a = self.adopted / self.eligible if self.eligible else 0.0
        pull = m.adoption.expectation_pull * max(0.0, self.expectation - m.expectation_init)
        p[P.ADOPT_PROB] = min(1.0, innov + m.adoption.imitation * a + pull)
        p[P.PANEL_RATE] = min(m.panel_rate, m.panel_max / max(self.n, 1))
        self.firm_cols[:] = [_firm_columns(f) for f in self.firm_list]
        self.interv[:] = intervention_pulls(self._spend, self._effect, [f.customers for f in self.firm_list],
                                            self.n, m.intervention_half)

    def _update_market(self, t: int) -> None:
        """Digital and human expectations and the shock window of step ``t``.

        The external frontier (the best digital experiences anywhere) drifts toward 1 (toward 0 with a
        negative drift); E moves toward a mix of the frontier and the digital level adopters use on
        this market (each firm's d weighted by its adopters of the last step). H moves toward the human
        level customers are served with (each firm's h weighted by its human contacts of the last step).
        """
        m = self.cfg.market
        drift = m.expectation_drift
        self.frontier = min(max(self.frontier + drift * ((1.0 - self.frontier) if drift > 0 else self.frontier),
                                0.0), 1.0)
        digital = np.array([f.digital for f in self.firm_list])
        used = self._adopters_at.sum()
        self.digital_used = float(self._adopters_at @ digital / used) if used > 0 else self.frontier
        target = m.frontier_weight * self.frontier + (1.0 - m.frontier_weight) * self.digital_used
        self.expectation = min(max(self.expectation + m.expectation_rate * (target - self.expectation), 0.0), 1.0)
        served = self._human_at.sum()
        if served > 0:
            human = np.array([f.human for f in self.firm_list])
            self.human_expectation += m.human_expectation_rate * (float(self._human_at @ human / served)
                                                                  - self.human_expectation)
        s = m.shock
        self.shock_active = s.start >= 0 and s.start <= t < s.end

    def _assign(self, key: int, lost: int) -> None:
        """Customers whose provider is ``lost`` (``NO_FIRM``: everyone without one) choose among the
        alive firms and the outside option now, through the kernel's choice code."""
        K.assign_orphans(np.uint64(key), self.par, self.firm_cols, self.pop.traits, self.pop.state,
                         self.pop.small, self.pop.provider, self.bounds, lost)

    def _set_mean_price(self) -> None:
        alive = self.alive_firms()
        weight = sum(f.share for f in alive)
        if weight > 0:
            self.mean_price = sum(f.price * f.share for f in alive) / weight
        elif alive:
            self.mean_price = sum(f.price for f in alive) / len(alive)

    def _customer_step(self, key: int) -> None:
        """Phase 5: the customer kernel over the population, tallies into ``tally``/``seg_tally``."""
        K.customer_step(np.uint64(key), self.par, self.firm_cols, self.interv, self.pop.traits, self.pop.state,
                        self.pop.small, self.pop.provider, self.pop.tenure, self.bounds, self.tally,
                        self.seg_tally)

    # ------------------------------------------------------------------- step
    def prepare_step(self, t: int) -> int:
        """Phases 1-4 of step ``t`` and the kernel's inputs; returns the step's random key.

        After it, ``par``, ``firm_cols`` and ``interv`` hold exactly what the customer
        kernel of step ``t`` reads (tests hand them to the reference and the yardsticks).
        """
        entrants = [f for f in self.firm_list if not f.alive and f.exited_at is None and f.cfg.enter_step == t]
        for f in entrants:  # known through word of mouth as well as the average firm; reserves funded
            incumbents = self.alive_firms()
            weight = sum(g.share for g in incumbents)
            f.reputation = sum(g.reputation * g.share for g in incumbents) / weight if weight > 0 else 0.0
            f.alive = True
            f.entered_at = t
            f.fund_reserves(self.n / len(self.alive_firms()))
        self._lost_at_exit[:] = 0.0
        exits = [f for f in self.alive_firms() if f.cash < f.cfg.bankruptcy]
        for f in exits:
            f.alive = False
            f.exited_at = t
        if exits:  # their customers choose again now, among the firms left and the outside option
            self._fill_kernel_inputs()
            for f in exits:
                self._lost_at_exit[f.index] = np.count_nonzero(self.pop.provider == f.index)
                self._assign(mix64(step_key(self.cfg.seed, t) ^ (f.index + 1)), f.index)
            # the customers each firm starts the step with (churn's denominator): the exits' lost ones
            # stay counted at the exiting firm, the ones they moved to count at their new firm
            counts = np.bincount(self.pop.provider[self.pop.provider >= 0], minlength=len(self.firm_list))
            self._prev_customers = counts + self._lost_at_exit
        self._update_market(t)
        self.firms.do("decide")
        self._set_mean_price()
        self._fill_kernel_inputs()
        return step_key(self.cfg.seed, t)

    def step(self) -> None:
        """Advance the market one step (one month by default).

        Phases, in order (1-4 are :meth:`prepare_step`):

        1. **Entry**: firms whose ``enter_step`` is this step become alive.
        2. **Exit**: alive firms with cash below their bankruptcy line leave; their
           customers lose their provider and must choose again in phase 5.
        3. **Market**: digital expectation E moves toward the best alive digital
           level customers use and the external frontier; human expectation H toward the human
           level customers are served with; shock window.
        4. **Firm decisions**: each alive firm moves by its strategy, then sets its price
           by its pricing rule (``firms.do("decide")``); then the share-weighted mean
           price is computed and the kernel's inputs are filled.
        5. **Customers** (one Numba kernel pass, :func:`sim.engine.kernels.customer_step`):
           adoption, contact, experience, trust/engagement and the building blocks,
           interventions, data sharing, price sensitivity, switching, recommendation,
           and the per-firm / per-segment tallies.
        6. **Accounts**: firms book revenue, costs and profit into cash; reputation
           follows NPS.
        7. **Record** the step's outputs.
        """
        t = self.steps
        if t > self.recorder.steps:  # past the horizon: the recording grows
            self.recorder.extend(max(t, 2 * self.recorder.steps))
        self._customer_step(self.prepare_step(t))
        self._settle(t)
        self.datacollector.collect(self)
        pending = any(f.exited_at is None and f.cfg.enter_step > t for f in self.firm_list)
        if t >= self.cfg.steps or not (self.alive_firms() or pending):
            self.running = False

    def _settle(self, t: int) -> None:
        """Phases 6 and 7 of step ``t``, from the kernel's tallies."""
        tal = self.tally.sum(axis=0)
        seg = self.seg_tally.sum(axis=0)
        customers = tal[:, T.CUSTOMERS]
        assigned = customers.sum()
        self.adopted = int(seg[:, S.ADOPTED].sum())
        self.adoption = self.adopted / self.n
        self.mean_alpha = float(tal[:, T.ALPHA].sum() / assigned) if assigned else self.mean_alpha
        m = self.cfg.market
        for f in self.firm_list:
            f.customers = int(customers[f.index])
            f.share = f.customers / assigned if assigned else 0.0
            f.settle(customers[f.index], tal[f.index, T.HUMAN], self.n)
            if f.alive:
                f.observe_demand(tal[f.index, T.CHOICE_SHARE], tal[f.index, T.CHOICE_SLOPE])
            if f.alive and f.customers:
                nps = (tal[f.index, T.PROMOTERS] - tal[f.index, T.DETRACTORS]) / f.customers
                f.reputation += m.reputation_memory * (nps - f.reputation)
        self._adopters_at = tal[:, T.ADOPTED].copy()
        self._human_at = tal[:, T.HUMAN].copy()

        # the recorded firm variables that are not tallies, one row each (output.FIRM_ROWS)
        firm_rows = np.array([(*_firm_attrs(f), f.unit_cost(), quadrant(f.digital, f.human)) for f in self.firm_list],
                             float).T
        market = {"digital_expectation": self.expectation, "human_expectation": self.human_expectation,
                  "mean_price": self.mean_price,
                  "price_sensitivity": self.mean_alpha, "adoption_total": self.adoption,
                  "digital_frontier": self.frontier, "digital_used": self.digital_used,
                  "shock": float(self.shock_active),
                  "unassigned": self.n - assigned}
        self.recorder.record(t, tal, seg, firm_rows, market, tal[:, T.CHURN] + self._lost_at_exit,
                             self._prev_customers)
        self._prev_customers = customers.copy()

    def run(self) -> None:
        """Run the steps still to go up to the horizon ``cfg.steps`` (all of them on a new model).

        Unlike Mesa's ``run_model`` (which stops when ``running`` turns False), this runs to
        the horizon even when every firm has exited: the recording covers the configured steps.
        """
        while self.steps < self.cfg.steps:
            self.step()

    # ---------------------------------------------------- reporters (DataCollector)
    @property
    def hhi(self) -> float:
        """Herfindahl-Hirschman index of the firms' shares now."""
        return float(sum(f.share ** 2 for f in self.firm_list))

    @property
    def unassigned(self) -> int:
        """Customers without a provider now."""
        return self.n - sum(f.customers for f in self.firm_list)

    def quadrants(self) -> list[int]:
        return [quadrant(f.digital, f.human) for f in self.firm_list]


log = logging.getLogger("sim")

#: Keywords of :class:`CustomerModel` that are not config paths.
_NAMED = {"customers": "customers.n", "steps": "steps", "scenario": "scenario"}


def _value_text(value: Any) -> str:
    """A Python value as the value of a Hydra override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value_text(v) for v in value) + "]"
    if value is None:
        return "null"
    text = str(value)
    return text if re.fullmatch(r"[\w./\-]+", text) else "'" + text.replace("'", "\\'") + "'"


def fresh_seed() -> int:
    """A new random seed in the schema's range (from the operating system's entropy)."""
    return int(np.random.SeedSequence().generate_state(2, np.uint32).view(np.uint64)[0] >> np.uint64(1))


def keyword_config(scenario: str | None = None, seed: int | None = None, rng: Any = None,
                   customers: int | None = None, steps: int | None = None,
                   overrides: Sequence[str] | str = (), **parameters: Any) -> SimConfig:
    """The validated config of :class:`CustomerModel`'s keyword construction (see its docstring)."""
    from .settings.compose import as_config, override_list

    items = override_list(overrides, "overrides")
    for name, value in (("scenario", scenario), ("customers", customers), ("steps", steps)):
        if value is not None:
            items.append(f"{_NAMED[name]}={_value_text(value)}")
    market_fields = set(SimConfig().market.__dataclass_fields__)
    top_fields = set(SimConfig.__dataclass_fields__)
    for key, value in parameters.items():
        path = key.replace("__", ".")
        if "." not in path and path in market_fields:
            path = f"market.{path}"
        elif "." not in path and path not in top_fields:
            import difflib

            known = sorted({"scenario", "seed", "rng", "customers", "steps", "overrides"} | market_fields)
            close = difflib.get_close_matches(path, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{key}: unknown keyword{hint}; allowed: scenario, seed, rng, customers, steps, "
                              f"overrides, a market field by name (contact_rate=0.3) or any config path "
                              f"with __ for its dots (firms__NAME__price=0.8)")
        items.append(f"{path}={_value_text(value)}")
    if seed is not None and rng is not None:
        raise ConfigError("seed and rng: pass either seed or rng, not both (as in Mesa)")
    if rng is not None:
        if isinstance(rng, np.random.Generator):
            seed = int(rng.integers(0, 2**63 - 1))
        elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            seed = int(rng)
        else:
            raise ConfigError(f"rng = {rng!r} must be a whole number in [0, {2**63 - 1}] or a "
                              f"numpy.random.Generator")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ConfigError(f"seed = {seed!r} must be a whole number in [0, {2**63 - 1}] or None (a fresh seed)")
        items.append(f"seed={int(seed)}")
    elif not any(o.split("=", 1)[0].lstrip("+~") == "seed" for o in items):
        items.append(f"seed={fresh_seed()}")
    return as_config(None, items)
