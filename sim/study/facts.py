"""The stylized facts of the source articles, each tied to the mechanism that produces it.

Every fact is a :class:`Fact`: a claim, the mechanism it is about (in words, and as the
config overrides that switch that mechanism off: its *ablation*), the structural
variations of the market in which it applies, and a measurement that compares runs and
returns an :class:`Outcome`. Measurements pass through customers' choices (share, churn,
tenure, NPS, profit, survival, leaving the market), never through the quantity the
mechanism itself writes. A fact must hold at the defaults and fail (or clearly weaken)
with its mechanism switched off; ``tests/study/test_facts.py`` checks both, and
``make facts`` (:mod:`sim.study.robustness`) measures each fact over a parameter
neighbourhood and a set of structural variations (docs/FACTS.md).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..engine.layout import Sm
from .measures import churn_test, exit_step, last, run_churn, share_at

#: Structural variations of the market (:mod:`sim.study.robustness`): name -> overrides. "twins" adds a
#: second digital-only and a second digital-and-human firm (conf/firms/four_quadrants_twins.yaml);
#: "excluded" makes 70% of customers digitally excluded.
VARIATIONS: dict[str, tuple[str, ...]] = {
    "three firms": ("~firms.neither",),
    "six firms (twins)": ("firms=four_quadrants_twins",),
    "equal start prices": (
        "firms.neither.price=1.0",
        "firms.digital_only.price=1.0",
        "firms.human_only.price=1.0",
        "firms.both.price=1.0",
    ),
    "240 steps": ("steps=240",),
    "70% excluded": (
        "customers.segments.natives.share=0.15",
        "customers.segments.late_adopters.share=0.15",
        "customers.segments.excluded.share=0.7",
    ),
    "100,000 customers": ("customers.n=100000",),
}
#: The variations that apply to a four-quadrant market (baseline, disruptor, shock); "three firms" only
#: where the fact is not about quadrant 1.
FOUR_QUADRANTS = frozenset(VARIATIONS)


@dataclass
class Outcome:
    """Whether a fact held in one run set, and what was measured (name -> value)."""

    holds: bool
    measured: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    """Where a conditional fact holds, in words a strategy researcher can use, and as a test of a sampled
    draw (config path -> value): docs/FACTS.md reports the fact's share of draws inside and outside it."""

    text: str
    inside: Callable[[Mapping[str, float]], bool]


def digital_gap(a: str, b: str) -> Callable[[Mapping[str, float]], float]:
    """Firm ``a``'s digital level minus firm ``b``'s in a sampled draw."""
    return lambda point: point[f"firms.{a}.digital"] - point[f"firms.{b}.digital"]


def _q3_q4_level(point: Mapping[str, float]) -> bool:
    return abs(digital_gap("digital_only", "both")(point)) <= 0.05


@dataclass(frozen=True)
class Fact:
    """A stylized fact: its claim, its mechanism and the overrides that switch it off, where it applies,
    and its measurement ``measure(runs) -> Outcome``."""

    number: int
    claim: str
    mechanism: str
    ablation: tuple[str, ...]
    measure: Callable[[Runs], Outcome]
    applies: frozenset[str] = FOUR_QUADRANTS
    #: Variations outside the fact's premise -> why (measured and shown in docs/FACTS.md, not counted).
    outside: Mapping[str, str] = field(default_factory=dict)
    #: For a fact that is conditional on the economics: the condition under which it holds.
    condition: Condition | None = None

    def run(self, seed: int, n: int, extra: Sequence[str] = (), ablate: bool = False) -> Outcome:
        """The fact measured at ``seed`` with ``n`` customers and the overrides ``extra`` (and its ablation)."""
        return self.measure(Runs(seed, n, (*extra, *(self.ablation if ablate else ()))))


