"""``python -m sim.compare RESULT_A RESULT_B``: is A really different from B, and by how much?

Each result is a run folder, a sweep (multirun) folder or a netCDF file (a saved
sweep or design). The outcome table (:func:`sim.study.analysis.compare_table`) is printed
with A, B, A − B and the interval of A − B; ``*`` marks a difference whose interval
excludes zero. Seeds present on both sides are paired (common random numbers) and
the printout says how much tighter that made the intervals. Figures are written to
``--out`` (default ``results/compare/<A>_vs_<B>``, never overwriting an earlier
comparison): fan charts over seeds, the difference over time with its band, and a
heatmap of the difference when two factors were swept.

Exit status 0 on success, 2 on bad input (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import analysis as A

#: Quantile bands of the fan charts: (low, high) pairs, outer first.
FAN_BANDS = ((0.05, 0.95), (0.25, 0.75))


def _select_first(da: xr.DataArray, dim: str) -> tuple[xr.DataArray, str]:
    """Reduce the extra (swept) dimensions to their first value; say which were chosen."""
    extra = A._extra_dims(da, dim)
    note = ", ".join(f"{d}={da[d].values[0]}" for d in extra)
    return (da.isel({d: 0 for d in extra}) if extra else da), note


def fan_chart(a: xr.DataArray, b: xr.DataArray, labels: tuple[str, str] = ("A", "B"), dim: str = "seed"):
    """Median and quantile bands over seeds of a (step, firm) variable, one panel per firm.

    Returns the matplotlib Figure. Extra (swept) dimensions are reduced to their
    first value (named in the title).
    """
    import matplotlib.pyplot as plt

    a, note_a = _select_first(a, dim)
    b, note_b = _select_first(b, dim)
    a, b = A._align(a, b, dim)
    firms = [str(f) for f in a.firm.values]
    fig, axes = plt.subplots(1, len(firms), figsize=(3.2 * len(firms), 3.2), sharey=True, squeeze=False)
    for ax, firm in zip(axes[0], firms, strict=True):
        for da, label, color in ((a, labels[0], "C0"), (b, labels[1], "C3")):
            x = da.sel(firm=firm).transpose("step", dim)
            if bool(x.isnull().all()):
                continue
            steps = x.step.values
            for k, (lo, hi) in enumerate(FAN_BANDS):
                q = np.nanquantile(x.values, [lo, hi], axis=1)
                ax.fill_between(steps, q[0], q[1], color=color, alpha=0.15 + 0.15 * k, lw=0)
            ax.plot(steps, np.nanmedian(x.values, axis=1), color=color, label=label)
        ax.set_title(firm)
        ax.set_xlabel("step")
    axes[0][0].set_ylabel(f"{a.name} ({a.attrs.get('units', '')})")
    axes[0][0].legend(fontsize=8)
    extra = "; ".join(dict.fromkeys(n for n in (note_a, note_b) if n))
    fig.suptitle(f"{a.name}: median and 50%/90% bands over {a.sizes[dim]} and {b.sizes[dim]} seeds"
                 + (f" ({extra})" if extra else ""), fontsize=10)
    fig.tight_layout()
    return fig


def difference_chart(d: xr.Dataset, labels: tuple[str, str] = ("A", "B"), dim: str = "seed"):
    """A − B over time with its interval band, one panel per firm (from :func:`sim.study.analysis.difference`)."""
    import matplotlib.pyplot as plt

    extra = A._extra_dims(d["diff"], dim)
    note = ", ".join(f"{k}={d[k].values[0]}" for k in extra)
    d = d.isel({k: 0 for k in extra}) if extra else d
    firms = [str(f) for f in d.firm.values]
    fig, axes = plt.subplots(1, len(firms), figsize=(3.2 * len(firms), 3.2), sharey=True, squeeze=False)
    for ax, firm in zip(axes[0], firms, strict=True):
        x = d.sel(firm=firm)
        ax.axhline(0, color="0.5", lw=0.8)
        if bool(x["diff"].isnull().all()):
            ax.text(0.5, 0.5, "in one result only:\nno difference", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8, color="0.4")
        ax.fill_between(x.step.values, x.low.values, x.high.values, color="C2", alpha=0.3, lw=0,
                        label=f"{100 * d.attrs['level']:g}% interval")
        if d.attrs["paired"]:
            ax.fill_between(x.step.values, x.low_unpaired.values, x.high_unpaired.values, color="0.6",
                            alpha=0.2, lw=0, label="unpaired interval")
        ax.plot(x.step.values, x["diff"].values, color="C2", label=f"{labels[0]} − {labels[1]}")
        ax.set_title(firm)
        ax.set_xlabel("step")
    axes[0][0].set_ylabel(f"difference in {d.attrs['variable']}")
    axes[0][0].legend(fontsize=7)
    how = "paired by seed" if d.attrs["paired"] else "unpaired (Welch)"
    fig.suptitle(f"{labels[0]} − {labels[1]}: {d.attrs['variable']}, {how}" + (f" ({note})" if note else ""),
                 fontsize=10)
    fig.tight_layout()
    return fig


def heatmap(d: xr.Dataset, dim: str = "seed"):
    """The difference over two swept factors, one panel per firm; ``*`` marks intervals excluding zero.

    ``d`` is a :func:`sim.study.analysis.difference` result reduced to (factor1, factor2, firm).
    """
    import matplotlib.pyplot as plt

    f1, f2 = A._extra_dims(d["diff"], dim)
    firms = [str(f) for f in d.firm.values]
    vmax = float(np.nanmax(np.abs(d["diff"].values))) if bool(d["diff"].notnull().any()) else 1.0
    fig, axes = plt.subplots(1, len(firms), figsize=(3.0 * len(firms) + 1, 3.4), squeeze=False,
                             layout="constrained")
    for k, (ax, firm) in enumerate(zip(axes[0], firms, strict=True)):
        x = d.sel(firm=firm).transpose(f1, f2)
        im = ax.imshow(x["diff"].values, cmap="RdBu", vmin=-vmax, vmax=vmax, origin="lower", aspect="auto")
        for i in range(x.sizes[f1]):
            for j in range(x.sizes[f2]):
                if x.significant.values[i, j]:
                    ax.text(j, i, "*", ha="center", va="center")
        ax.set_xticks(range(x.sizes[f2]), [f"{v}" for v in x[f2].values], fontsize=7, rotation=45)
        ax.set_yticks(range(x.sizes[f1]), [f"{v}" for v in x[f1].values], fontsize=7)
        ax.set_xlabel(f2, fontsize=8)
        if k == 0:
            ax.set_ylabel(f1, fontsize=8)
        ax.set_title(firm)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label=f"A − B, {d.attrs['variable']}")
    fig.suptitle(f"A − B over two swept factors ({d.attrs['variable']}; * interval excludes 0)", fontsize=10)
    return fig


def _cell(a: float, b: float, d: float, lo: float, hi: float, significant: bool) -> str:
    if np.isfinite(lo):
        return f"{d:+.4g} [{lo:+.4g}, {hi:+.4g}]{' *' if significant else ''}"
    if np.isfinite(d):
        return f"{d:+.4g} (no interval)"
    if np.isfinite(a) and not np.isfinite(b):
        return "(only in A)"
    if np.isfinite(b) and not np.isfinite(a):
        return "(only in B)"
    return "(undefined)"


def format_table(table: pd.DataFrame) -> str:
    """The comparison table as text: per outcome, A, B and ``A−B [low, high]`` with ``*`` if significant."""
    blocks = []
    for name in dict.fromkeys(table.columns.get_level_values(0)):
        t = table[name]
        units = A.OUTCOMES.get(name, ("", ""))[1]
        rows = pd.DataFrame({
            "A": t["A"].map("{:.4g}".format),
            "B": t["B"].map("{:.4g}".format),
            "A-B [interval]": [_cell(a, b, d, lo, hi, s) for a, b, d, lo, hi, s in
                               zip(t["A"], t["B"], t["diff"], t["low"], t["high"], t["significant"], strict=True)],
            "paired gain": t["crn_gain"].map(lambda g: "" if np.isnan(g) else f"x{g:.1f}"),
        }, index=t.index)
        blocks.append(f"== {name} ({A.OUTCOMES.get(name, ('', ''))[0]}; {units})\n{rows.to_string()}")
    return "\n\n".join(blocks)


def _free_folder(path: Path) -> Path:
    if not path.exists():
        return path
    k = 2
    while Path(f"{path}_{k}").exists():
        k += 1
    return Path(f"{path}_{k}")


def compare(path_a: str | Path, path_b: str | Path, steps: Sequence[int] | None = None,
            var: str = "share", out: str | Path | None = None, level: float = 0.95, dim: str = "seed",
            paired: bool | str = "auto", chunks: dict | None = None,
            names: Sequence[str] | None = None) -> tuple[pd.DataFrame, Path]:
    """Compare two results: the table (returned and written as CSV and text) and the figures.

    Returns the comparison table (see :func:`sim.study.analysis.compare_table`) and the
    output folder. Raises :class:`sim.study.analysis.AnalysisError` on bad input before
    anything is written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = A.with_seed_dim(A.open_result(path_a, chunks), dim)
    b = A.with_seed_dim(A.open_result(path_b, chunks), dim)
    A.require(a, [var])
    A.require(b, [var])
    if "firm" not in a[var].dims:
        raise A.AnalysisError(f"--var {var}: figures need a per-firm variable (dims step, firm)")
    table = A.compare_table(a, b, steps, dim, level, paired, names)
    table.attrs["seeds"] = (a.sizes[dim], b.sizes[dim])
    la, lb = Path(path_a).name or "A", Path(path_b).name or "B"
    folder = _free_folder(Path(out) if out else Path("results") / "compare" / f"{la}_vs_{lb}")
    folder.mkdir(parents=True)
    text = format_table(table)
    (folder / "comparison.txt").write_text(f"A = {path_a}\nB = {path_b}\n\n{text}\n")
    flat = table.copy()
    flat.columns = [f"{o}_{s}" for o, s in flat.columns]
    flat.to_csv(folder / "comparison.csv")
    d = A.difference(a[var], b[var], dim, paired, level).compute()
    fig = fan_chart(a[var].compute(), b[var].compute(), (la, lb), dim)
    fig.savefig(folder / f"fan_{var}.png", dpi=110)
    plt.close(fig)
    fig = difference_chart(d, (la, lb), dim)
    fig.savefig(folder / f"difference_{var}.png", dpi=110)
    plt.close(fig)
    if len(A._extra_dims(d["diff"], dim)) == 2:
        last = A.outcomes(a, [int(a.step.values[-1])], [var]) if var in A.OUTCOMES else None
        if last is not None:
            ob = A.outcomes(b, [int(a.step.values[-1])], [var])
            dd = A.difference(last[var], ob[var], dim, paired, level).isel(step=0).compute()
        else:
            dd = d.isel(step=-1)
        dd.attrs.update(d.attrs)
        fig = heatmap(dd, dim)
        fig.savefig(folder / f"heatmap_{var}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    return table, folder


def _parse_chunks(text: str | None) -> dict | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if not value.strip().lstrip("-").isdigit():
            raise A.AnalysisError(f"--chunks {text!r}: expected dim=size[,dim=size], e.g. step=60,seed=4")
        out[key.strip()] = int(value)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.compare", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("result_a", help="run folder, sweep folder or .nc file")
    parser.add_argument("result_b", help="run folder, sweep folder or .nc file")
    parser.add_argument("--steps", type=int, nargs="+", help="steps to report (default: the last)")
    parser.add_argument("--outcomes", nargs="+", choices=list(A.OUTCOMES), help="outcomes (default: all)")
    parser.add_argument("--var", default="share", help="per-firm variable of the figures (default share)")
    parser.add_argument("--out", help="output folder (default results/compare/<A>_vs_<B>)")
    parser.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--seed-dim", default="seed", help="the seed dimension (default seed)")
    parser.add_argument("--unpaired", action="store_true", help="never pair by seed (Welch intervals)")
    parser.add_argument("--chunks", help="open lazily with dask chunks, e.g. step=60,seed=4")
    args = parser.parse_args(argv)
    try:
        table, folder = compare(args.result_a, args.result_b, args.steps, args.var, args.out, args.level,
                                args.seed_dim, False if args.unpaired else "auto", _parse_chunks(args.chunks),
                                args.outcomes)
    except A.AnalysisError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    na, nb = table.attrs["seeds"]
    print(f"A = {args.result_a} ({na} seeds)\nB = {args.result_b} ({nb} seeds)")
    if min(na, nb) < 2:
        print("one seed on a side: differences without intervals (run several seeds: python -m sim -m seed=0,1,2,...)")
    gains = table.xs("crn_gain", axis=1, level=1).to_numpy(float)
    if table.attrs.get("paired") and np.isfinite(gains).any():
        print(f"paired by seed (common random numbers): intervals a median x{np.nanmedian(gains):.1f} "
              f"tighter than unpaired; * = the {100 * args.level:g}% interval of A-B excludes 0\n")
    elif table.attrs.get("paired"):
        print("paired by seed (common random numbers): every paired difference is the same in all seeds\n")
    else:
        print(f"unpaired (no common seeds): Welch intervals; * = the {100 * args.level:g}% interval "
              f"of A-B excludes 0\n")
    print(format_table(table))
    print(f"\nwritten: {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
