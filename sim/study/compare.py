"""``python -m sim.compare RESULT_A RESULT_B``: is A really different from B, and by how much?

Each result is a run folder, a sweep (multirun) folder or a netCDF file (a saved
sweep or design), optionally with a selection of swept values after a colon:
``results/multirun/X:scenario=disruptor`` or ``sweep.nc:scenario=baseline,firms.both.price=1.2``
(so two scenarios of one sweep can be compared). The outcome table
(:func:`sim.study.analysis.compare_table`) is printed with A, B, A − B and the interval of
A − B, and the seeds behind each (``n``); ``*`` marks a difference whose interval
excludes zero.

Before anything is computed the two sides are checked (:func:`pairing`): seeds
present and finished on both sides are paired (common random numbers: the same seed
draws the same customers) only if both sides draw their customers alike (the same
``customers`` settings); the seeds used and dropped are printed, and so are the
settings held fixed on each side that differ between them. Results of different
population sizes are refused (``--unpaired`` compares them as independent samples).
Every side says how many of its jobs finished, failed or were absent. Figures are written to
``--out`` (default ``results/compare/<A>_vs_<B>``, never overwriting an earlier
comparison): fan charts over seeds, the difference over time with its band, and a
heatmap of the difference when two factors were swept.

Exit status 0 on success, 2 on bad input (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from . import analysis as A

#: Quantile bands of the fan charts: (low, high) pairs, outer first.
FAN_BANDS = ((0.05, 0.95), (0.25, 0.75))


# ------------------------------------------------------------------ the two sides
_SELECTION = re.compile(r"^(?P<path>.+?):(?P<sel>[\w.\-/]+=[^:]*)$")


def split_selection(arg: str) -> tuple[str, dict[str, str]]:
    """``"PATH:key=value,key=value"`` -> (PATH, {key: value}); a path that exists is taken whole."""
    m = _SELECTION.match(arg)
    if Path(arg).exists() or m is None:
        return arg, {}
    items = re.split(r",(?=[\w.\-/]+=)", m.group("sel"))
    return m.group("path"), dict(item.split("=", 1) for item in items)


def _typed(text: str, coord: xr.DataArray):
    """The coordinate value ``text`` names (numbers as numbers)."""
    kind = coord.dtype.kind
    try:
        if kind in "iu":
            return int(text)
        if kind == "f":
            return float(text)
    except ValueError:
        return None
    return text


def open_side(arg: str, chunks: dict | None = None, dim: str = "seed") -> xr.Dataset:
    """One side of a comparison: a run, sweep or file, with its selection of swept values applied."""
    path, selection = split_selection(arg)
    ds = A.open_result(path, chunks)
    for key, text in selection.items():
        if key not in ds.dims:
            swept = ", ".join(str(d) for d in ds.dims if d not in ("step", "firm", "segment", "job")) or "none"
            raise A.AnalysisError(f"{arg}: {key!r} is not swept in {path} (swept dimensions: {swept})")
        value = _typed(text, ds[key])
        values = ds[key].values.tolist()
        if value not in values:
            raise A.AnalysisError(f"{arg}: {key} = {text!r} is not in {path}; its values: "
                                  f"{', '.join(map(str, values))}")
        ds = ds.sel({key: value})
    return A.with_seed_dim(ds, dim)


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


#: The value :func:`fixed_settings` gives a setting that differs between the runs of one side.
VARIES = "(varies)"


def fixed_settings(ds: xr.Dataset) -> dict[str, object] | None:
    """Every setting (config path, flattened) of the runs of ``ds``, the seed aside: its value where
    every run holds the same, :data:`VARIES` where they differ; None if ``ds`` records no config
    (a design saved without it)."""
    if "run_config" in ds.data_vars:
        texts = {str(t) for t in np.asarray(ds["run_config"].values).reshape(-1) if str(t)}
    elif "config" in ds.attrs:
        texts = {str(ds.attrs["config"])}
    else:
        return None
    if not texts:
        return None
    flat = [_flatten(yaml.safe_load(t) or {}) for t in sorted(texts)]
    keys = set().union(*flat)
    out: dict[str, object] = {}
    for k in sorted(keys - {"seed"}):
        values = {repr(f.get(k)) for f in flat}
        out[k] = flat[0].get(k) if len(values) == 1 else VARIES
    return out


def _seeds_with_data(da: xr.DataArray, dim: str) -> list:
    other = [d for d in da.dims if d != dim]
    has = da.notnull().any(other) if other else da.notnull()
    return [s for s, ok in zip(da[dim].values.tolist(), np.asarray(has.values).tolist(), strict=True) if ok]


def _short(values: Sequence) -> str:
    values = list(values)
    if not values:
        return "none"
    text = ", ".join(map(str, values[:12]))
    return text + (f", ... ({len(values)})" if len(values) > 12 else "")


@dataclass
class Pairing:
    """What :func:`pairing` found: whether and on which seeds A and B are paired, and why."""

    paired: bool
    how: str  # one line: paired on which seeds, or why not
    seeds_a: list = field(default_factory=list)
    seeds_b: list = field(default_factory=list)
    shared: list = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # lines: seeds left out of the pairs, and why
    differ: list[str] = field(default_factory=list)  # settings held fixed on both sides with other values

    def lines(self) -> list[str]:
        out = [self.how, *self.dropped]
        if self.differ:
            shown = self.differ[:8] + ([f"... and {len(self.differ) - 8} more"] if len(self.differ) > 8 else [])
            out.append("settings that differ between A and B: " + "; ".join(shown))
        return out


def pairing(a: xr.Dataset, b: xr.Dataset, var: str, dim: str = "seed", paired: bool | str = "auto") -> Pairing:
    """Check that A and B can be paired by seed, and on which seeds; raise AnalysisError where they
    cannot be compared at all.

    Pairing by seed is common random numbers only if both sides draw their customers
    alike: the same ``customers`` settings (population size and segments). Different
    population sizes are refused unless ``paired`` is False (then compared as
    independent samples); other differences in the ``customers`` settings make the
    comparison unpaired. Seeds are paired where both sides finished them; the others
    are named as dropped.
    """
    seeds_a, seeds_b = _seeds_with_data(a[var], dim), _seeds_with_data(b[var], dim)
    all_a, all_b = a[dim].values.tolist(), b[dim].values.tolist()
    shared = [s for s in seeds_a if s in set(seeds_b)]
    fa, fb = fixed_settings(a), fixed_settings(b)
    differ, population = [], []
    if fa is not None and fb is not None:
        for k in sorted(set(fa) | set(fb)):
            if k not in fa or k not in fb:
                other = fb if k in fa else fa
                parts = k.split(".")
                group = next(".".join(parts[:i]) for i in range(1, len(parts) + 1)
                             if not any(o == ".".join(parts[:i]) or o.startswith(".".join(parts[:i]) + ".")
                                        for o in other))
                entry = f"{group} (only in {'A' if k in fa else 'B'})"
                if entry not in differ:
                    differ.append(entry)
            elif VARIES not in (fa[k], fb[k]) and repr(fa[k]) != repr(fb[k]):
                differ.append(f"{k} ({fa[k]!r} vs {fb[k]!r})")
        population = [k for k in sorted(set(fa) | set(fb)) if k.startswith("customers.")
                      and repr(fa.get(k)) != repr(fb.get(k))]
        size_a, size_b = fa.get("customers.n"), fb.get("customers.n")
        if size_a is not None and size_b is not None and size_a != size_b and paired is not False:
            raise A.AnalysisError(f"A has {size_a} customers, B {size_b}: the same seed draws other customers "
                                  f"and counts differ in scale, so they are not paired; compare results of one "
                                  f"size, or add --unpaired to compare them as independent samples (Welch)")
    dropped = []
    for side, have, every, other in (("A", seeds_a, all_a, seeds_b), ("B", seeds_b, all_b, seeds_a)):
        failed = [s for s in every if s not in set(have)]
        alone = [s for s in have if s not in set(other)]
        if failed:
            dropped.append(f"{side}: seeds without a result (failed or absent jobs): {_short(failed)}")
        if alone:
            dropped.append(f"{side}: seeds not on the other side, left out of the pairs: {_short(alone)}")
    if paired is False:
        how = f"unpaired (--unpaired): Welch intervals over {len(seeds_a)} seeds of A and {len(seeds_b)} of B"
        return Pairing(False, how, seeds_a, seeds_b, shared, [], differ)
    if population:
        how = (f"unpaired: A and B draw their customers differently ({', '.join(population)} differ), so a seed "
               f"is not the same customers on both sides; Welch intervals over {len(seeds_a)} and {len(seeds_b)} "
               f"seeds")
        if paired is True:
            raise A.AnalysisError(how.replace("unpaired: ", "cannot pair: "))
        return Pairing(False, how, seeds_a, seeds_b, shared, [], differ)
    if len(shared) < 2:
        how = (f"unpaired: {len(shared)} seed{'s' if len(shared) != 1 else ''} with a result on both sides "
               f"(pairing needs 2); Welch intervals over {len(seeds_a)} and {len(seeds_b)} seeds")
        if paired is True:
            raise A.AnalysisError(how.replace("unpaired: ", "cannot pair: "))
        return Pairing(False, how, seeds_a, seeds_b, shared, dropped, differ)
    how = f"paired by seed (common random numbers) on {len(shared)} seeds: {_short(shared)}"
    return Pairing(True, how, seeds_a, seeds_b, shared, dropped, differ)


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
    """The comparison table as text: per outcome, A, B, ``A−B [low, high]`` with ``*`` if significant, and
    ``n``, the seeds (pairs when paired) the difference rests on."""
    blocks = []
    for name in dict.fromkeys(table.columns.get_level_values(0)):
        t = table[name]
        units = A.OUTCOMES.get(name, ("", ""))[1]
        rows = pd.DataFrame({
            "A": t["A"].map("{:.4g}".format),
            "B": t["B"].map("{:.4g}".format),
            "A-B [interval]": [_cell(a, b, d, lo, hi, s) for a, b, d, lo, hi, s in
                               zip(t["A"], t["B"], t["diff"], t["low"], t["high"], t["significant"], strict=True)],
            "n": t["n"].map(lambda n: "" if np.isnan(n) else f"{n:.0f}"),
            "paired gain": t["crn_gain"].map(lambda g: "" if np.isnan(g) else f"x{g:.1f}"),
        }, index=t.index)
        blocks.append(f"== {name} ({A.OUTCOMES.get(name, ('', ''))[0]}; {units})\n{rows.to_string()}")
    return "\n\n".join(blocks)


def _claim_folder(path: Path) -> Path:
    """Create ``path``, or ``path_2``, ``path_3``... if taken (atomically: two comparisons never share one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    k = 1
    while True:
        candidate = path if k == 1 else Path(f"{path}_{k}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            k += 1


def _label(arg: str | Path) -> str:
    path, selection = split_selection(str(arg))
    name = Path(path).name or "A"
    return "_".join([name, *(f"{k}-{v}" for k, v in selection.items())]).replace("/", "-")


def compare(path_a: str | Path, path_b: str | Path, steps: Sequence[int] | None = None,
            var: str = "share", out: str | Path | None = None, level: float = 0.95, dim: str = "seed",
            paired: bool | str = "auto", chunks: dict | None = None,
            names: Sequence[str] | None = None) -> tuple[pd.DataFrame, Path]:
    """Compare two results: the table (returned and written as CSV and text) and the figures.

    ``path_a``, ``path_b``: a run or sweep folder or a netCDF file, optionally with a
    selection of swept values (``sweep.nc:scenario=disruptor``, see :func:`split_selection`).
    The sides are checked first (:func:`pairing`). Returns the comparison table (see
    :func:`sim.study.analysis.compare_table`; ``attrs["pairing"]`` holds the
    :class:`Pairing`) and the output folder. Raises
    :class:`sim.study.analysis.AnalysisError` on bad input before anything is written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = open_side(str(path_a), chunks, dim)
    b = open_side(str(path_b), chunks, dim)
    A.require(a, [var])
    A.require(b, [var])
    if "firm" not in a[var].dims:
        raise A.AnalysisError(f"--var {var}: figures need a per-firm variable (dims step, firm)")
    pair = pairing(a, b, var, dim, paired)
    table = A.compare_table(a, b, steps, dim, level, pair.paired, names)
    table.attrs["seeds"] = (len(pair.seeds_a), len(pair.seeds_b))
    table.attrs["pairing"] = pair
    la, lb = _label(path_a), _label(path_b)
    folder = _claim_folder(Path(out) if out else Path("results") / "compare" / f"{la}_vs_{lb}")
    text = format_table(table)
    (folder / "comparison.txt").write_text(f"{header(table, path_a, path_b, level)}\n\n{text}\n")
    flat = table.copy()
    flat.columns = [f"{o}_{s}" for o, s in flat.columns]
    flat.to_csv(folder / "comparison.csv")
    d = A.difference(a[var], b[var], dim, pair.paired, level).compute()
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
            dd = A.difference(last[var], ob[var], dim, pair.paired, level).isel(step=0).compute()
        else:
            dd = d.isel(step=-1)
        dd.attrs.update(d.attrs)
        fig = heatmap(dd, dim)
        fig.savefig(folder / f"heatmap_{var}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    return table, folder


def header(table: pd.DataFrame, path_a: str | Path, path_b: str | Path, level: float) -> str:
    """What was compared and how: each side's seeds and jobs, the pairing, the settings that differ."""
    pair: Pairing = table.attrs["pairing"]
    jobs_a, jobs_b = table.attrs["jobs"].removeprefix("A: ").split("; B: ")
    def seeds(n: int) -> str:
        return f"{n} seed{'s' if n != 1 else ''} with a result"

    lines = [f"A = {path_a} ({seeds(len(pair.seeds_a))}; {jobs_a})",
             f"B = {path_b} ({seeds(len(pair.seeds_b))}; {jobs_b})", *pair.lines()]
    if min(len(pair.seeds_a), len(pair.seeds_b)) < 2:
        lines.append("one seed on a side: differences without intervals (run several seeds: "
                     "python -m sim -m seed=0,1,2,...)")
    gains = table.xs("crn_gain", axis=1, level=1).to_numpy(float)
    if pair.paired and np.isfinite(gains).any():
        lines.append(f"pairing made the intervals a median x{np.nanmedian(gains):.1f} tighter than unpaired")
    elif pair.paired:
        lines.append("every paired difference is the same in all seeds")
    lines.append(f"* = the {100 * level:g}% interval of A-B excludes 0; n = seeds behind each figure")
    return "\n".join(lines)


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
    parser.add_argument("result_a", help="run folder, sweep folder or .nc file, optionally with a selection of "
                                         "swept values: PATH:scenario=disruptor")
    parser.add_argument("result_b", help="run folder, sweep folder or .nc file (PATH:KEY=VALUE[,KEY=VALUE])")
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
    print(header(table, args.result_a, args.result_b, args.level) + "\n")
    print(format_table(table))
    print(f"\nwritten: {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
