"""The lecture guide's claims: what moving a control on the classroom page does, measured.

Every "Move this control" sentence of docs/LECTURE.md is a :class:`Move`: the control as
the page names it, the overrides that make the move, and a sentence written from a run
of the scenario with and without the move (``make lecture``, :func:`sentence`). The
words that say which way a number went are chosen from the numbers themselves, so a
sentence the model no longer supports is rewritten, not left standing; and
``tests/study/test_lecture.py`` makes every move again and checks that the guide says
what the runs show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

#: The runs behind the guide: customers and seed (the same as the guide's figures).
CUSTOMERS = 20_000
SEED = 0


@dataclass(frozen=True)
class Move:
    """One move of a control: the scenario, how the page names the control and the move, the overrides
    that make it, and ``says(before, after) -> str``, the sentence from a run without and one with it."""

    scenario: str
    control: str
    overrides: tuple[str, ...]
    says: Callable[..., str]


def _money(x: float) -> str:
    return f"{x:.2f}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _went(a: float, b: float, fmt: Callable[[float], str] = _pct, same: float = 0.005) -> str:
    """'rises from A to B' / 'falls from A to B' / 'stays at A', by the numbers."""
    if abs(b - a) <= same:
        return f"stays at {fmt(a)}"
    return f"{'rises' if b > a else 'falls'} from {fmt(a)} to {fmt(b)}"


def _last(ds, var: str, firm: str) -> float:
    return float(ds[var].sel(firm=firm).isel(step=-1))


def _exit(ds, firm: str) -> float:
    alive = ds.alive.sel(firm=firm).values.astype(bool)
    gone = [i for i in range(1, alive.size) if alive[i - 1] and not alive[i]]
    return float(ds.step.values[gone[0]]) if gone else math.inf


def _fate(ds, firm: str) -> str:
    e = _exit(ds, firm)
    return f"exits at step {int(e)}" if math.isfinite(e) else f"is still in the market at step {int(ds.step[-1])}"


def _markup(ds, firm: str) -> float:
    half = ds.isel(step=slice(ds.sizes["step"] // 2, None)).sel(firm=firm)
    return float((half.price - half.unit_cost).where(half.alive == 1).mean())


def _baseline_neither(before, after) -> str:
    return (f"the quick-death firm becomes a digital-only firm and {_fate(after, 'neither')} "
            f"(as it was it {_fate(before, 'neither')}).")


def _baseline_fighter(before, after) -> str:
    both_fate = "both quadrant-4 firms stay in the market" if not math.isfinite(_exit(after, "both")) \
        else f"*both* exits at step {int(_exit(after, 'both'))}"
    return (f"the fighter joins quadrant 4 and the two quadrant-4 firms split the loyal customers: *digital_only*'s "
            f"share {_went(_last(before, 'share', 'digital_only'), _last(after, 'share', 'digital_only'))}, "
            f"*both*'s {_went(_last(before, 'share', 'both'), _last(after, 'share', 'both'))}; {both_fate}.")


def _disruptor_early(before, after) -> str:
    went = _went(_last(before, "share", "human_only"), _last(after, "share", "human_only"))
    return f"the human-only firm's share at step 120 {went} (entry at step 36 → step 12)."


def _disruptor_off(before, after) -> str:
    return (f"without the disruptor the human-only firm's share at step 120 "
            f"{_went(_last(before, 'share', 'human_only'), _last(after, 'share', 'human_only'))}.")


def _commoditisation_alpha(before, after) -> str:
    num = lambda x: f"{x:.2f}"  # noqa: E731
    return (f"*alpha* leaves the fighter's market: its price above unit cost (second half of the run) "
            f"{_went(_markup(before, 'alpha'), _markup(after, 'alpha'), num, 0.01)}, its share "
            f"{_went(_last(before, 'share', 'alpha'), _last(after, 'share', 'alpha'))}.")


def _steering_open(before, after) -> str:
    nps = lambda x: f"{x:+.0f}"  # noqa: E731
    share = _went(_last(before, "share", "open"), _last(after, "share", "open"))
    return f"the best firm becomes a closer: its share {share} and its NPS " \
           f"{_went(_last(before, 'nps', 'open'), _last(after, 'nps', 'open'), nps, 1.0)}."


def _steering_closing(before, after) -> str:
    return (f"the closer opens its human channel: its share "
            f"{_went(_last(before, 'share', 'closing'), _last(after, 'share', 'closing'))} and its unit cost "
            f"{_went(_last(before, 'unit_cost', 'closing'), _last(after, 'unit_cost', 'closing'), _money, 0.005)}.")


def _inclusion(before, after) -> str:
    nps = lambda x: f"{x:+.0f}"  # noqa: E731
    return (f"the inclusive firm drops its people: its share "
            f"{_went(_last(before, 'share', 'digital_human'), _last(after, 'share', 'digital_human'))} and its NPS "
            f"{_went(_last(before, 'nps', 'digital_human'), _last(after, 'nps', 'digital_human'), nps, 1.0)}.")


def _personalisation(before, after) -> str:
    return (f"noticed steering costs trust: the share of its customers sharing data "
            f"{_went(_last(before, 'data_shared', 'personalising'), _last(after, 'data_shared', 'personalising'))} "
            f"and its market share "
            f"{_went(_last(before, 'share', 'personalising'), _last(after, 'share', 'personalising'))}.")


def _interventions(before, after) -> str:
    eng = lambda x: f"{x:.2f}"  # noqa: E731
    return (f"the firm without an intervention buys engagement with people instead: its customers' engagement "
            f"{_went(_last(before, 'engagement', 'none'), _last(after, 'engagement', 'none'), eng, 0.005)}, its "
            f"share {_went(_last(before, 'share', 'none'), _last(after, 'share', 'none'))}.")


def _shock_late(before, after) -> str:
    return (f"with the shock at step 60 the human-only firm's share at step 120 "
            f"{_went(_last(before, 'share', 'human_only'), _last(after, 'share', 'human_only'))} (shock at step 24).")


def _shock_backup(before, after) -> str:
    def lost(ds):
        s = ds.share.sel(firm="human_only")
        return float(s.sel(step=23) - s.sel(step=36))

    pts = lambda x: f"{100 * x:.1f} points"  # noqa: E731
    return (f"with a digital back-up the human-only firm's loss of share during the shock "
            f"{_went(lost(before), lost(after), pts, 0.001)}.")


def _adaptive(before, after) -> str:
    lvl = lambda x: f"{x:.2f}"  # noqa: E731
    return (f"*both* starts with little human service and climbs back: its human level at step 120 is "
            f"{lvl(_last(after, 'human', 'both'))} (from {lvl(float(after.human.sel(firm='both').isel(step=0)))}; "
            f"{lvl(_last(before, 'human', 'both'))} when it starts at 0.8).")


#: Every move the guide names, in its order.
MOVES: tuple[Move, ...] = (
    Move("baseline", "*neither → digital* up to 0.8 (Firms card)", ("firms.neither.digital=0.8",), _baseline_neither),
    Move("baseline", "*digital_only → human* up to 0.7", ("firms.digital_only.human=0.7",), _baseline_fighter),
    Move("disruptor", "*disruptor enters at step* 12 (Disruptor and shock card)", ("firms.disruptor.enter_step=12",),
         _disruptor_early),
    Move("disruptor", "*disruptor enters* off", ("firms.disruptor.enter_step=100000",), _disruptor_off),
    Move("commoditisation", "*alpha → human* up to 0.7", ("firms.alpha.human=0.7",), _commoditisation_alpha),
    Move("steering", "*open → steering* to *hard*", ("firms.open.steering=hard", "firms.open.steering_strength=0.8"),
         _steering_open),
    Move("steering", "*closing → steering* to *none*", ("firms.closing.steering=none",), _steering_closing),
    Move("inclusion", "*digital_human → human* down to 0.2", ("firms.digital_human.human=0.2",), _inclusion),
    Move("personalisation", "*personalising → steering* to *hard*",
         ("firms.personalising.steering=hard", "firms.personalising.steering_strength=0.8"), _personalisation),
    Move("interventions", "*none → human* up to 0.9", ("firms.none.human=0.9",), _interventions),
    Move("shock", "*shock starts at step* 60", ("market.shock.start=60", "market.shock.end=72"), _shock_late),
    Move("shock", "*human_only → digital* up to 0.6", ("firms.human_only.digital=0.6",), _shock_backup),
    Move("adaptive", "*both → human* down to 0.3", ("firms.both.human=0.3",), _adaptive),
)


def runs(move: Move, customers: int = CUSTOMERS, seed: int = SEED):
    """The scenario's run without and with the move."""
    import sim

    base = [f"scenario={move.scenario}", f"customers.n={customers}"]
    return sim.run(base, seed=seed), sim.run([*base, *move.overrides], seed=seed)


def sentence(move: Move, before, after) -> str:
    """The guide's sentence for a move: the control, then what the runs show."""
    return f"{move.control}: {move.says(before, after)}"