class Runs:
    """The runs of one measurement: every run of a scenario gets the measurement's overrides (``extra``:
    a parameter point, a structural variation, an ablation); a firm override for a firm the scenario does
    not have is left out. Runs shared by several facts are made once."""

    def __init__(self, seed: int, n: int, extra: Sequence[str] = ()):
        self.seed, self.n, self.extra = seed, n, tuple(extra)

    def args(self, scenario: str, more: Sequence[str] = ()) -> tuple[str, ...]:
        firms = _firms_of(scenario)
        kept = []
        for o in self.extra:
            key = o.lstrip("+~").split("=", 1)[0]
            if key.startswith("firms.") and not o.startswith("+") and key.split(".")[1] not in firms:
                continue
            kept.append(o)
        return (f"scenario={scenario}", f"customers.n={self.n}", *kept, *more)

    def dataset(self, scenario: str, *more: str):
        return _run_cached(self.args(scenario, more), self.seed)

    def model(self, scenario: str, *more: str):
        import sim

        model = sim.build(list(self.args(scenario, more)), seed=self.seed)
        model.run()
        return model


@functools.cache
def _firms_of(scenario: str) -> frozenset[str]:
    from ..settings.compose import compose_config

    return frozenset(compose_config([f"scenario={scenario}"]).firms)


@functools.lru_cache(maxsize=64)
def _run_cached(args: tuple[str, ...], seed: int):
    import sim

    return sim.run(list(args), seed=seed)


def fact1(r: Runs) -> Outcome:
    ds = r.dataset("baseline")
    first = exit_step(ds, "neither")
    others = min(exit_step(ds, f) for f in ds.firm.values if f != "neither")
    return Outcome(
        math.isfinite(first) and first < others, {"neither exits at": first, "first exit of another firm": others}
    )


def fact2(r: Runs) -> Outcome:
    kept = {}
    for sc in ("baseline", "disruptor"):
        ds = r.dataset(sc)
        kept[sc] = last(ds, "share", "human_only") / share_at(ds, "human_only", 35)
    out = {
        "quadrant 2's share kept from step 35, no entrant": kept["baseline"],
        "quadrant 2's share kept from step 35, with the disruptor": kept["disruptor"],
    }
    return Outcome(kept["baseline"] > 0.6 and kept["disruptor"] < kept["baseline"] - 0.05, out)


