"""sim.study.robustness, the driver of ``make facts`` (docs/FACTS.md): the Latin-hypercube sample, its
overrides, one worker's measurement, the parallel map and the report, each on small inputs (the full
``make facts`` takes hours; whether the facts hold is tests/study/test_facts.py's business)."""

from __future__ import annotations

import argparse
import operator
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.settings.compose import compose_config
from sim.settings.schema import SimConfig
from sim.study import robustness as R
from sim.study.facts import FACTS, VARIATIONS

NUMBERS = sorted(FACTS)
DEFAULTS = {p: operator.attrgetter(p.removeprefix("market."))(SimConfig().market) for p in R.KEY_PARAMETERS}


def _unit(point: dict[str, float], spread: float) -> np.ndarray:
    """The point's position in the unit hypercube the sample was drawn in (parameters, then positions)."""
    u = [(point[p] / DEFAULTS[p] - (1.0 - spread)) / (2.0 * spread) for p in R.KEY_PARAMETERS]
    u += [(point[f"firms.{firm}.{axis}"] - lo) / (hi - lo) for (firm, axis), (lo, hi) in R.POSITIONS.items()]
    return np.asarray(u)


# ------------------------------------------------------------------------------ sample
def test_every_key_parameter_has_a_nonzero_default_so_that_the_sample_varies_it():
    assert all(v != 0 for v in DEFAULTS.values()), {p: v for p, v in DEFAULTS.items() if v == 0}


@settings(max_examples=40, deadline=None)
@given(draws=st.integers(2, 40), seed=st.integers(0, 2**31 - 1), spread=st.floats(0.01, 0.6))
def test_sample_is_a_latin_hypercube_within_spread_of_the_defaults_and_inside_the_quadrants(draws, seed, spread):
    points = R.sample(draws, seed=seed, spread=spread)
    assert len(points) == draws
    for point in points:
        assert list(point) == [*R.KEY_PARAMETERS, *(f"firms.{f}.{a}" for f, a in R.POSITIONS)]
        for p in R.KEY_PARAMETERS:
            d = DEFAULTS[p]
            assert abs(point[p] - d) <= spread * abs(d) * (1 + 1e-12), (p, point[p], d)
        for (firm, axis), (lo, hi) in R.POSITIONS.items():
            assert lo <= point[f"firms.{firm}.{axis}"] <= hi
    # Latin hypercube: along every dimension, each of the draws' equal strata holds exactly one draw
    u = np.array([_unit(p, spread) for p in points])
    strata = np.floor(np.clip(u, 0.0, 1.0 - 1e-12) * draws).astype(int)
    for k in range(u.shape[1]):
        assert sorted(strata[:, k]) == list(range(draws)), f"dimension {k}"


@settings(max_examples=20, deadline=None)
@given(draws=st.integers(2, 30), seed=st.integers(0, 2**31 - 2))
def test_sample_is_reproducible_for_a_seed_and_differs_for_another(draws, seed):
    assert R.sample(draws, seed=seed) == R.sample(draws, seed=seed)
    other = R.sample(draws, seed=seed + 1)
    assert all(a != b for a, b in zip(R.sample(draws, seed=seed), other, strict=True))


def test_the_default_sample_is_the_reports_64_draws_within_25_percent():
    points = R.sample(64)
    assert len(points) == 64
    assert R.sample(64) == R.sample(64, seed=2026, spread=0.25)
    u = np.array([_unit(p, 0.25) for p in points])
    assert np.all((u >= 0) & (u <= 1))


# --------------------------------------------------------------------------- overrides
def _setting(cfg, path: str):
    if path.startswith("firms."):
        _, firm, field = path.split(".")
        return getattr(cfg.firms[firm], field)
    return operator.attrgetter(path)(cfg)


def test_overrides_of_the_extreme_points_compose_and_land_on_the_sampled_values():
    """Every sampled point is a valid configuration (a point the config refused would count as the facts
    failing there): the corners of the wide +-50% box compose, each value where the sample put it."""
    for end in (0.0, 1.0):
        point = {p: DEFAULTS[p] * (0.5 + end) for p in R.KEY_PARAMETERS}
        point |= {f"firms.{f}.{a}": (lo, hi)[int(end)] for (f, a), (lo, hi) in R.POSITIONS.items()}
        ov = R.overrides(point)
        assert len(ov) == len(point) and all(o.count("=") == 1 for o in ov)
        cfg = compose_config(["scenario=baseline", *ov])
        for path, value in point.items():
            assert _setting(cfg, path) == pytest.approx(value, rel=1e-5), path


