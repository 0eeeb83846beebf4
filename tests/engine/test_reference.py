"""The plain reference of one customer's step (sim.engine.reference), on hand-made cases whose outcome is
known without running it (as stumpy keeps naive versions with edge cases beside its fast paths)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import reference as ref
from sim.engine.layout import FIRM_COLUMNS, FIRM_TALLIES, NO_FIRM, PARAMS, SEGMENT_TALLIES, F, P, R, S, Steer, T


def _market(**values):
    par = np.zeros(len(PARAMS))
    par[P.EXPECTATION] = 0.7
    par[P.EXCLUSION_QUALITY] = 0.5
    par[P.DIGITAL_SCALE], par[P.HUMAN_SCALE], par[P.EMOTION_SCALE] = 0.1, 0.3, 0.5
    par[P.SATISFACTION_SLOPE] = 20.0
    par[P.OUTSIDE_UTILITY] = -50.0
    par[P.FAIRNESS_SLOPE] = 2.0
    par[P.FAIRNESS_RATE] = 1.0
    par[P.CONTACT_RATE] = 1.0
    par[P.TRUST_GAIN] = 0.2
    par[P.TRUST_LOSS] = 0.4
    par[P.TRUST_INIT] = 0.5
    for name, v in values.items():
        par[P[name.upper()]] = v
    return par


def _firms(*rows):
    firm = np.zeros((len(rows), len(FIRM_COLUMNS)))
    for m, row in enumerate(rows):
        firm[m, F.ALIVE] = 1.0
        firm[m, F.AVAILABILITY] = 1.0
        for name, v in row.items():
            firm[m, F[name.upper()]] = v
    return firm


def _customer(**values):
    c = ref.Customer(literacy=0.9, human_pref=0.5, affinity=0.5, privacy=0.6, alpha0=2.0, trust=0.5,
                     engagement=0.2, satisfaction=0.5, freedom=1.0, influence=0.5, fairness=1.0, alpha=2.0,
                     ref_price=1.0, adopted=1, form=3, provider=0)
    for name, v in values.items():
        setattr(c, name, v)
    return c


def _step(c, par, firm, draws):
    tally = np.zeros((firm.shape[0], len(FIRM_TALLIES)))
    seg = np.zeros((1, len(SEGMENT_TALLIES)))
    ref.advance(c, lambda stream: draws.get(stream, 0.99), par, firm, np.zeros((firm.shape[0], 3)), tally, seg)
    return tally, seg


def test_a_digital_contact_above_expectation_raises_trust_below_lowers_it_faster():
    par = _market()
    up, down = _customer(), _customer()
    _step(up, par, _firms({"digital": 0.9}), {R.CONTACT: 0.0})
    _step(down, par, _firms({"digital": 0.5}), {R.CONTACT: 0.0})
    assert up.trust == pytest.approx(0.5 + 0.2 * 0.2 * 0.5, rel=1e-6)
    assert down.trust == pytest.approx(0.5 - 0.4 * 0.2 * 0.5, rel=1e-6)


def test_hard_steering_is_always_noticed_and_costs_trust_and_freedom():
    par = _market(steer_trust_loss=0.1, steer_freedom_loss=0.2)
    c = _customer(adopted=0)  # a non-adopter always wants a human
    tally, _ = _step(c, par, _firms({"digital": 0.7, "human": 0.8, "steering": Steer.HARD,
                                      "steering_strength": 1.0}),
                     {R.CONTACT: 0.0, R.STEER: 0.0, R.NOTICE: 0.99})
    assert tally[0, T.NOTICED] == 1 and tally[0, T.PUSHED] == 1 and tally[0, T.HUMAN] == 0
    assert c.freedom == pytest.approx(0.8)


def test_a_customer_outside_the_market_looks_around_at_the_base_hazard_and_starts_afresh():
    par = _market(inertia=5.0, review_hazard=0.1)
    stays = _customer(provider=NO_FIRM, tenure=17, trust=0.9)
    _step(stays, par, _firms({"digital": 0.8, "price": 1.0}), {R.REVIEW: 0.2, R.CHOICE: 0.75})
    assert stays.provider == NO_FIRM, "u = 0.2 is above the hazard 0.1: no look around"
    c = _customer(provider=NO_FIRM, tenure=17, trust=0.9)
    _step(c, par, _firms({"digital": 0.8, "price": 1.0}, {"digital": 0.8, "price": 1.3}),
          {R.REVIEW: 0.05, R.CHOICE: 0.75})
    assert c.provider == 1 or c.provider == 0
    assert c.tenure == 1 and c.trust == pytest.approx(0.5) and c.shared == 0
    assert c.ref_price == pytest.approx([1.0, 1.3][c.provider]), "the chosen firm's price is the new reference"


def test_no_alive_firm_leaves_the_customer_without_one():
    c = _customer(provider=NO_FIRM)
    firm = _firms({"digital": 0.8})
    firm[0, F.ALIVE] = 0.0
    tally, seg = _step(c, _market(), firm, {})
    assert c.provider == NO_FIRM and tally[0, T.CUSTOMERS] == 0 and seg[0, S.COUNT] == 1


def test_trust_above_privacy_shares_data():
    c = _customer(trust=0.7, privacy=0.6)
    _step(c, _market(), _firms({"digital": 0.7}), {})
    assert c.shared == 1
    c = _customer(trust=0.5, privacy=0.6)
    _step(c, _market(), _firms({"digital": 0.7}), {})
    assert c.shared == 0


def test_a_price_above_the_reference_feels_unfair_even_without_a_rival():
    c = _customer(fairness=1.0, ref_price=1.0)
    _step(c, _market(reference_price_rate=0.1), _firms({"digital": 0.7, "price": 1.2}), {})
    assert c.fairness == pytest.approx(1.0 - 2.0 * 0.2, rel=1e-5), "20% above the reference: fairness 0.6"
    assert c.ref_price == pytest.approx(1.02, rel=1e-6), "the reference drifts toward the price paid"


def test_an_adopter_asks_for_a_human_mostly_when_digital_fails():
    par = _market(escalation_floor=0.2)
    good, bad = _customer(human_pref=0.5), _customer(human_pref=0.5)
    # a wish draw of 0.2: below phi (eps + (1 - eps) shortfall) only where digital falls short of E = 0.7
    t_good, _ = _step(good, par, _firms({"digital": 0.7, "human": 0.9}), {R.CONTACT: 0.0, R.WANT_HUMAN: 0.2})
    t_bad, _ = _step(bad, par, _firms({"digital": 0.35, "human": 0.9}), {R.CONTACT: 0.0, R.WANT_HUMAN: 0.2})
    assert t_good[0, T.WANTED_HUMAN] == 0 and t_bad[0, T.WANTED_HUMAN] == 1


def test_meeting_expectations_earns_confirmation():
    c = _customer(trust=0.5)
    _step(c, _market(confirmation=0.1), _firms({"digital": 0.7}), {R.CONTACT: 0.0})  # d_seen == E
    assert c.trust == pytest.approx(0.5 + 0.1 * 0.5, rel=1e-6)


def test_a_reviewing_customer_may_leave_the_market_for_the_outside_option():
    c = _customer(trust=0.0, engagement=0.0)
    tally, _ = _step(c, _market(outside_utility=50.0, review_hazard=1.0),
                     _firms({"digital": 0.7, "price": 1.0}), {R.REVIEW: 0.0, R.CHOICE: 0.5})
    assert c.provider == NO_FIRM and tally[0, T.CHURN] == 1
