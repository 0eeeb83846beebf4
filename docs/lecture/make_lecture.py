"""Regenerate docs/LECTURE.md and its figures (``make lecture``).

Runs every scenario of the library (``scenarios/*.yaml``, not the validation cases)
with :data:`CUSTOMERS` customers and seed 0, draws one figure per scenario into
``docs/lecture/<scenario>.png`` (small multiples of the variables that make the
scenario's point, :func:`sim.plots.compare_plot.compare_figure`) and fills, into
``docs/lecture/LECTURE.template.md``, what the simulation shows: each firm's path and
numbers at the start and the end, and the events (entries, exits, shock). The
teaching text around them (what to show, what to ask, which control to move) is in the
template; the numbers come from the run, so they stay true when the model changes.

Placeholders: ``{{figure:NAME}}``, ``{{facts:NAME}}``, ``{{moves:NAME}}`` (the
scenario's "Move this control" sentences, each written from a run with and without the
move: :mod:`sim.study.lecture`), ``{{customers}}``; a scenario of the library without a
section in the template, or a placeholder without a value, is an error.

Usage: ``python docs/lecture/make_lecture.py`` (about a minute on two cores).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

import sim  # noqa: E402
from sim.app.figures import events, quadrant_of  # noqa: E402
from sim.plots import QUADRANTS  # noqa: E402
from sim.plots.compare_plot import compare_figure, save  # noqa: E402
from sim.settings.compose import scenario_names  # noqa: E402
from sim.study.lecture import CUSTOMERS, MOVES, SEED, sentence  # noqa: E402

TEMPLATE = HERE / "LECTURE.template.md"
OUT = ROOT / "docs" / "LECTURE.md"

#: The variables each scenario's figure shows (rows of small multiples).
FIGURE_VARS: dict[str, tuple[str, ...]] = {
    "baseline": ("share", "trust", "engagement", "cash"),
    "disruptor": ("share", "trust", "nps", "digital_expectation"),
    "commoditisation": ("price", "profit", "price_sensitivity", "share"),
    "steering": ("trust", "nps", "freedom", "unit_cost"),
    "inclusion": ("share", "segment_engagement", "segment_disengaged", "adoption"),
    "personalisation": ("share", "trust", "data_shared", "satisfaction"),
    "interventions": ("share", "engagement", "segment_engagement", "profit"),
    "shock": ("share", "trust", "nps", "adoption_total"),
    "adaptive": ("digital", "human", "price", "share"),
}


def library() -> list[str]:
    """Scenario names of the library (top-level scenario files; validation cases excluded)."""
    return [n for n in scenario_names() if "/" not in n]


def facts(ds: xr.Dataset) -> str:
    """Markdown: a table of each firm at its first and last step in the market, then the events."""
    alive = ds["alive"].values.astype(bool)
    steps = ds["step"].values
    rows = []
    for j, firm in enumerate(str(f) for f in ds["firm"].values):
        idx = np.flatnonzero(alive[:, j])
        if idx.size == 0:
            rows.append(f"| {firm} | never entered | | | | | |")
            continue
        a, b = idx[0], idx[-1]

        def at(var: str, i: int, j: int = j) -> float:
            return float(ds[var].values[i, j])

        q0 = QUADRANTS[quadrant_of(at("digital", a), at("human", a))][0]
        q1 = QUADRANTS[quadrant_of(at("digital", b), at("human", b))][0]
        fate = "in the market" if b == len(steps) - 1 else f"exits at step {int(steps[b + 1])}"
        entry = "" if a == 0 else f" (enters at step {int(steps[a])})"
        rows.append(
            f"| {firm} | {q0}" + ("" if q1 == q0 else f" → {q1}") + f" | {100 * at('share', a):.0f}% → "
            f"{100 * at('share', b):.0f}% | {at('trust', b):.2f} | {at('engagement', b):.2f} | "
            f"{at('nps', b):+.0f} | {fate}{entry} |")
    head = ("| firm | quadrant | share, first → last step in the market | trust | engagement | NPS | at the end |\n"
            "|---|---|---|---|---|---|---|")
    ev = events(ds)
    lines = [head, *rows, ""]
    if ev:
        lines.append("Events: " + "; ".join(f"step {s}: {t}" for s, t in ev) + ".")
    else:
        lines.append("Events: none (no entry, exit or shock).")
    lines.append(f"Market at the end: HHI {float(ds['hhi'].values[-1]):.2f}, digital expectation E "
                 f"{float(ds['digital_expectation'].values[-1]):.2f}, adoption "
                 f"{100 * float(ds['adoption_total'].values[-1]):.0f}%, mean price "
                 f"{float(ds['mean_price'].values[-1]):.2f}.")
    return "\n".join(lines)


def main() -> int:
    template = TEMPLATE.read_text()
    names = library()
    missing = [n for n in names if f"{{{{figure:{n}}}}}" not in template or n not in FIGURE_VARS]
    if missing:
        print(f"error: no section (or figure variables) for scenario(s) {', '.join(missing)} in {TEMPLATE.name} / "
              "FIGURE_VARS", file=sys.stderr)
        return 2
    values: dict[str, str] = {"customers": f"{CUSTOMERS:,}"}
    for name in names:
        t0 = time.perf_counter()
        ds = sim.run([f"scenario={name}", f"customers.n={CUSTOMERS}"], seed=SEED)
        fig = compare_figure([(f"{name} ({CUSTOMERS:,} customers, seed {SEED})", ds)], FIGURE_VARS[name],
                             panel_size=(7.0, 1.55))
        save(fig, HERE / f"{name}.png")
        values[f"figure:{name}"] = f"![{name}](lecture/{name}.png)"
        values[f"facts:{name}"] = facts(ds)
        said = []
        for move in (m for m in MOVES if m.scenario == name):
            after = sim.run([f"scenario={name}", f"customers.n={CUSTOMERS}", *move.overrides], seed=SEED)
            said.append(sentence(move, ds, after))
        values[f"moves:{name}"] = " Then ".join(said)
        print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)

    def fill(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            raise KeyError(f"placeholder {{{{{key}}}}} in {TEMPLATE.name} has no value")
        return values[key]

    text = re.sub(r"\{\{([a-z_:]+)\}\}", fill, template)
    header = ("<!-- Generated by `make lecture` (docs/lecture/make_lecture.py) from docs/lecture/LECTURE.template.md: "
              "edit the template, not this file. -->\n\n")
    OUT.write_text(header + text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