def test_overrides_keep_six_significant_digits():
    assert R.overrides({"market.contact_rate": 0.123456789, "market.outside_utility": -4.56789012,
                        "market.expectation_drift": 1.23456789e-7}) == [
        "market.contact_rate=0.123457", "market.outside_utility=-4.56789", "market.expectation_drift=1.23457e-07"]
    cfg = compose_config(["scenario=baseline", "market.expectation_drift=1.23457e-07"])
    assert cfg.market.expectation_drift == pytest.approx(1.23457e-7)


# ---------------------------------------------------------------------- one measurement
def test_measure_gives_the_facts_outcome_at_its_seed_size_and_overrides():
    fact = FACTS[1]
    got = R._measure(((1,), 0, 1000, (), False))
    want = fact.run(0, 1000)
    assert got == [(1, bool(want.holds), want.measured)]
    ablated = R._measure(((1,), 0, 1000, (), True))
    assert ablated == [(1, bool(fact.run(0, 1000, ablate=True).holds), fact.run(0, 1000, ablate=True).measured)]
    assert ablated != got, "the ablation is passed on: the exit of quadrant 1 changes without its mechanism"
    other = R._measure(((1,), 0, 1000, ("market.contact_rate=0.2",), False))
    assert other == [(1, bool(fact.run(0, 1000, ("market.contact_rate=0.2",)).holds),
                      fact.run(0, 1000, ("market.contact_rate=0.2",)).measured)]


def test_a_run_that_raises_counts_as_the_fact_failing_and_names_the_error():
    out = R._measure(((1, 2), 0, 1000, ("market.contact_rate=-1",), False))
    assert [(n, holds) for n, holds, _ in out] == [(1, False), (2, False)], "every fact of the job is measured"
    for _, _, measured in out:
        assert measured == {"error": "ConfigError: market.contact_rate = -1.0 is out of range: allowed [0, 1]"}
    long = R._measure(((1,), 0, 1000, ("market.no_such_" + "x" * 300 + "=1",), False))
    (number, holds, measured), = long
    assert number == 1 and not holds and measured["error"].startswith("ConfigError: ")
    assert len(measured["error"]) == 200, "cut to 200 characters for the report"


# ------------------------------------------------------------------------ parallel map
def test_parallel_returns_every_jobs_results_in_the_jobs_order():
    """Jobs run largest first, so their order of completion differs from the list's; the results come
    back flattened in the list's order all the same, one per fact of each job."""
    jobs = [((1, 2), 0, 200, ("market.contact_rate=-1",), False),
            ((3,), 0, 300, ("market.trust_gain=-2",), False),
            ((1,), 0, 1000, (), False),
            ((4, 5, 6), 0, 150, ("market.trust_loss=-3",), False)]
    results = R._parallel(jobs, n_jobs=2)
    assert [n for n, _, _ in results] == [1, 2, 3, 1, 4, 5, 6]
    errors = [m.get("error", "") for _, _, m in results]
    assert all("market.contact_rate = -1.0" in e for e in errors[:2])
    assert "market.trust_gain = -2.0" in errors[2] and errors[3] == ""
    assert all("market.trust_loss = -3.0" in e for e in errors[4:])
    assert results[3] == R._measure(jobs[2])[0]
    assert R._parallel(jobs, n_jobs=1) == results


