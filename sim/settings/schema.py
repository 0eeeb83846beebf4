"""Configuration schema: typed dataclasses with units, ranges and defaults.

One dataclass per concern (``market``, ``customers``, ``firms``), gathered in
:class:`SimConfig`. Every numeric field carries its allowed range and units in the
field metadata; :func:`validate` checks a whole config against them before any work
starts and raises :class:`ConfigError` with one line naming the field, the value
and the allowed range.

Money is expressed **per customer in the market** (total money divided by the
number of customers), so a scenario behaves the same at any population size.
Time is in steps (one month by default).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

from ..engine.layout import FORMS, STEERING_MODES

INF = math.inf
#: Allowed ``pricing`` and ``strategy`` values: the keys of the registries ``sim.firms.pricing.PRICING``
#: and ``sim.firms.strategies.STRATEGIES`` (the firms import this schema, so the names are listed here;
#: tests/firms/test_pricing.py and test_strategies.py hold them equal to the registries).
PRICING_RULES = ("fixed", "markup", "nash")
STRATEGIES = ("static", "adaptive")
__all__ = ["FORMS", "STEERING_MODES"]  # re-exported: the config's option lists in one place


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


def param(default: Any, lo: float = -INF, hi: float = INF, units: str = "", doc: str = "",
          integer: bool = False) -> Any:
    """A dataclass field with its allowed closed range ``[lo, hi]`` and units."""
    return field(default=default, metadata={"range": (lo, hi), "units": units, "doc": doc,
                                            "integer": integer})


def choice(default: str, options: tuple[str, ...], doc: str = "") -> Any:
    """A string field restricted to ``options``."""
    return field(default=default, metadata={"options": options, "doc": doc})


# --------------------------------------------------------------------------- market
@dataclass
class AdoptionConfig:
    """Digital adoption as discrete Bass diffusion among eligible customers."""

    innovation: float = param(0.0005, 0, 1, "1/step", "Bass p: spontaneous adoption probability (the slow trend of "
                              "the default market; 0 switches it off)")
    imitation: float = param(0.005, 0, 1, "1/step", "Bass q: adoption pull of the adopted share")
    expectation_pull: float = param(0.3, 0, 10, "1/step per level",
                                    "adoption probability per unit rise of E above E(0): digital as the norm")
    literacy_threshold: float = param(0.25, 0, 1, "literacy",
                                      "customers below this literacy never adopt (excluded)")
    exclusion_quality: float = param(0.5, 0, 1, "multiplier",
                                     "digital quality a non-adopter gets, relative to an adopter")


@dataclass
class ShockConfig:
    """A window ``[start, end)`` in which human channels are cut and adoption is boosted."""

    start: int = param(-1, -1, 100_000, "step", "first step of the shock; -1 = no shock", True)
    end: int = param(-1, -1, 100_000, "step", "first step after the shock", True)
    human_cut: float = param(0.6, 0, 1, "share", "share of human capacity lost during the shock")
    adoption_boost: float = param(0.05, 0, 1, "probability/step",
                                  "extra adoption probability per step for eligible non-adopters")


@dataclass
class MarketConfig:
    """Market-wide rules: expectations, utility weights, customer dynamics."""

    # digital expectation and the external frontier
    expectation_init: float = param(0.9, 0, 1, "digital level", "E(0), and the external frontier's start")
    expectation_rate: float = param(0.05, 0, 1, "1/step",
                                    "rho: pull of E toward what customers see: the digital level adopters use "
                                    "(their providers' d, weighted by adopters) mixed with the external frontier")
    expectation_drift: float = param(0.005, -0.1, 0.1, "1/step",
                                     "drift of the external frontier (the best digital experiences anywhere) toward "
                                     "1, as a share of the distance per step (negative: toward 0): 'tomorrow' "
                                     "arrives without a disruptor")
    frontier_weight: float = param(0.5, 0, 1, "share",
                                   "weight of the external frontier in what E follows (the rest: the digital level "
                                   "adopters use on this market)")
    burn_in: int = param(24, 0, 10_000, "steps",
                         "steps customers spend with their first provider before step 1 (no switching, "
                         "no adoption, no accounts), so a run starts near the customers' steady state",
                         True)
    # contacts and channels
    contact_rate: float = param(0.4, 0, 1, "probability/step", "chance of a service contact")
    human_expectation: float = param(0.5, 0, 1, "quality", "H(0): quality expected from a human contact")
    human_expectation_rate: float = param(0.02, 0, 1, "1/step",
                                          "pull of H toward the human level customers are served with (each "
                                          "firm's h weighted by its human contacts)")
    gate_center: float = param(-0.2, -1, 1, "level", "basics gap r at which the emotion gate is half open")
    gate_slope: float = param(8.0, 0, 100, "1/digital level", "steepness of the emotion gate")
    notice_soft: float = param(0.3, 0, 1, "probability", "chance a soft-steered contact is noticed")
    # trust and the building blocks
    trust_init: float = param(0.5, 0, 1, "score", "trust in a new provider")
    trust_gain: float = param(0.15, 0, 1, "1/step", "a+: trust gain rate on positive surprise")
    trust_loss: float = param(0.4, 0, 1, "1/step", "a-: trust loss rate on negative surprise")
    trust_human_bonus: float = param(0.1, 0, 1, "quality", "extra surprise a human contact carries (benevolence)")
    tolerance: float = param(0.1, 0, 1, "quality", "zone of tolerance: a shortfall up to this much below "
                             "expectation still counts as met (no trust lost)")
    confirmation: float = param(0.02, 0, 1, "1/step", "trust a contact that meets expectations earns (share of "
                                "the distance to 1)")
    escalation_floor: float = param(0.2, 0, 1, "share", "epsilon: share of an adopter's human preference "
                                    "that asks for a human even when digital meets expectations")
    steer_trust_loss: float = param(0.1, 0, 1, "share", "share of trust lost when steering is noticed")
    steer_freedom_loss: float = param(0.2, 0, 1, "share", "share of freedom lost when steering is noticed")
    freedom_recovery: float = param(0.1, 0, 1, "1/step",
                                    "pull of freedom toward the channel options the customer really has")
    freedom_quality: float = param(0.3, 0, 1, "share", "quality a contact loses at zero freedom of choice")
    hazard_freedom: float = param(1.0, 0, 20, "1/score", "k_f: low freedom of choice raises the review hazard")
    influence_rate: float = param(0.2, 0, 1, "1/step", "pull of influence toward the heard-ness of a contact")
    influence_digital: float = param(1.0, 0, 1, "multiplier", "how much a digital contact lets the customer be heard, "
                                     "relative to its quality (reviews, feedback, communities)")
    influence_engagement: float = param(0.5, 0, 10, "weight",
                                        "weight of influence beside emotional value in the engagement target")
    fairness_rate: float = param(0.1, 0, 1, "1/step", "pull of fairness toward its price target")
    fairness_slope: float = param(2.0, 0, 20, "1/relative price",
                                  "fairness lost per unit of price above the customer's reference price")
    reference_price_rate: float = param(0.05, 0, 1, "1/step",
                                        "pull of the remembered reference price toward the price paid")
    fairness_trust_loss: float = param(0.1, 0, 1, "1/step", "share of trust lost per step per unit of unfairness "
                                       "(1 - fairness)")
    satisfaction_memory: float = param(0.3, 0, 1, "weight", "weight of a new contact in satisfaction (EMA)")
    satisfaction_slope: float = param(20.0, 0, 1000, "1/quality",
                                      "k_s: steepness of a contact's satisfaction in quality minus expectation, "
                                      "0.5 + 0.5 z / (1 + |z|), z = k_s (delta + tolerance): met expectations "
                                      "satisfy, beating them adds less and less")
    # engagement
    engagement_rate: float = param(0.15, 0, 1, "1/step", "pull of engagement toward its target on contact")
    engagement_decay: float = param(0.01, 0, 1, "1/step", "decay of engagement without contact")
    disengage_rate: float = param(0.2, 0, 1, "share", "engagement a non-adopter loses when pushed to digital")
    disengaged_below: float = param(0.05, 0, 1, "engagement", "threshold for counting a customer as disengaged")
    carry_engagement: float = param(0.5, 0, 1, "share", "engagement kept when switching provider")
    # price sensitivity
    alpha_engagement: float = param(0.5, 0, 0.95, "share", "cut of price sensitivity at full engagement")
    alpha_trust: float = param(0.3, 0, 0.95, "share", "cut of price sensitivity at full trust")
    # switching and choice
    review_hazard: float = param(0.12, 0, 1, "probability/step", "h0: review chance at zero trust and engagement")
    hazard_trust: float = param(1.5, 0, 20, "1/score", "k_tau: trust lengthens relationships")
    hazard_engagement: float = param(3.0, 0, 20, "1/score", "k_e: engagement lengthens relationships")
    beta_digital: float = param(6.0, 0, 100, "utility/digital level",
                                "beta_d: weight of the digital value V_d(d - E), times an adopter's digital reliance "
                                "1 - phi (a non-adopter does not value digital)")
    digital_gain: float = param(0.5, 0, 1, "multiplier", "slope of V_d just above E, relative to 1")
    digital_scale: float = param(0.1, 1e-3, 1000, "digital level",
                                 "sigma_d: V_d above E is gain sigma_d (1 - exp(-x / sigma_d)): a lead over E "
                                 "saturates (commoditisation); large sigma_d: linear")
    beta_human: float = param(3.0, 0, 100, "utility/human level",
                              "beta_h: weight of the human value V_h(h - H) times human preference phi")
    human_scale: float = param(0.3, 1e-3, 1000, "human level",
                               "sigma_h: V_h(y) = sigma_h (1 - exp(-y / sigma_h)) above H (saturating: human "
                               "service above expectation adds less and less), y below H; large sigma_h: linear")
    beta_emotion: float = param(2.0, 0, 100, "utility",
                                "weight of the emotional value: affinity x e(h) x the gate of the basics")
    emotion_scale: float = param(0.5, 1e-3, 1000, "human level",
                                 "sigma_e: emotional weight of a human level, e(h) = (1 - exp(-h / sigma_e)) / "
                                 "(1 - exp(-1 / sigma_e)) (diminishing returns); large sigma_e: e(h) = h")
    beta_reputation: float = param(0.5, 0, 100, "utility", "weight of a firm's NPS/100 (word of mouth)")
    outside_utility: float = param(-4.5, -100, 100, "utility",
                                   "V0: utility of leaving the market (no provider); demand bounds prices")
    panel_rate: float = param(0.05, 0, 1, "probability/step",
                              "share of customers in each step's demand panel: their logit choice probabilities "
                              "(as if they reviewed) enter the firms' demand estimates beside those of the customers "
                              "who choose; nobody switches because of it (0: the choosers only)")
    panel_max: int = param(5000, 0, 1_000_000_000, "customers/step",
                           "the demand panel's expected size at most: a market survey's precision rests on "
                           "its size, not on the market's, so the panel's rate is min(panel_rate, panel_max / "
                           "customers)", True)
    inertia: float = param(1.0, -100, 100, "utility",
                           "bonus of the current provider on review; negative = a penalty "
                           "(at -100 a reviewing customer practically always leaves)")
    reputation_memory: float = param(0.2, 0, 1, "weight", "weight of the latest NPS in reputation (EMA)")
    # recommendation
    rec_satisfaction: float = param(0.6, 0, 1, "weight", "weight of satisfaction in the 0-10 likelihood")
    rec_trust: float = param(0.3, 0, 1, "weight", "weight of trust in the 0-10 likelihood")
    rec_engagement: float = param(0.4, 0, 1, "weight", "weight of engagement in the 0-10 likelihood")
    rec_freedom: float = param(0.1, 0, 1, "weight", "weight of freedom of choice in the 0-10 likelihood")
    rec_influence: float = param(0.1, 0, 1, "weight", "weight of influence in the 0-10 likelihood")
    rec_offset: float = param(-0.5, -10, 10, "score points", "added to 10 x the weighted sum")
    rec_noise: float = param(3.5, 0, 10, "score points", "half-width of the triangular noise on the score")
    # firm economics shared by all firms
    base_unit_cost: float = param(0.4, 0, 100, "money/customer/step", "c0")
    human_contact_cost: float = param(1.0, 0, 100, "money/human contact",
                                      "c_h: handling cost of a human contact at h = 1 (times h^gamma)")
    human_staff_cost: float = param(0.6, 0, 100, "money/customer/step",
                                    "c_s: cost per own customer per step of having people there at h = 1 (times "
                                    "h^gamma): staff capacity scales with the customers served, not only with calls")
    human_contact_exponent: float = param(2.0, 1, 10, "",
                                          "gamma: human service at level h costs h^gamma times c_h per contact "
                                          "and c_s per customer (better people cost more than in proportion)")
    intervention_half: float = param(0.02, 1e-9, 100, "money/customer/step",
                                     "spend per customer of the firm at which an intervention has half its effect")
    adoption: AdoptionConfig = field(default_factory=AdoptionConfig)
    shock: ShockConfig = field(default_factory=ShockConfig)


# ------------------------------------------------------------------------ customers
@dataclass
class SegmentConfig:
    """A customer segment: its share and trait distributions.

    Traits in [0, 1] are Beta-distributed with the given mean and concentration
    (a = mean * conc, b = (1 - mean) * conc); ``alpha0`` is Gamma-distributed with
    the given mean and coefficient of variation.
    """

    share: float = param(1.0, 0, 1, "share", "share of the population in this segment")
    literacy: float = param(0.6, 0.001, 0.999, "score", "mean digital skill")
    human_pref: float = param(0.4, 0.001, 0.999, "probability", "mean preference for human contact")
    affinity: float = param(0.5, 0.001, 0.999, "score", "mean wish for a relationship at all")
    privacy: float = param(0.6, 0.001, 0.999, "trust", "mean trust needed before sharing data")
    concentration: float = param(8.0, 0.1, 1000, "", "Beta concentration of the traits above")
    alpha0: float = param(3.0, 0.001, 100, "1/money", "mean base price sensitivity")
    alpha0_cv: float = param(0.2, 0, 5, "", "coefficient of variation of alpha0 (0 = homogeneous)")
    adopted_init: float = param(0.5, 0, 1, "share", "share of eligible customers adopted at the start")
    forms: list[float] = field(default_factory=lambda: [0.25, 0.25, 0.25, 0.25], metadata={
        "doc": "probabilities of preferring community, webinar, video, none (sum 1)",
        "allowed": "a list of 4 probabilities in [0, 1] (community, webinar, video, none) summing to 1"})


@dataclass
class CustomersConfig:
    """The customer population."""

    n: int = param(100_000, 1, 100_000_000, "customers", "number of customers", True)
    segments: dict[str, SegmentConfig] = field(default_factory=dict)


# ---------------------------------------------------------------------------- firms
@dataclass
class FirmConfig:
    """One firm: its position on the quadrant map, prices, costs and behaviour."""

    digital: float = param(0.5, 0, 1, "level", "d: digital service level")
    human: float = param(0.5, 0, 1, "level", "h: human service level")
    price: float = param(1.0, 1e-6, 1000, "money/customer/step", "initial price")
    enter_step: int = param(0, 0, 100_000, "step", "step at which the firm enters", True)
    reserve_months: float = param(12.0, 0, 10_000, "steps of costs",
                                  "start cash: this many steps of the firm's costs at its start (an incumbent's "
                                  "with its first customers, an entrant's with an equal share of the market)")
    bankruptcy: float = param(0.0, -1000, 1000, "money/market customer",
                              "exit when cash falls below (0: when the reserves are exhausted)")
    unit_cost_factor: float = param(1.0, 0, 100, "multiplier",
                                    "the firm's base cost per own customer is this times the market's c0 "
                                    "(below 1: a leaner operation, e.g. a digital entrant)")
    unit_cost_extra: float = param(0.0, 0, 100, "money/customer/step",
                                   "firm-specific variable cost per own customer, added to its base cost and "
                                   "human-service cost: asymmetric costs")
    fixed_cost: float = param(0.04, 0, 100, "money/market customer/step", "f0")
    digital_cost: float = param(0.03, 0, 100, "money/market customer/step", "f_d: fixed cost at d = 1 (times d^2)")
    human_cost: float = param(0.05, 0, 100, "money/market customer/step",
                              "f_h: fixed cost of staff at h = 1 (times h^2): people do not scale")
    human_capacity: float = param(1.0, 0, 1, "share", "share of human-contact demand the staff can serve")
    personalisation: float = param(0.0, 0, 1, "multiplier", "pi: digital gain from shared data")
    steering: str = choice("none", STEERING_MODES, "channel steering mode")
    steering_strength: float = param(0.0, 0, 1, "probability", "share of human requests steered or blocked")
    intervention: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0], metadata={
        "doc": "spend on community, webinar, video (money/market customer/step)",
        "allowed": "a list of 3 numbers in [0, 100] (community, webinar, video spend)"})
    intervention_effect: float = param(0.1, 0, 1, "1/step", "max pull of engagement toward 1 from a matching form")
    pricing: str = choice("nash", PRICING_RULES, "pricing rule: nash (Bertrand-Nash against the demand the "
                          "firm sees), markup, fixed (for teaching)")
    markup: float = param(0.5, 0, 100, "share", "markup over unit cost for the markup rule")
    price_adjust: float = param(0.3, 0, 1, "share/step", "how far a price moves toward its target per step")
    demand_memory: float = param(0.1, 1e-3, 1, "weight",
                                 "weight of the latest step in the firm's estimate of its demand and its slope "
                                 "(nash pricing; 1: the latest step only)")
    penetration_steps: int = param(0, 0, 100_000, "steps",
                                   "penetration pricing: for this many steps from entry (a firm present from "
                                   "the start: from step 1) its price target is cut by penetration_discount", True)
    penetration_discount: float = param(0.0, 0, 0.95, "share", "cut of the price target while penetrating")
    strategy: str = choice("static", STRATEGIES, "position strategy")
    invest_step: float = param(0.02, 0, 1, "level/step", "largest move of d or h per step (adaptive)")
    invest_cost: float = param(0.5, 0, 1000, "money/market customer/level", "cost of moving d or h by 1")


@dataclass
class SimConfig:
    """A whole simulation: horizon, seed and the three concerns."""

    seed: int = param(0, 0, 2**63 - 1, "", "random seed", True)
    steps: int = param(120, 1, 1_000_000, "steps", "horizon (one step = one month)", True)
    scenario: str = field(default="", metadata={"doc": "name of the scenario this config came from"})
    market: MarketConfig = field(default_factory=MarketConfig)
    customers: CustomersConfig = field(default_factory=CustomersConfig)
    firms: dict[str, FirmConfig] = field(default_factory=dict)


# ------------------------------------------------------------------------ validation
def _bound(x: float, integer: bool) -> str:
    if integer and math.isfinite(x):
        return str(int(x))
    return f"{x:g}"


def allowed_range(meta: dict) -> str:
    """The allowed range of a numeric field as text, e.g. ``[0, 1]`` or ``[1, 100000000]``."""
    lo, hi = meta["range"]
    integer = meta.get("integer", False)
    return f"[{_bound(lo, integer)}, {_bound(hi, integer)}]"


def describe_allowed(meta: dict) -> str:
    """What a field accepts, for error messages: ``a number in [0, 1] (probability/step)``."""
    if "range" in meta:
        kind = "a whole number" if meta.get("integer", False) else "a number"
        units = f" ({meta['units']})" if meta.get("units") else ""
        return f"{kind} in {allowed_range(meta)}{units}"
    if "options" in meta:
        return "one of " + ", ".join(meta["options"])
    return meta.get("allowed", "")


def _check_number(path: str, value: Any, meta: dict) -> None:
    integer = meta.get("integer", False)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{path} = {value!r} must be {describe_allowed(meta)}")
    if integer and int(value) != value:
        raise ConfigError(f"{path} = {value!r} must be {describe_allowed(meta)}")
    lo, hi = meta["range"]
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ConfigError(f"{path} = {value!r} is out of range: allowed {allowed_range(meta)}")


def _check_dataclass(obj: Any, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        path = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        if "range" in f.metadata:
            _check_number(path, value, f.metadata)
        elif "options" in f.metadata:
            if value not in f.metadata["options"]:
                raise ConfigError(f"{path} = {value!r} is not allowed: choose "
                                  f"{describe_allowed(f.metadata)}")
        elif dataclasses.is_dataclass(value):
            _check_dataclass(value, path + ".")
        elif isinstance(value, dict):
            for key, item in value.items():
                if dataclasses.is_dataclass(item):
                    _check_dataclass(item, f"{path}.{key}.")


def _check_probabilities(path: str, values: list[float], n: int, what: str, hi: float = 1.0) -> None:
    if len(values) != n:
        raise ConfigError(f"{path} has {len(values)} entries: allowed exactly {n} ({what})")
    for k, v in enumerate(values):
        _check_number(f"{path}[{k}]", v, {"range": (0.0, hi)})


def validate(cfg: SimConfig) -> SimConfig:
    """Check every field of ``cfg`` against its range; raise :class:`ConfigError`.

    Returns ``cfg`` unchanged so it can be chained.
    """
    _check_dataclass(cfg, "")
    if not cfg.firms:
        raise ConfigError("firms is empty: allowed at least 1 firm")
    segs = cfg.customers.segments
    if not segs:
        raise ConfigError("customers.segments is empty: allowed at least 1 segment")
    if len(segs) > 127:
        raise ConfigError(f"customers.segments has {len(segs)} segments: allowed at most 127")
    if len(cfg.firms) > 1000:
        raise ConfigError(f"firms has {len(cfg.firms)} firms: allowed at most 1000")
    total = sum(s.share for s in segs.values())
    if abs(total - 1.0) > 1e-6:
        parts = " + ".join(f"{name} {s.share:g}" for name, s in segs.items())
        raise ConfigError(f"customers.segments.*.share sum to {total:g} ({parts}): allowed a sum of 1")
    for name, seg in segs.items():
        path = f"customers.segments.{name}.forms"
        _check_probabilities(path, seg.forms, len(FORMS) + 1, "community, webinar, video, none")
        if abs(sum(seg.forms) - 1.0) > 1e-6:
            raise ConfigError(f"{path} sums to {sum(seg.forms):g}: allowed a sum of 1")
    for name, firm in cfg.firms.items():
        _check_probabilities(f"firms.{name}.intervention", firm.intervention, len(FORMS),
                             "community, webinar, video", hi=100.0)
        # a firm entering after the horizon never enters (the model warns once): a short run works
    if not any(f.enter_step == 0 for f in cfg.firms.values()):
        raise ConfigError("firms: no firm has enter_step = 0: allowed at least one firm present at the start")
    shock = cfg.market.shock
    if shock.start >= 0 and shock.end <= shock.start:
        raise ConfigError(f"market.shock.end = {shock.end} must be after market.shock.start = {shock.start}")
    return cfg


def field_docs(cls: type = SimConfig, prefix: str = "") -> list[tuple[str, Any, str, str, str]]:
    """Rows ``(path, default, range, units, doc)`` of every documented field, for docs and --help.

    Nested dataclasses are expanded; a ``dict`` of dataclasses (segments, firms) is
    expanded once under a placeholder key, e.g. ``firms.<firm>.price``.
    """
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        default = f.default if f.default is not dataclasses.MISSING else None
        tp = hints.get(f.name)
        if dataclasses.is_dataclass(tp):
            rows += field_docs(tp, path + ".")
            continue
        item = typing.get_args(tp)[-1] if typing.get_origin(tp) is dict else None
        if dataclasses.is_dataclass(item):
            rows += field_docs(item, f"{path}.<{item.__name__.removesuffix('Config').lower()}>.")
            continue
        meta = f.metadata
        rng = ""
        if "range" in meta:
            rng = allowed_range(meta)
        elif "options" in meta:
            rng = " | ".join(meta["options"])
        if default is None and f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        rows.append((path, default, rng, meta.get("units", ""), meta.get("doc", "")))
    return rows
