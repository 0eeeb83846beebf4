"""The Mesa model: firms as agents, customers as arrays moved by the kernels."""

from __future__ import annotations

import mesa
import numpy as np

from . import kernels as K
from .config import FORMS, SimConfig, validate
from .firms import Firm, quadrant
from .output import Recorder
from .state import Population, draw_population

STEER_CODES = {"none": K.STEER_NONE, "soft": K.STEER_SOFT, "hard": K.STEER_HARD}


class CustomerModel(mesa.Model):
    """Firms compete for customers on the digital x human quadrant map.

    The model owns the configuration, the random generator (``self.rng``, used
    only to draw the population; per-step draws are counter-based, keyed by the
    seed and step), the clock (``self.steps``, advanced by Mesa) and the
    customer :class:`~sim.state.Population`. Firms are :class:`~sim.firms.Firm`
    agents in ``self.firms``.
    """

    def __init__(self, cfg: SimConfig):
        validate(cfg)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        m = cfg.market
        self.n = cfg.customers.n
        self.pop: Population = draw_population(cfg, self.rng)
        self.bounds = K.chunk_bounds(self.n)
        self.firm_names = list(cfg.firms)
        self.segment_names = list(cfg.customers.segments)
        traits = self.pop.traits
        self.mean_human_pref = float(traits[K.HUMAN_PREF].mean(dtype=np.float64))
        self.mean_affinity = float(traits[K.AFFINITY].mean(dtype=np.float64))
        self.mean_alpha = float(traits[K.ALPHA0].mean(dtype=np.float64))
        self.eligible = int(np.count_nonzero(traits[K.LITERACY] >= np.float32(m.adoption.literacy_threshold)))
        self.adopted = int(np.count_nonzero(self.pop.small[K.ADOPTED]))
        self.adoption = self.adopted / self.n
        self.expectation = m.expectation_init
        self.commodity = 0.0
        self.mean_price = 0.0
        self.shock_active = False
        self.firm_list = [Firm(self, name, i, fc) for i, (name, fc) in enumerate(cfg.firms.items())]
        self.firms = mesa.agent.AgentSet(self.firm_list, random=self.random)
        self.par = np.zeros(K.N_PARAMS)
        self.firm_cols = np.zeros((len(self.firm_list), K.N_FIRM_COLS))
        self.interv = np.zeros((len(self.firm_list), len(FORMS)))
        n_chunks = self.bounds.shape[0] - 1
        self.tally = np.zeros((n_chunks, len(self.firm_list), K.N_FIRM_TALLY))
        self.seg_tally = np.zeros((n_chunks, len(self.segment_names), K.N_SEG_TALLY))
        self.recorder = Recorder(cfg.steps, self.firm_names, self.segment_names)
        self._prev_customers = np.zeros(len(self.firm_list))
        self._lost_at_exit = np.zeros(len(self.firm_list))
        # initial assignment: every customer chooses among the firms present at step 0
        self._fill_kernel_inputs()
        K.assign_orphans(np.uint64(K.step_key(cfg.seed, -1)), self.par, self.firm_cols,
                         self.pop.traits, self.pop.state, self.pop.small, self.pop.provider, self.bounds)
        counts = np.bincount(self.pop.provider[self.pop.provider >= 0], minlength=len(self.firm_list))
        for f in self.firm_list:
            f.customers = int(counts[f.index])
            f.share = f.customers / self.n
        self._prev_customers = counts.astype(float)
        self._burn_in(m.burn_in)

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
            self.par[K.P_HAZARD] = 0.0
            self.par[K.P_ADOPT_PROB] = 0.0
            K.customer_step(np.uint64(K.step_key(self.cfg.seed, -2 - k)), self.par, self.firm_cols,
                            self.interv, self.pop.traits, self.pop.state, self.pop.small, self.pop.provider,
                            self.pop.tenure, self.bounds, self.tally, self.seg_tally)
        tal = self.tally.sum(axis=0)
        assigned = tal[:, K.T_CUSTOMERS].sum()
        if assigned:
            self.mean_alpha = float(tal[:, K.T_ALPHA].sum() / assigned)
        for f in self.firm_list:
            c = tal[f.index, K.T_CUSTOMERS]
            if c > 0:
                f.reputation = (tal[f.index, K.T_PROMOTERS] - tal[f.index, K.T_DETRACTORS]) / c
                f.human_per_customer = tal[f.index, K.T_HUMAN] / c

    # ---------------------------------------------------------------- helpers
    def alive_firms(self) -> list[Firm]:
        return [f for f in self.firm_list if f.alive]

    def _fill_kernel_inputs(self) -> None:
        """Write the market parameters and this step's market state into ``par``/``firm_cols``."""
        m, p = self.cfg.market, self.par
        p[K.P_EXPECTATION] = self.expectation
        p[K.P_COMMODITY] = self.commodity
        innov = m.adoption.innovation + (m.shock.adoption_boost if self.shock_active else 0.0)
        a = self.adopted / self.eligible if self.eligible else 0.0
        pull = m.adoption.expectation_pull * max(0.0, self.expectation - m.expectation_init)
        p[K.P_ADOPT_PROB] = min(1.0, innov + m.adoption.imitation * a + pull)
        p[K.P_LIT_THRESHOLD] = np.float32(m.adoption.literacy_threshold)
        p[K.P_EXCLUSION] = m.adoption.exclusion_quality
        p[K.P_MEAN_PRICE] = self.mean_price if self.mean_price > 0 else 1.0
        simple = {
            K.P_CONTACT: m.contact_rate, K.P_HUMAN_EXP: m.human_expectation,
            K.P_GATE_CENTER: m.gate_center, K.P_GATE_SLOPE: m.gate_slope, K.P_NOTICE_SOFT: m.notice_soft,
            K.P_TRUST_INIT: m.trust_init, K.P_TRUST_GAIN: m.trust_gain, K.P_TRUST_LOSS: m.trust_loss,
            K.P_TRUST_HUMAN: m.trust_human_bonus, K.P_STEER_TRUST: m.steer_trust_loss,
            K.P_STEER_FREEDOM: m.steer_freedom_loss, K.P_FREEDOM_RECOVERY: m.freedom_recovery,
            K.P_INFLUENCE_RATE: m.influence_rate, K.P_INFLUENCE_DIGITAL: m.influence_digital,
            K.P_FAIR_RATE: m.fairness_rate, K.P_FAIR_SLOPE: m.fairness_slope,
            K.P_FAIR_TRUST: m.fairness_trust_loss, K.P_SAT_MEMORY: m.satisfaction_memory,
            K.P_ENG_RATE: m.engagement_rate, K.P_ENG_DECAY: m.engagement_decay,
            K.P_DISENGAGE: m.disengage_rate, K.P_DISENGAGED_BELOW: m.disengaged_below,
            K.P_CARRY_ENG: m.carry_engagement, K.P_ALPHA_COMMODITY: m.alpha_commodity,
            K.P_ALPHA_ENG: m.alpha_engagement, K.P_ALPHA_TRUST: m.alpha_trust,
            K.P_HAZARD: m.review_hazard, K.P_HAZARD_TRUST: m.hazard_trust,
            K.P_HAZARD_ENG: m.hazard_engagement, K.P_BETA_DIGITAL: m.beta_digital,
            K.P_DIGITAL_GAIN: m.digital_gain, K.P_BETA_HUMAN: m.beta_human,
            K.P_BETA_EMOTION: m.beta_emotion, K.P_BETA_REP: m.beta_reputation, K.P_INERTIA: m.inertia,
            K.P_REC_SAT: m.rec_satisfaction, K.P_REC_TRUST: m.rec_trust, K.P_REC_ENG: m.rec_engagement,
            K.P_REC_OFFSET: m.rec_offset, K.P_REC_NOISE: m.rec_noise,
        }
        for idx, value in simple.items():
            p[idx] = value
        cut = m.shock.human_cut if self.shock_active else 0.0
        for f in self.firm_list:
            row = self.firm_cols[f.index]
            row[K.F_DIGITAL] = f.digital
            row[K.F_HUMAN] = f.human
            row[K.F_PRICE] = f.price
            row[K.F_PERSONAL] = f.cfg.personalisation
            row[K.F_STEER_MODE] = STEER_CODES[f.cfg.steering]
            row[K.F_STEER_P] = f.cfg.steering_strength
            row[K.F_AVAIL] = f.cfg.human_capacity * (1.0 - cut)
            row[K.F_REPUTATION] = f.reputation
            row[K.F_ALIVE] = 1.0 if f.alive else 0.0
            per_customer = self.n / max(f.customers, 1)
            for k, spend in enumerate(f.cfg.intervention):
                b = spend * per_customer
                self.interv[f.index, k] = f.cfg.intervention_effect * b / (b + m.intervention_half)

    def _update_market(self) -> None:
        """Digital expectation, commoditisation, shock window, share-weighted mean price."""
        m = self.cfg.market
        alive = self.alive_firms()
        if alive:
            best = max(f.digital for f in alive)
            # expectations ratchet: they rise toward the best digital level seen, never
            # fall back when firms cut digital (only a negative drift lowers them)
            rise = m.expectation_rate * max(0.0, best - self.expectation)
            self.expectation = float(np.clip(self.expectation + rise + m.expectation_drift, 0.0, 1.0))
        if len(alive) >= 2:
            spread = max(f.digital for f in alive) - min(f.digital for f in alive)
            self.commodity = 1.0 - min(1.0, spread / m.commodity_spread)
        else:
            self.commodity = 0.0
        s = m.shock
        self.shock_active = s.start >= 0 and s.start <= self.steps < s.end

    def _set_mean_price(self) -> None:
        alive = self.alive_firms()
        weight = sum(f.share for f in alive)
        if weight > 0:
            self.mean_price = sum(f.price * f.share for f in alive) / weight
        elif alive:
            self.mean_price = sum(f.price for f in alive) / len(alive)

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance the market one step (one month by default).

        Phases, in order:

        1. **Entry**: firms whose ``enter_step`` is this step become alive.
        2. **Exit**: alive firms with cash below their bankruptcy line leave; their
           customers lose their provider and must choose again in phase 5.
        3. **Market**: digital expectation E moves toward the best alive digital
           level; commoditisation index from the spread of digital levels; shock window.
        4. **Firm decisions**: each alive firm, if adaptive, first moves its
           digital/human levels, then sets its price by its pricing rule
           (``firms.do("decide")``); then the share-weighted mean price is computed.
        5. **Customers** (one Numba kernel pass, :func:`sim.kernels.customer_step`):
           adoption, contact, experience, trust/engagement and the building blocks,
           interventions, data sharing, price sensitivity, switching, recommendation,
           and the per-firm / per-segment tallies.
        6. **Accounts**: firms book revenue, costs and profit into cash; reputation
           follows NPS.
        7. **Record** the step's outputs.
        """
        t = self.steps
        for f in self.firm_list:
            if not f.alive and f.exited_at is None and f.cfg.enter_step == t:
                f.alive = True
        self._lost_at_exit[:] = 0.0
        for f in self.alive_firms():
            if f.cash < f.cfg.bankruptcy:
                f.alive = False
                f.exited_at = t
                lost = self.pop.provider == f.index
                self._lost_at_exit[f.index] = np.count_nonzero(lost)
                self.pop.provider[lost] = K.NO_FIRM
        self._update_market()
        self.firms.do("decide")
        self._set_mean_price()
        self._fill_kernel_inputs()
        K.customer_step(np.uint64(K.step_key(self.cfg.seed, t)), self.par, self.firm_cols, self.interv,
                        self.pop.traits, self.pop.state, self.pop.small, self.pop.provider,
                        self.pop.tenure, self.bounds, self.tally, self.seg_tally)
        tal = self.tally.sum(axis=0)
        seg = self.seg_tally.sum(axis=0)
        customers = tal[:, K.T_CUSTOMERS]
        assigned = customers.sum()
        self.adopted = int(seg[:, K.S_ADOPTED].sum())
        self.adoption = self.adopted / self.n
        self.mean_alpha = float(tal[:, K.T_ALPHA].sum() / assigned) if assigned else self.mean_alpha
        m = self.cfg.market
        for f in self.firm_list:
            f.customers = int(customers[f.index])
            f.share = f.customers / assigned if assigned else 0.0
            f.settle(customers[f.index], tal[f.index, K.T_HUMAN], self.n)
            if f.alive and f.customers:
                nps = (tal[f.index, K.T_PROMOTERS] - tal[f.index, K.T_DETRACTORS]) / f.customers
                f.reputation += m.reputation_memory * (nps - f.reputation)
        self.recorder.record(self, t, tal, seg)
        self._prev_customers = customers.copy()

    def run(self) -> None:
        """Run all ``cfg.steps`` steps."""
        for _ in range(self.cfg.steps):
            self.step()

    def quadrants(self) -> list[int]:
        return [quadrant(f.digital, f.human) for f in self.firm_list]