def _markup(ds, firms=None) -> float:
    """Mean price - unit cost over the firms' alive steps of the second half of the run."""
    half = ds.isel(step=slice(ds.sizes["step"] // 2, None))
    m = (half.price - half.unit_cost).where(half.alive == 1)
    return float((m if firms is None else m.sel(firm=firms)).mean())


def fact3(r: Runs) -> Outcome:
    five = r.dataset("commoditisation")
    two = r.dataset("commoditisation", "~firms.gamma", "~firms.delta", "~firms.epsilon")
    apart = r.dataset("commoditisation", "firms.epsilon.human=0.8")
    rivals = ["alpha", "beta", "gamma", "delta"]
    out = {
        "markup, five look-alikes": _markup(five),
        "markup, two look-alikes": _markup(two),
        "markup of a firm that moves up the human axis": _markup(apart, ["epsilon"]),
        "markup of its look-alike rivals": _markup(apart, rivals),
    }
    ok = (
        out["markup, five look-alikes"] < 0.9 * out["markup, two look-alikes"]
        and out["markup of a firm that moves up the human axis"] > 1.2 * out["markup of its look-alike rivals"]
    )
    return Outcome(ok, out)


def fact4(r: Runs) -> Outcome:
    ds = r.dataset("baseline")
    lastrow = ds.isel(step=-1)
    others = [f for f in ds.firm.values if bool(lastrow.alive.sel(firm=f)) and not f.startswith("both")]
    q4 = [f for f in ds.firm.values if f.startswith("both") and bool(lastrow.alive.sel(firm=f))]
    out = {}
    ok = bool(q4 and others)
    for name, values in (
        ("share", lastrow.share),
        ("nps", lastrow.nps),
        ("profit", ds.profit.sum("step")),
        ("relationship length (1 / churn)", 1.0 / ds.churn.isel(step=slice(-24, None)).mean("step")),
    ):
        if not ok:
            break
        best_q4 = float(values.sel(firm=q4).max())
        best_other = float(values.sel(firm=others).max())
        out[f"{name}: best quadrant 4"], out[f"{name}: best other"] = best_q4, best_other
        ok &= best_q4 > best_other
    return Outcome(bool(ok), out)


def fact5(r: Runs) -> Outcome:
    ds = r.dataset("steering")
    firms = ["open", "nudging", "closing"]
    out = {f"{v}: {f}": last(ds, v, f) for v in ("share", "nps", "unit_cost") for f in firms}
    ok = all(out[f"{v}: open"] > out[f"{v}: nudging"] > out[f"{v}: closing"] for v in ("share", "nps", "unit_cost"))
    return Outcome(ok, out)


def fact6(r: Runs) -> Outcome:
    model = r.model("inclusion")
    pop = model.pop
    adopted = pop.small[Sm.ADOPTED] == 1
    d_only = model.firm_names.index("digital_only")

    def at_digital_only(mask):
        return float(np.mean(pop.provider[mask] == d_only)) if mask.any() else math.nan

    out = {
        "non-adopters at the digital-only firm": at_digital_only(~adopted),
        "adopters at the digital-only firm": at_digital_only(adopted),
    }
    return Outcome(out["non-adopters at the digital-only firm"] < 0.25 * out["adopters at the digital-only firm"], out)


def fact7(r: Runs) -> Outcome:
    on = r.dataset("personalisation")
    off = r.dataset("personalisation", "firms.personalising.personalisation=0")
    out = {
        "share, personalising": last(on, "share", "personalising"),
        "share, personalisation off": last(off, "share", "personalising"),
        "customers sharing data at the personalising firm": last(on, "data_shared", "personalising"),
    }
    return Outcome(out["share, personalising"] > out["share, personalisation off"] + 0.01, out)


def fact8(r: Runs) -> Outcome:
    community, webinar = 0, 1
    on = r.model("interventions")
    off = r.model("interventions", "firms.community.intervention=[0.0,0.0,0.0]")

    def share(model, form):
        pop = model.pop
        fans = pop.small[Sm.FORM] == form
        return float(np.mean(pop.provider[fans] == model.firm_names.index("community")))

    gain_fans = share(on, community) - share(off, community)
    gain_others = share(on, webinar) - share(off, webinar)
    out = {
        "community firm's gain among community lovers": gain_fans,
        "community firm's gain among webinar lovers": gain_others,
    }
    return Outcome(gain_fans > 0.02 and gain_fans > 3 * abs(gain_others), out)


def fact9(r: Runs) -> Outcome:
    shock = r.dataset("shock")
    calm = r.dataset("shock", "market.shock.start=-1", "market.shock.end=-1")
    loss = (shock.share - calm.share).sel(step=min(40, int(shock.step.max())))
    incumbents = [f for f in loss.firm.values if f != "neither" and bool(shock.alive.sel(firm=f).isel(step=-1))]
    loss = loss.sel(firm=incumbents)
    out = {
        "share lost by step 40: human_only": float(loss.sel(firm="human_only")),
        "share lost by step 40: worst other": float(loss.drop_sel(firm="human_only").min()),
    }
    ok = str(loss.idxmin("firm").values) == "human_only" and out["share lost by step 40: human_only"] < -0.02
    return Outcome(ok, out)


def fact10(r: Runs) -> Outcome:
    ds = r.dataset("baseline")
    out = churn_test(ds, "human_only", "digital_only")
    out["share at step 35"] = share_at(ds, "human_only", 35)
    out["share at the end"] = last(ds, "share", "human_only")
    ok = out["p (equal churn)"] < 0.05 and out["share at the end"] < out["share at step 35"]
    return Outcome(ok, out)


#: Satisfaction at the lower edge of the zone of tolerance: contacts that just meet adequate service.
SATISFIED = 0.5


def fact11(r: Runs) -> Outcome:
    ds = r.dataset("baseline")
    lastrow = ds.isel(step=-1)
    out = {
        "satisfaction: digital_only": last(ds, "satisfaction", "digital_only"),
        "satisfaction: both": last(ds, "satisfaction", "both"),
        "NPS: digital_only": last(ds, "nps", "digital_only"),
        "NPS: both": last(ds, "nps", "both"),
    }
    k_d, e_d = run_churn(ds, "digital_only")
    k_b, e_b = run_churn(ds, "both")
    out["run churn: digital_only"] = k_d / e_d if e_d else math.nan
    out["run churn: both"] = k_b / e_b if e_b else math.nan
    ok = (
        out["satisfaction: digital_only"] > SATISFIED
        and out["NPS: digital_only"] < out["NPS: both"] - 20
        and out["run churn: digital_only"] > 1.5 * out["run churn: both"]
        and bool(lastrow.alive.sel(firm="digital_only"))
    )
    return Outcome(ok, out)


def fact12(r: Runs) -> Outcome:
    import sim

    mono = ["~firms.neither", "~firms.digital_only", "~firms.human_only", "firms.both.pricing=fixed"]
    runs = {}
    for hike in (False, True):
        model = sim.build(list(r.args("baseline", [*mono, "steps=60"])), seed=r.seed)
        for t in range(60):
            if hike and t == 30:  # a 30% rise of the list price, at once
                firm = next(f for f in model.firm_list if f.name == "both")
                firm.cfg = dataclasses.replace(firm.cfg, price=firm.cfg.price * 1.3)
                firm.price = firm.cfg.price
            model.step()
        runs[hike] = sim.dataset(model)
    out = {
        "customers who left the market, hike": float(runs[True].unassigned[-1]),
        "customers who left the market, no hike": float(runs[False].unassigned[-1]),
    }
    out["extra leavers per 1,000 customers"] = (
        1000 * (out["customers who left the market, hike"] - out["customers who left the market, no hike"]) / r.n
    )
    nash = r.dataset("baseline", *mono[:3], "steps=120")
    out["monopoly price at the end (nash)"] = last(nash, "price", "both")
    ok = out["extra leavers per 1,000 customers"] > 5 and np.isfinite(out["monopoly price at the end (nash)"])
    return Outcome(bool(ok), out)


def fact13(r: Runs) -> Outcome:
    noticed = r.dataset("steering")
    unnoticed = r.dataset("steering", "market.notice_soft=0")
    out = {
        "unit cost: nudging / open": last(noticed, "unit_cost", "nudging") / last(noticed, "unit_cost", "open"),
        "share: nudging, noticed": last(noticed, "share", "nudging"),
        "share: nudging, unnoticed": last(unnoticed, "share", "nudging"),
    }
    ok = (
        out["unit cost: nudging / open"] < 1.0
        and out["share: nudging, noticed"] < out["share: nudging, unnoticed"] - 0.01
    )
    return Outcome(ok, out)


def _mean_human(ds) -> float:
    lastrow = ds.isel(step=-1)
    alive = [f for f in ds.firm.values if bool(lastrow.alive.sel(firm=f))]
    return float(lastrow.human.sel(firm=alive).mean()) if alive else math.nan


def fact14(r: Runs) -> Outcome:
    ds = r.dataset("adaptive")
    lastrow = ds.isel(step=-1)
    alive = [f for f in ds.firm.values if bool(lastrow.alive.sel(firm=f))]
    human = lastrow.human.sel(firm=alive).values if alive else np.array([])
    out = {
        "highest human level of a survivor": float(human.max()) if human.size else math.nan,
        "lowest human level of a survivor": float(human.min()) if human.size else math.nan,
    }
    ok = (
        human.size >= 2
        and 0.3 < out["lowest human level of a survivor"]
        and out["highest human level of a survivor"] < 0.95
    )
    return Outcome(bool(ok), out)


LOW_HUMAN_PREF = (
    "customers.segments.natives.human_pref=0.1",
    "customers.segments.late_adopters.human_pref=0.2",
    "customers.segments.excluded.human_pref=0.3",
)
HIGH_HUMAN_PREF = (
    "customers.segments.natives.human_pref=0.6",
    "customers.segments.late_adopters.human_pref=0.75",
    "customers.segments.excluded.human_pref=0.9",
)


def fact15(r: Runs) -> Outcome:
    out = {
        "survivors' mean human level, digital-minded customers": _mean_human(r.dataset("adaptive", *LOW_HUMAN_PREF)),
        "survivors' mean human level, human-minded customers": _mean_human(r.dataset("adaptive", *HIGH_HUMAN_PREF)),
    }
    ok = (
        out["survivors' mean human level, digital-minded customers"]
        < out["survivors' mean human level, human-minded customers"] - 0.04
    )
    return Outcome(ok, out)


#: Every fact, numbered as in the model brief (docs/ODD.md section 1.2 lists them).
FACTS: dict[int, Fact] = {
    f.number: f
    for f in (
        Fact(
            1,
            "Quadrant 1 (neither digital nor human) runs out of reserves and exits first.",
            "customers value service on both axes: the digital value (quadratic shortfall below E) and the human "
            "value (below H) in their choice",
            ("market.beta_digital=0", "market.beta_human=0", "market.beta_emotion=0"),
            fact1,
            FOUR_QUADRANTS - {"three firms"},
        ),
        Fact(
            2,
            "Without an entrant quadrant 2 keeps most of its share; after a digital disruptor enters it loses "
            "it clearly faster.",
            "customers review their provider and move to an offer that serves them better for the money: the "
            "entrant's lean price wins quadrant 2's price-sensitive customers (its digital lead adds little once "
            "the digital basics are the entry ticket: without any value of digital the loss is the same)",
            ("market.review_hazard=0",),
            fact2,
            FOUR_QUADRANTS - {"six firms (twins)"},
        ),
        Fact(
            3,
            "In the fighter's market price competition erodes margins: five digital-only look-alikes keep "
            "smaller markups than two, and a firm that moves up the human axis escapes with a markup well "
            "above its rivals'.",
            "firms set Bertrand-Nash prices against the demand they see (look-alikes serve the same customers)",
            (
                "firms.alpha.pricing=fixed",
                "firms.beta.pricing=fixed",
                "firms.gamma.pricing=fixed",
                "firms.delta.pricing=fixed",
                "firms.epsilon.pricing=fixed",
            ),
            fact3,
            frozenset({"240 steps", "100,000 customers"}),
        ),
        Fact(
            4,
            "Quadrant 4 (digital and human) ends with the largest share, the highest NPS, the longest "
            "relationships and the most profit.",
            "customers value service on both axes: the digital value, the human value and the emotional bond "
            "on top of working digital basics (which also lengthens relationships)",
            ("market.beta_digital=0", "market.beta_human=0", "market.beta_emotion=0", "market.hazard_engagement=0"),
            fact4,
        ),
        Fact(
            5,
            "Hard steering loses more customers and NPS than soft, soft more than none, while it lowers the "
            "service cost.",
            "steering replaces the human contact customers ask for (and, once noticed, costs freedom and trust); "
            "customers let down review their provider more often (the review hazard falls with trust, engagement "
            "and freedom) and warn others (NPS is the firms' reputation)",
            (
                "market.hazard_trust=0",
                "market.hazard_engagement=0",
                "market.hazard_freedom=0",
                "market.beta_reputation=0",
            ),
            fact5,
            frozenset({"240 steps", "100,000 customers"}),
        ),
        Fact(
            6,
            "Digitally excluded customers do not stay with a digital-only firm: non-adopters are far less "
            "often its customers than adopters.",
            "a customer without digital skills wants a person for every contact (the human value weighs fully) "
            "and gets a worse digital experience",
            ("market.beta_human=0", "market.beta_emotion=0", "market.adoption.exclusion_quality=1"),
            fact6,
            frozenset({"240 steps", "100,000 customers"}),
        ),
        Fact(
            7,
            "Trust above a customer's privacy threshold unlocks data, and through personalisation a better digital "
            "experience that wins customers: a personalising firm takes share from an otherwise identical one.",
            "data is shared only with a provider trusted above the customer's privacy threshold, and shared data "
            "personalises the digital service",
            (
                "customers.segments.natives.privacy=0.999",
                "customers.segments.late_adopters.privacy=0.999",
                "customers.segments.excluded.privacy=0.999",
            ),
            fact7,
            frozenset({"240 steps", "100,000 customers"}),
        ),
        Fact(
            8,
            "An engagement intervention wins customers who like its form, not the others.",
            "engagement lengthens relationships and lowers price sensitivity; an intervention raises the "
            "engagement of customers who prefer its form",
            ("market.hazard_engagement=0", "market.alpha_engagement=0", "market.rec_engagement=0"),
            fact8,
            frozenset({"240 steps", "100,000 customers"}),
        ),
        Fact(
            9,
            "A shock that cuts human channels costs quadrant 2 the most share.",
            "the shock cuts human capacity: customers who want a person do not get one",
            ("market.shock.human_cut=0",),
            fact9,
            FOUR_QUADRANTS - {"six firms (twins)"},
        ),
        Fact(
            10,
            "Quadrant 2 keeps a loyal core (over the run its customers leave less often than quadrant 3's, "
            "significantly) while its share erodes as digital adoption spreads (strong today, insufficient "
            "tomorrow).",
            "engagement from human service lengthens relationships (the review hazard falls with engagement)",
            ("market.hazard_engagement=0", "market.hazard_trust=0"),
            fact10,
            FOUR_QUADRANTS - {"three firms", "70% excluded"},
            {
                "70% excluded": "the erosion is the spread of digital adoption, which a market of mostly "
                "excluded customers does not have: there quadrant 2 keeps its share, a finding",
            },
        ),
        Fact(
            11,
            "Quadrant 3's customers are satisfied but cold: their contacts meet their expectations (mean "
            "satisfaction above the edge of the zone of tolerance), yet their NPS is far lower than quadrant "
            "4's and their relationships end far more often (Booking versus Airbnb).",
            "satisfaction is met expectations, saturating above them, while engagement (and with it "
            "recommendation and duration) comes from the emotional value of human service",
            (
                "market.beta_emotion=0",
                "market.hazard_engagement=0",
                "market.rec_engagement=0",
                "market.emotion_scale=1000",
                "market.engagement_rate=0",
            ),
            fact11,
            FOUR_QUADRANTS,
            condition=Condition(
                "quadrants 3 and 4 are equally digital (within 0.05 of each other on the digital axis): where "
                "quadrant 3 lags, the frontier sets expectations and its customers are not satisfied; where "
                "quadrant 4 lags, its customers are the less satisfied and its NPS lead shrinks",
                _q3_q4_level,
            ),
        ),
        Fact(
            12,
            "A price hike feels unfair and drives customers out of the market even without a cheaper rival; a "
            "monopolist's Nash price stays finite.",
            "dual entitlement: a price above the remembered reference price costs fairness and trust, and with "
            "them relationships",
            ("market.fairness_trust_loss=0", "market.fairness_rate=0"),
            fact12,
            frozenset({"240 steps", "100,000 customers", "70% excluded"}),
        ),
        Fact(
            13,
            "Steering saves service cost, but once customers notice it, it loses them.",
            "noticed steering costs freedom of choice and trust",
            ("market.steer_trust_loss=0", "market.steer_freedom_loss=0"),
            fact13,
            frozenset({"240 steps", "100,000 customers"}),
        ),
        Fact(
            14,
            "Adaptive firms settle inside the map on the human axis, not in the human corner: better people "
            "cost more than in proportion and their value saturates.",
            "diminishing value of human service (saturating above H, concave emotional weight) against its convex cost",
            ("market.human_scale=1000", "market.emotion_scale=1000", "market.human_contact_exponent=1"),
            fact14,
            frozenset({"240 steps", "70% excluded"}),
        ),
        Fact(
            15,
            "The human level that pays depends on the customers: adaptive firms end with less human service "
            "where customers care less for a person.",
            "customers' human preference weighs the value of human service in their choice",
            ("market.beta_human=0",),
            fact15,
            frozenset({"240 steps"}),
        ),
    )
}
