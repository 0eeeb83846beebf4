"""The layout of the customer arrays and of the kernel's inputs and outputs: one table.

Every row of the population arrays, every market parameter the kernel reads, every
firm column, tally column and random stream is declared here once, with its name,
units and meaning; every index and count elsewhere is derived from these tables
(``St.TRUST``, ``P.TRUST_GAIN``, ``len(P)``), never typed by hand. The index sets
are :class:`enum.IntEnum` classes, which Numba compiles as integer constants.

Adding a customer parameter costs its :data:`PARAMS` entry (named as its config
field, with the config path it is filled from) and the rule that uses it; adding a
state row costs its :data:`STATES` entry (and its initial value in
:func:`sim.engine.state.draw_population`) and the rules that move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

NO_FIRM = -1  #: sentinel provider for a customer without a firm


@dataclass(frozen=True)
class Row:
    """One row of a population array, or one column of a firm or tally table.

    ``name`` is the attribute name everywhere (the reference's customer fields, the
    enum member in upper case); ``units`` and ``doc`` feed docs/ODD.md.
    """

    name: str
    units: str
    doc: str
    source: str = ""  #: where a firm column is read from (an attribute of ``sim.firms.agents.Firm``)
    #: for a firm tally recorded as a mean over the firm's customers: (output name, long_name, units)
    mean: tuple[str, str, str] = ()
    #: a state row also summed per segment (a column of :data:`SEGMENT_TALLIES`)
    per_segment: bool = False
    #: a small-integer row set when the population is drawn and never written by the kernel
    static: bool = False


@dataclass(frozen=True)
class Param:
    """One entry of the kernel's market parameter vector ``par`` (float64).

    ``path`` is the config field it is filled from (``market.trust_gain``); an empty
    ``path`` marks market state the model sets each step (``doc`` says how).
    ``float32`` stores the value rounded to float32 (a threshold compared with float32 data).
    """

    name: str
    path: str = ""
    doc: str = ""
    float32: bool = False


def _enum(name: str, entries) -> type[IntEnum]:
    return IntEnum(name, [(e.name.upper(), i) for i, e in enumerate(entries)])


# --------------------------------------------------------------------- customers
#: Static traits, ``traits : float32[len(TRAITS), N]``, drawn once per segment.
TRAITS = (
    Row("literacy", "1", "digital skill; below `adoption.literacy_threshold` a customer never adopts "
        "digital channels (digitally excluded)"),
    Row("human_pref", "1", "phi: human preference; an adopter wants a human for a contact with probability "
        "phi times the escalation factor; in choice phi weighs human service and 1 - phi an adopter's digital "
        "taste"),
    Row("affinity", "1", "w: how much the customer wants a relationship at all; scales the engagement "
        "target, the emotional term of utility and intervention effects"),
    Row("privacy", "1", "trust needed before the customer shares data with the provider"),
    Row("alpha0", "1/money", "base price sensitivity"),
)
#: Dynamic scores, ``state : float32[len(STATES), N]``; each is tallied per firm as a sum.
STATES = (
    Row("trust", "1", "tau: trust in the current provider",
        mean=("trust", "mean trust of the firm's customers", "1"), per_segment=True),
    Row("engagement", "1", "e: emotional engagement with the provider",
        mean=("engagement", "mean engagement of the firm's customers", "1"), per_segment=True),
    Row("satisfaction", "1", "met expectations: moving average of the satisfaction of contacts (a saturating "
        "function of quality minus the channel's expectation)",
        mean=("satisfaction", "mean satisfaction of the firm's customers", "1"), per_segment=True),
    Row("freedom", "1", "perceived freedom of choice", mean=("freedom", "mean perceived freedom of choice", "1")),
    Row("influence", "1", "feels heard", mean=("influence", "mean feeling of being heard", "1")),
    Row("fairness", "1", "price and treatment feel fair", mean=("fairness", "mean perceived fairness", "1")),
    Row("alpha", "1/money", "current price sensitivity",
        mean=("price_sensitivity_firm", "mean price sensitivity alpha of the firm's customers", "1/money"),
        per_segment=True),
    Row("ref_price", "money/customer/step", "remembered reference price: what the customer is used to paying",
        mean=("reference_price", "mean remembered reference price of the firm's customers", "money/customer/step")),
)
#: Small integers, ``small : int8[len(SMALLS), N]``.
SMALLS = (
    Row("shared", "0/1", "data shared with the current provider"),
    Row("adopted", "0/1", "uses digital channels; once 1, stays 1"),
    Row("score", "0..10", "this step's recommendation likelihood (promoter 9-10, detractor 0-6)"),
    Row("form", "0..forms", "preferred engagement form (index into `FORMS`; the last value is none); static",
        static=True),
    Row("segment", "0..S-1", "segment index (config order); static", static=True),
)
#: Per-customer arrays outside the three blocks: (name, dtype, doc).
VECTORS = (
    ("provider", "int16", "index of the current firm, `NO_FIRM` (-1) for none"),
    ("tenure", "int32", "steps with the current provider"),
)

Tr = _enum("Tr", TRAITS)
St = _enum("St", STATES)
Sm = _enum("Sm", SMALLS)
#: The small-integer rows the kernel writes (the others are static).
SM_DYNAMIC = tuple(int(Sm[r.name.upper()]) for r in SMALLS if not r.static)

#: The attributes of one customer in the reference (traits, state, small, provider, tenure).
TRAIT_FIELDS = tuple(r.name for r in TRAITS)
STATE_FIELDS = tuple(r.name for r in STATES)
SMALL_FIELDS = tuple(r.name for r in SMALLS)
CUSTOMER_FIELDS = (*TRAIT_FIELDS, *STATE_FIELDS, *SMALL_FIELDS, *(v[0] for v in VECTORS))

#: Bytes of state per customer: float32 traits and state, int8 smalls, int16 provider, int32 tenure.
BYTES_PER_CUSTOMER = (len(TRAITS) + len(STATES)) * 4 + len(SMALLS) + 2 + 4

# ----------------------------------------------------------------- market inputs
#: The market parameter vector ``par``: float64[len(PARAMS)].
PARAMS = (
    Param("expectation", doc="digital expectation E of this step"),
    Param("adopt_prob", doc="adoption probability of an eligible non-adopter this step (Bass, shock, pull)"),
    Param("literacy_threshold", "market.adoption.literacy_threshold", float32=True),
    Param("exclusion_quality", "market.adoption.exclusion_quality"),
    Param("contact_rate", "market.contact_rate"),
    Param("human_expectation", doc="human expectation H of this step (follows the human level customers are "
          "served with)"),
    Param("gate_center", "market.gate_center"),
    Param("gate_slope", "market.gate_slope"),
    Param("notice_soft", "market.notice_soft"),
    Param("trust_init", "market.trust_init"),
    Param("trust_gain", "market.trust_gain"),
    Param("trust_loss", "market.trust_loss"),
    Param("trust_human_bonus", "market.trust_human_bonus"),
    Param("tolerance", "market.tolerance"),
    Param("confirmation", "market.confirmation"),
    Param("escalation_floor", "market.escalation_floor"),
    Param("steer_trust_loss", "market.steer_trust_loss"),
    Param("steer_freedom_loss", "market.steer_freedom_loss"),
    Param("freedom_recovery", "market.freedom_recovery"),
    Param("freedom_quality", "market.freedom_quality"),
    Param("hazard_freedom", "market.hazard_freedom"),
    Param("influence_engagement", "market.influence_engagement"),
    Param("influence_rate", "market.influence_rate"),
    Param("influence_digital", "market.influence_digital"),
    Param("fairness_rate", "market.fairness_rate"),
    Param("fairness_slope", "market.fairness_slope"),
    Param("fairness_trust_loss", "market.fairness_trust_loss"),
    Param("reference_price_rate", "market.reference_price_rate"),
    Param("satisfaction_memory", "market.satisfaction_memory"),
    Param("satisfaction_slope", "market.satisfaction_slope"),
    Param("engagement_rate", "market.engagement_rate"),
    Param("engagement_decay", "market.engagement_decay"),
    Param("disengage_rate", "market.disengage_rate"),
    Param("disengaged_below", "market.disengaged_below"),
    Param("carry_engagement", "market.carry_engagement"),
    Param("alpha_engagement", "market.alpha_engagement"),
    Param("alpha_trust", "market.alpha_trust"),
    Param("review_hazard", "market.review_hazard"),
    Param("hazard_trust", "market.hazard_trust"),
    Param("hazard_engagement", "market.hazard_engagement"),
    Param("beta_digital", "market.beta_digital"),
    Param("digital_gain", "market.digital_gain"),
    Param("digital_scale", "market.digital_scale"),
    Param("beta_human", "market.beta_human"),
    Param("human_scale", "market.human_scale"),
    Param("emotion_scale", "market.emotion_scale"),
    Param("beta_emotion", "market.beta_emotion"),
    Param("beta_reputation", "market.beta_reputation"),
    Param("inertia", "market.inertia"),
    Param("outside_utility", "market.outside_utility"),
    Param("panel_rate", doc="the demand panel's rate: min(market.panel_rate, market.panel_max / customers)"),
    Param("rec_satisfaction", "market.rec_satisfaction"),
    Param("rec_trust", "market.rec_trust"),
    Param("rec_engagement", "market.rec_engagement"),
    Param("rec_freedom", "market.rec_freedom"),
    Param("rec_influence", "market.rec_influence"),
    Param("rec_offset", "market.rec_offset"),
    Param("rec_noise", "market.rec_noise"),
)
P = _enum("P", PARAMS)

#: The firm columns ``firm : float64[F, len(FIRM_COLUMNS)]``, each read from an attribute of the Firm.
FIRM_COLUMNS = (
    Row("digital", "1", "digital service level d", "digital"),
    Row("human", "1", "human service level h", "human"),
    Row("price", "money/customer/step", "price", "price"),
    Row("personalisation", "1", "pi: digital gain from shared data", "personalisation"),
    Row("steering", "code", "steering mode (index into `STEERING_MODES`: none, soft, hard)", "steering_code"),
    Row("steering_strength", "1", "share of human requests steered or blocked", "steering_strength"),
    Row("availability", "1", "share of human-contact demand served (capacity, less a shock's cut)",
        "availability"),
    Row("reputation", "1", "word of mouth: moving average of NPS/100", "reputation"),
    Row("alive", "0/1", "customers can choose the firm", "alive"),
)
F = _enum("F", FIRM_COLUMNS)


class Steer(IntEnum):
    """Steering modes, as coded in ``firm[:, F.STEERING]`` (the order of ``STEERING_MODES``)."""

    NONE = 0
    SOFT = 1
    HARD = 2


STEERING_MODES = tuple(m.name.lower() for m in Steer)
#: Engagement intervention forms, in the order of the config's ``intervention`` lists and of the
#: kernel's ``interv`` columns; a customer's ``form`` row holds an index into it, ``len(FORMS)`` for none.
FORMS = ("community", "webinar", "video")

# --------------------------------------------------------------------- outputs
#: Per-firm tallies of a step ``tally : float64[F, len(FIRM_TALLIES)]``: sums over the customers at the
#: end of the step (state rows, counts) or over the step's contacts at the serving firm.
FIRM_TALLIES = (
    Row("customers", "customers", "customers at the end of the step"),
    Row("contacts", "contacts", "service contacts of the step (at the serving firm)"),
    Row("human", "contacts", "contacts served by a human"),
    Row("wanted_human", "contacts", "contacts in which the customer wanted a human"),
    Row("noticed", "contacts", "contacts with noticed steering"),
    Row("pushed", "contacts", "contacts in which a customer who wanted a human did not get one"),
    Row("effort", "contacts", "summed effort (1 - quality) of the contacts"),
    *STATES,
    Row("promoters", "customers", "customers scoring 9-10"),
    Row("detractors", "customers", "customers scoring 0-6"),
    Row("churn", "customers", "customers who left the firm in the step"),
    Row("tenure", "steps", "summed tenure", mean=("tenure", "mean tenure of the firm's customers", "steps")),
    Row("shared", "customers", "customers sharing data",
        mean=("data_shared", "share of the firm's customers sharing data", "1")),
    Row("adopted", "customers", "customers using digital channels",
        mean=("adopted_share", "share of the firm's customers using digital channels", "1")),
    Row("disengaged", "customers", "customers with engagement below `disengaged_below`",
        mean=("disengaged", "share of the firm's customers with engagement below the threshold", "1")),
    Row("choice_share", "customers", "sum over the step's choosing customers of the firm's logit choice probability "
        "s_ij: the firm's demand among them"),
    Row("choice_slope", "customers x 1/money", "sum over the step's choosing customers of alpha_i s_ij (1 - s_ij): "
        "minus the derivative of that demand with respect to the firm's own price"),
)
T = _enum("T", FIRM_TALLIES)
#: Per-segment tallies ``seg_tally : float64[S, len(SEGMENT_TALLIES)]`` (all customers, with a provider
#: or not): the count, the sums of the state rows marked ``per_segment``, and two counts.
SEGMENT_TALLIES = (
    Row("count", "customers", "customers in the segment"),
    *(Row(r.name, r.units, f"summed {r.name}") for r in STATES if r.per_segment),
    Row("disengaged", "customers", "customers with engagement below `disengaged_below`"),
    Row("adopted", "customers", "customers using digital channels"),
)
S = _enum("S", SEGMENT_TALLIES)

#: Random streams: one uniform per customer, stream and step (see :mod:`sim.engine.rng`).
STREAMS = (
    Row("adopt", "", "adoption of an eligible non-adopter"),
    Row("contact", "", "a service contact happens"),
    Row("want_human", "", "an adopter wants a human for the contact"),
    Row("steer", "", "the contact is steered (or blocked)"),
    Row("notice", "", "soft steering is noticed"),
    Row("avail", "", "a human is available"),
    Row("review", "", "the relationship is reviewed"),
    Row("choice", "", "the logit choice on review"),
    Row("score", "", "recommendation noise, first half"),
    Row("score2", "", "recommendation noise, second half"),
    Row("panel", "", "the customer is in this step's demand panel"),
)
R = _enum("R", STREAMS)


# ------------------------------------------------------------- kernel internals
def _offsets(name: str, widths: tuple[tuple[str, int], ...]) -> type[IntEnum]:
    starts, at = [], 0
    for key, width in widths:
        starts.append((key.upper(), at))
        at += width
    return IntEnum(name, starts)


#: Columns of the kernel's per-step firm table (row 0: no firm, row m + 1: firm m) and their widths.
#: DX, GATE, ESC, UD and FREE hold one entry per s = 2 * shared + adopted; IV, one per form and "none" last.
#: UD: the digital value beta_d V_d(d_seen - E) (0 for a non-adopter); VH: the human value V_h(h - H);
#: HV: the emotional weight of the human level, e(h).
FIRM_TABLE = (("dx", 4), ("gate", 4), ("esc", 4), ("ud", 4), ("free", 4), ("gate_avail", 1), ("h", 1), ("hv", 1),
              ("vh", 1), ("price", 1), ("steer", 1), ("notice", 1), ("avail", 1), ("iv", 0))
FT = _offsets("FT", FIRM_TABLE)

#: Per-contact flag bits the kernel counts by pattern at the serving firm, with their tallies.
CONTACT_BITS = (("contacted", T.CONTACTS), ("wants", T.WANTED_HUMAN), ("human", T.HUMAN),
                ("noticed", T.NOTICED), ("pushed", T.PUSHED))
#: Per-customer state bits counted by pattern at the final provider, with their tallies.
STATE_BITS = (("shared", T.SHARED), ("adopted", T.ADOPTED), ("disengaged", T.DISENGAGED),
              ("promoter", T.PROMOTERS), ("detractor", T.DETRACTORS))
#: Flags the kernel's passes hand on, per customer: the contact bits, then two of the review.
FLAGS = (*(name for name, _ in CONTACT_BITS), "pending", "reviews", "panel")
B = IntEnum("B", [(name.upper(), 1 << i) for i, name in enumerate(FLAGS)])
#: Draws compared with a threshold, handed from the draw passes to the update as one bit each.
DRAWS = ("contact", "want_human", "steer", "notice", "avail", "panel")
D = IntEnum("D", [(name.upper(), 1 << i) for i, name in enumerate(DRAWS)])
#: Bits of the per-customer state pattern (:data:`STATE_BITS` order).
SB = IntEnum("SB", [(name.upper(), 1 << i) for i, (name, _) in enumerate(STATE_BITS)])
#: Float accumulators per firm row and segment row: the state rows, effort, the choosers' demand and its slope.
A = IntEnum("A", [(name.upper(), i) for i, name in enumerate((*STATE_FIELDS, "effort", "choice_share",
                                                               "choice_slope"))])
#: Derived from the tables for the kernel's loops over them: the number of state rows, the
#: firm-tally column of the first state (the state rows are contiguous in :data:`FIRM_TALLIES`,
#: as in :data:`A`), the state rows summed per segment and their first segment-tally column.
N_ST = len(STATES)
T_STATE0 = int(T[STATES[0].name.upper()])
SEG_STATES = tuple(int(St[r.name.upper()]) for r in STATES if r.per_segment)
S_STATE0 = 1
#: Tally columns of the contact-pattern bits and of the state-pattern bits, in bit order.
CONTACT_TALLIES = tuple(int(col) for _, col in CONTACT_BITS)
STATE_TALLIES = tuple(int(col) for _, col in STATE_BITS)
#: Offsets (in units of n1 = F + 1 rows) of the int64 count blocks of a chunk: contact patterns by
#: firm row, churn and summed tenure by firm row, state patterns by firm row, then per segment the
#: patterns disengaged | adopted << 1.
N_CONTACT_PATTERNS = 1 << len(CONTACT_BITS)
N_STATE_PATTERNS = 1 << len(STATE_BITS)
C = IntEnum("C", [("CHURN", N_CONTACT_PATTERNS), ("TENURE", N_CONTACT_PATTERNS + 1),
                  ("STATE", N_CONTACT_PATTERNS + 2), ("SEGMENT", N_CONTACT_PATTERNS + 2 + N_STATE_PATTERNS)])


def layout_tables() -> str:
    """The population rows and firm columns as Markdown tables (a generated block of docs/ODD.md)."""
    out: list[str] = []
    for title, rows, array in (("Static traits", TRAITS, "traits : float32[{n}, N]"),
                               ("Dynamic state", STATES, "state : float32[{n}, N]"),
                               ("Small integers", SMALLS, "small : int8[{n}, N]"),
                               ("Firm columns the kernel reads", FIRM_COLUMNS, "firm : float64[F, {n}]")):
        out += [f"{title}, `{array.format(n=len(rows))}`:", "", "| row | units | meaning |", "|---|---|---|"]
        out += [f"| `{r.name.upper()}` | {r.units} | {r.doc} |" for r in rows]
        out.append("")
    out += ["Per-customer vectors:", "", "| array | dtype | meaning |", "|---|---|---|"]
    out += [f"| `{name}` | {dtype} | {doc} |" for name, dtype, doc in VECTORS]
    return "\n".join(out)


def config_params(cfg) -> list[float]:
    """The entries of ``par`` that come from the config (``Param.path``), in ``P`` order; 0.0 for the
    market state the model sets each step."""
    import operator

    import numpy as np

    out = []
    for p in PARAMS:
        value = operator.attrgetter(p.path)(cfg) if p.path else 0.0
        out.append(float(np.float32(value)) if p.float32 else float(value))
    return out
