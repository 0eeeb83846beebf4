"""Scenario discovery: where in parameter space does a condition hold (a stylized fact fail)?

:func:`prim_boxes` runs the EMA Workbench's PRIM (``ema_workbench.analysis.prim.Prim``,
``find_box``) on a sample of parameters ``x`` (a column per varied config path) and a
boolean ``y`` (True where the condition holds, e.g. where a fact FAILS), picks one box on
the peeling trajectory by a stated rule, and ranks the parameters with the workbench's
extra-trees feature scores (``ema_workbench.analysis.feature_scoring``). :func:`plot_discovery`
draws the trade-off curve and the chosen box's limits as a PNG for a document.

The numbers, for the chosen box (PRIM's usual definitions):

* **coverage**: the share of all cases of interest (``y`` True) that fall inside the box;
* **density**: the share of the points inside the box that are cases of interest;
* **mass**: the share of all points inside the box.

**The rule that picks the box.** PRIM peels the sample's bounding box a little at a time
(``peel_alpha`` of the points per step, down to ``mass_min``), then pastes back what helps;
every step is a box on the *peeling trajectory*, coverage falling and density (mostly) rising
along it. We take the **largest box (the highest coverage) whose density reaches
``min_density``**, among the boxes restricting at most ``max_dims`` parameters when that is
given; ties go to fewer restricted parameters. When no box reaches ``min_density`` we take
the densest box and say so in :attr:`Discovery.text`. The workbench's own ``threshold``
is set to accept any box, so that it returns the whole trajectory instead of its
fallback box (the whole space) when its last box misses the threshold.

Column names may be config paths (``market.beta_human``) or the workbench's names
(``market__beta_human``, :func:`sim.study.ema.ema_name`): boxes and text use config paths.
The workbench's bookkeeping columns (``scenario``, ``policy``, ``model``) are dropped.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..settings.schema import ConfigError
from .ema import BOOKKEEPING, config_path, workbench


@dataclasses.dataclass
class Discovery:
    """One PRIM box and what it means.

    ``box``: the restricted parameters only, path -> ``(low, high)`` (a numeric parameter; a
    side that PRIM did not restrict is the sample's minimum or maximum) or path -> tuple of the
    categories kept (a categorical one). ``coverage``, ``density``, ``mass`` as in the module
    docstring; ``qp``: PRIM's quasi-p-value of each restriction, path -> (lower side, upper side),
    NaN for a side not restricted (small: the restriction is unlikely to be chance);
    ``feature_scores``: path -> extra-trees importance (summing to 1), highest first;
    ``trajectory``: the peeling trajectory (coverage, density, mass, res_dim per box);
    ``chosen``: the index of the box on it; ``restricted``: path -> which sides are restricted
    (``"lower"``, ``"upper"``, ``"both"``, ``"categories"``); ``sampled``: path -> the sample's
    (min, max); ``cases``: cases of interest / points; ``text``: one sentence.
    """

    box: dict[str, tuple]
    coverage: float
    density: float
    mass: float
    qp: dict[str, tuple[float, float]]
    feature_scores: dict[str, float]
    trajectory: pd.DataFrame
    chosen: int
    restricted: dict[str, str]
    sampled: dict[str, tuple]
    cases: tuple[int, int]
    text: str
    condition: str = "the condition holds"


def _check(x: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(x, pd.DataFrame):
        raise ConfigError(f"x: expected a pandas DataFrame with a column per parameter, got {type(x).__name__}")
    x = x.drop(columns=[c for c in BOOKKEEPING if c in x.columns]).reset_index(drop=True)
    if x.shape[1] == 0:
        raise ConfigError("x: no parameter columns; allowed: a column per varied config path")
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or len(y_arr) != len(x):
        raise ConfigError(f"y: expected one boolean per row of x ({len(x)} rows), got shape {y_arr.shape}")
    if y_arr.dtype != bool:
        if not np.isin(y_arr, (0, 1)).all():
            raise ConfigError("y: expected booleans (True where the condition holds); allowed values True/False")
        y_arr = y_arr.astype(bool)
    for c in x.columns:
        col = x[c]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            x[c] = col.astype("category")
        elif pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            raise ConfigError(f"x column {c}: {col.dtype} is not a parameter; allowed numbers or categories")
        elif not np.isfinite(col.to_numpy(float)).all():
            raise ConfigError(f"x column {c}: has missing or infinite values; allowed finite numbers")
        else:
            # whole-number columns too: the workbench's PRIM (2.5, pandas 2) fails writing a peeled
            # limit such as 7.5 into an integer column; a limit between two whole numbers reads the same
            x[c] = col.astype(np.float64)
    if len(x) < 10:
        raise ConfigError(f"x: {len(x)} points; allowed at least 10 for PRIM to peel")
    return x, y_arr


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def conditions(box: dict[str, tuple], restricted: dict[str, str]) -> list[str]:
    """The box's restrictions as text: ``market.beta_human < 2.4``, ``0.1 < x < 0.3``, ``mode in {soft}``."""
    parts = []
    for path, lim in box.items():
        side = restricted[path]
        if side == "categories":
            parts.append(f"{path} in {{{', '.join(map(str, lim))}}}")
        elif side == "lower":
            parts.append(f"{path} > {_fmt(lim[0])}")
        elif side == "upper":
            parts.append(f"{path} < {_fmt(lim[1])}")
        else:
            parts.append(f"{_fmt(lim[0])} < {path} < {_fmt(lim[1])}")
    return parts


def _sentence(condition: str, box: dict[str, tuple], restricted: dict[str, str], coverage: float, density: float,
              met: bool, min_density: float) -> str:
    where = " and ".join(conditions(box, restricted)) or "anywhere in the sampled region"
    short = "" if met else f": no box reached density {min_density:.2f}"
    return f"{condition} when {where} (coverage {coverage:.2f}, density {density:.2f}{short})"


def prim_boxes(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, *, condition: str = "the fact fails",
               min_density: float = 0.8, max_dims: int | None = None, peel_alpha: float = 0.05,
               paste_alpha: float = 0.05, mass_min: float = 0.05, seed: int = 0) -> Discovery:
    """The box of parameter space where ``y`` holds, found by the EMA Workbench's PRIM.

    Parameters
    ----------
    x : DataFrame
        One row per sampled point, one column per varied parameter (config paths, or
        workbench names); numbers or categories.
    y : booleans, one per row
        True where the condition of interest holds (e.g. where a stylized fact FAILS).
    condition : str
        How the sentence names the condition: ``"the fact fails"`` gives "the fact fails
        when market.beta_human < 2.4 and ... (coverage 0.82, density 0.91)".
    min_density : float in (0, 1]
        The box chosen is the one with the highest coverage whose density reaches this
        (see the module docstring); if none does, the densest box.
    max_dims : int >= 1, optional
        Consider only boxes restricting at most this many parameters (a shorter, more
        robust description at some cost in density).
    peel_alpha, paste_alpha, mass_min : PRIM's settings (the workbench's defaults): the share
        of points peeled or pasted per step, and the smallest box mass.
    seed : int
        Random state of the extra-trees feature scores.

    Returns
    -------
    Discovery
        The box (restricted parameters only), coverage, density, mass, quasi-p values,
        feature scores and one sentence. With no case of interest, or only such cases, the
        box is empty and the sentence says so.
    """
    x, y_arr = _check(x, y)
    if not 0 < min_density <= 1:
        raise ConfigError(f"min_density = {min_density!r}: allowed a number in (0, 1]")
    if max_dims is not None and (isinstance(max_dims, bool) or not isinstance(max_dims, int) or max_dims < 1):
        raise ConfigError(f"max_dims = {max_dims!r}: allowed a whole number >= 1 (or None: any)")
    for key, value in (("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha), ("mass_min", mass_min)):
        if not 0 < value < 1:
            raise ConfigError(f"{key} = {value!r}: allowed a number in (0, 1)")
    paths = {c: config_path(str(c)) for c in x.columns}
    sampled = {paths[c]: ((x[c].min(), x[c].max()) if not isinstance(x[c].dtype, pd.CategoricalDtype)
                          else tuple(x[c].cat.categories)) for c in x.columns}
    n_cases, n = int(y_arr.sum()), len(y_arr)
    if n_cases == 0 or n_cases == n:
        text = (f"{condition} nowhere in the {n} sampled points" if n_cases == 0 else
                f"{condition} in every one of the {n} sampled points")
        return Discovery({}, float(n_cases > 0), float(n_cases > 0), 1.0, {}, {}, pd.DataFrame(), 0, {},
                         sampled, (n_cases, n), text, condition)

    workbench()
    from ema_workbench.analysis import feature_scoring, prim
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas FutureWarnings from inside the workbench
        # threshold: accept any box with a case of interest (see the module docstring); the choice is ours
        alg = prim.Prim(x, y_arr.astype(int), threshold=1e-9, peel_alpha=peel_alpha,
                        paste_alpha=paste_alpha, mass_min=mass_min)
        found = alg.find_box()
        traj = found.peeling_trajectory.copy()
        ok = traj.index if max_dims is None else traj.index[traj["res_dim"] <= max_dims]
        dense = [i for i in ok if traj.loc[i, "density"] >= min_density]
        met = bool(dense)
        pool = traj.loc[dense] if met else traj.loc[ok]
        key = ["coverage", "res_dim", "density"] if met else ["density", "coverage", "res_dim"]
        asc = [False, True, False] if met else [False, False, True]
        chosen = int(pool.sort_values(key, ascending=asc, kind="stable").index[0])
        found.select(chosen)
        lims = found.box_lims[chosen]
        init = found.box_lims[0]
        qp_raw = found.qp[chosen]
        scores, _ = feature_scoring.get_ex_feature_scores(x, y_arr.astype(int),
                                                          mode=RuleInductionType.CLASSIFICATION, random_state=seed)
    box: dict[str, tuple] = {}
    restricted: dict[str, str] = {}
    qp: dict[str, tuple[float, float]] = {}
    for c in x.columns:
        path = paths[c]
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            kept, allc = set(lims.loc[0, c]), set(init.loc[0, c])
            if kept != allc:
                box[path] = tuple(sorted(kept, key=str))
                restricted[path] = "categories"
        else:
            lo, hi = float(lims.loc[0, c]), float(lims.loc[1, c])
            low_r, high_r = lo > float(init.loc[0, c]), hi < float(init.loc[1, c])
            if low_r or high_r:
                box[path] = (lo, hi)
                restricted[path] = "both" if low_r and high_r else ("lower" if low_r else "upper")
        if c in qp_raw:
            vals = [float("nan") if v == -1 else float(v) for v in qp_raw[c]]
            qp[path] = (vals[0], vals[-1])
    row = traj.loc[chosen]
    fs = scores.iloc[:, 0].sort_values(ascending=False)
    feature_scores = {paths[c]: float(v) for c, v in fs.items()}
    coverage, density, mass = float(row["coverage"]), float(row["density"]), float(row["mass"])
    text = _sentence(condition, box, restricted, coverage, density, met, min_density)
    return Discovery(box, coverage, density, mass, qp, feature_scores, traj, chosen, restricted, sampled,
                     (n_cases, n), text, condition)


def plot_discovery(d: Discovery, path: str | Path | None = None, title: str | None = None, top: int = 8):
    """The trade-off curve (coverage against density along the peeling trajectory, the chosen box
    marked) and the chosen box's limits over each parameter's sampled range, with the feature
    scores of the ``top`` parameters. Saved as a PNG when ``path`` is given; returns the Figure."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_b, ax_s) = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.1, 1.3, 1]})
    if d.trajectory.empty:
        for ax in (ax_t, ax_b, ax_s):
            ax.set_axis_off()
        ax_b.text(0.5, 0.5, d.text, ha="center", va="center", wrap=True)
    else:
        t = d.trajectory
        sc = ax_t.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
        ax_t.plot(t["coverage"], t["density"], color="0.7", lw=0.8, zorder=0)
        ax_t.scatter([d.coverage], [d.density], s=120, facecolors="none", edgecolors="red", lw=1.5,
                     label=f"chosen box {d.chosen}")
        ax_t.set_xlabel("coverage")
        ax_t.set_ylabel("density")
        ax_t.set_xlim(-0.02, 1.02)
        ax_t.set_ylim(-0.02, 1.02)
        ax_t.legend(loc="lower left", fontsize=8)
        top_dim = int(t["res_dim"].max())
        fig.colorbar(sc, ax=ax_t, label="restricted parameters",
                     ticks=range(0, top_dim + 1, max(1, (top_dim + 1) // 6)))
        ax_t.set_title("peeling trajectory")
        names = list(d.box)
        for k, name in enumerate(names):
            lo_s, hi_s = d.sampled[name]
            if d.restricted[name] == "categories":
                ax_b.barh(k, 1.0, left=0.0, color="0.9")
                ax_b.text(0.5, k, "{" + ", ".join(map(str, d.box[name])) + "}", ha="center", va="center", fontsize=8)
                continue
            lo, hi = d.box[name]
            span = (hi_s - lo_s) or 1.0
            a, b = (lo - lo_s) / span, (hi - lo_s) / span
            ax_b.barh(k, 1.0, left=0.0, color="0.9")
            ax_b.barh(k, b - a, left=a, color="tab:red", alpha=0.7)
            # the box's limits above the bar, the sampled range at its ends (grey)
            ax_b.text(a, k - 0.45, _fmt(lo), ha="center", va="bottom", fontsize=7)
            ax_b.text(b, k - 0.45, _fmt(hi), ha="center", va="bottom", fontsize=7)
            ax_b.text(-0.02, k, _fmt(lo_s), ha="right", va="center", fontsize=6, color="0.4")
            ax_b.text(1.02, k, _fmt(hi_s), ha="left", va="center", fontsize=6, color="0.4")
        ax_b.set_yticks(range(len(names)), names, fontsize=8)
        ax_b.set_xlim(-0.15, 1.15)
        ax_b.set_ylim(-0.9, max(len(names), 1) - 0.4)
        ax_b.set_xticks([])
        ax_b.invert_yaxis()
        ax_b.set_title(f"box: coverage {d.coverage:.2f}, density {d.density:.2f}, mass {d.mass:.2f}", fontsize=9)
        fs = list(d.feature_scores.items())[:top]
        ax_s.barh(range(len(fs)), [v for _, v in fs], color=["tab:red" if k in d.box else "0.6" for k, _ in fs])
        ax_s.set_yticks(range(len(fs)), [k for k, _ in fs], fontsize=8)
        ax_s.invert_yaxis()
        ax_s.set_xlabel("feature score (extra trees)")
        ax_s.set_title("what separates the cases")
    fig.suptitle(title or d.text, fontsize=9, wrap=True)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def boxes_table(discoveries: dict[str, Discovery]) -> str:
    """A Markdown table of several discoveries (e.g. one per conditional fact)."""
    rows = ["| case | box | coverage | density | mass | cases / points | top features |",
            "|---|---|---|---|---|---|---|"]
    for label, d in discoveries.items():
        box = "; ".join(conditions(d.box, d.restricted)) or "-"
        feats = ", ".join(f"{k} {v:.2f}" for k, v in list(d.feature_scores.items())[:3]) or "-"
        rows.append(f"| {label} | {box} | {d.coverage:.2f} | {d.density:.2f} | {d.mass:.2f} | "
                    f"{d.cases[0]} / {d.cases[1]} | {feats} |")
    return "\n".join(rows)