# ----------------------------------------------------------------------------- report
def _fabricated(points, wide):
    """A report as main() builds it: fact 2 fails at the defaults, fact 3 still holds without its mechanism,
    fact 5 fails in its first applicable variation, fact 4 fails where market.contact_rate is above its
    default (a conditional fact, with a PRIM box), and two draws of fact 6 could not run."""
    base = [(k, k != 2, {"value": float(k)}) for k in NUMBERS]
    ablated = [(k, k == 3, {"value": -float(k)}) for k in NUMBERS]
    variations = []
    for name, ov in VARIATIONS.items():
        for k in NUMBERS:
            if name in FACTS[k].applies or name in FACTS[k].outside:
                fails = k == 5 and name == next(n for n in VARIATIONS if n in FACTS[5].applies)
                variations.append(((k, 0, 20000, ov, False), (k, not fails, {"in": name})))
    lhs = []
    for i, p in enumerate(points):
        for k in NUMBERS:
            if k == 4:
                lhs.append((k, p["market.contact_rate"] <= DEFAULTS["market.contact_rate"], {"x": 1.0}))
            elif k == 6 and i < 2:
                lhs.append((k, False, {"error": f"FloatingPointError: draw {i}"}))
            else:
                lhs.append((k, True, {"x": 1.0}))
    wide_results = [(k, not (k == 7 and i % 2), {}) for i in range(len(wide)) for k in NUMBERS]
    return {"base": base, "ablated": ablated, "variations": variations, "lhs": lhs, "wide": wide_results}


def test_write_report_writes_a_row_per_fact_its_variations_and_the_failure_box(tmp_path, capsys):
    points, wide = R.sample(40, seed=5), R.sample(8, seed=6, spread=0.5)
    args = argparse.Namespace(structural_customers=20000, customers=5000, jobs=2)
    out = tmp_path / "docs" / "FACTS.md"
    out.parent.mkdir()
    R.write_report(_fabricated(points, wide), points, wide, args, out, seconds=90.0)
    text = out.read_text()
    assert capsys.readouterr().out.strip() == f"wrote {out} and {out.parent / 'facts'}"
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\| (\d+) \|.*\|$", text, re.M)}
    assert sorted(rows) == NUMBERS
    above = sum(p["market.contact_rate"] > DEFAULTS["market.contact_rate"] for p in points)
    for k, row in rows.items():
        cells = [c.strip() for c in row.strip("|").split("|")]
        applies = [n for n in VARIATIONS if n in FACTS[k].applies]
        holds_var = len(applies) - (k == 5)
        share = {4: f"{1 - above / 40:.0%}", 6: f"{38 / 40:.0%}"}.get(k, "100%")
        robust = k not in (2, 3, 4, 5) and share == "100%" or k == 6
        assert cells == [str(k), "**fails**" if k == 2 else "holds",
                         "**still holds**" if k == 3 else "fails (needs it)", share,
                         "50%" if k == 7 else "100%", f"{holds_var}/{len(applies)}",
                         "robust" if robust else "conditional"], row
    for k in NUMBERS:  # a section per fact, a line per variation where it applies
        section = text.split(f"### Fact {k}: {FACTS[k].claim}\n", 1)[1].split("### Fact", 1)[0]
        for name in VARIATIONS:
            line = re.search(rf"^- {re.escape(name)}: \*\*(holds|fails)\*\*", section, re.M)
            assert (line is not None) == (name in FACTS[k].applies), (k, name)
        assert f"+-25% sample: holds in {rows[k].split('|')[4].strip()} of 40 draws; +-50% sample:" in section
        for name, why in FACTS[k].outside.items():  # measured, shown with its reason, not counted
            assert f"- {name}: outside the fact's premise ({why}), not counted: holds: in {name}." in section
        cond = FACTS[k].condition
        if cond is not None:
            n_in = sum(bool(cond.inside(p)) for p in points)
            assert (f"- Condition (a finding): it holds where {cond.text}: in 100% of the {n_in} draws inside, "
                    f"100% of the {40 - n_in} outside.") in section
    assert any(f.outside for f in FACTS.values()) and any(f.condition for f in FACTS.values())
    fact4 = text.split("### Fact 4:", 1)[1].split("### Fact 5:", 1)[0]
    assert "Where it fails (PRIM): " in fact4 and "market.contact_rate" in fact4.split("Where it fails (PRIM): ")[1]
    assert "![PRIM box of fact 4](facts/prim_fact4.png)" in fact4
    assert (out.parent / "facts" / "facts.png").stat().st_size > 0
    assert (out.parent / "facts" / "prim_fact4.png").stat().st_size > 0
    assert text.rstrip().endswith("- FloatingPointError: draw 0\n- FloatingPointError: draw 1")
    assert "Samples: 40 Latin-hypercube draws of 24 market parameters" in text
    assert "in 1.5 minutes with 2 processes" in text
