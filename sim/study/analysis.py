"""Statistics over run, sweep and design Datasets: means with intervals over seeds,
paired scenario differences, outcome tables and customer lifetime value.

Every function takes xarray objects with any extra dimensions (``scenario``,
``firms.both.price``, ``run``...) and returns labelled xarray or pandas objects.
The seed dimension is named by ``dim`` (default ``"seed"``). Nothing here loads a
whole Dataset: on a Dataset opened lazily (``open_result(path, chunks={...})``,
dask arrays) the reductions run chunk by chunk and only the small results are
computed.

Conventions
-----------
* Missing is missing: a firm absent from a scenario and a job that failed or
  never ran are NaN (never a fill value such as -1), in every variable.
* Intervals are two-sided Student-t intervals for the mean over seeds at
  ``level`` (default 0.95) with ``n - 1`` degrees of freedom; ``n`` counts the
  seeds with a defined (non-NaN) value: the seeds whose job finished, and for
  means over customers those in which the firm had customers. With ``n < 2`` the
  interval is NaN. Every table says in ``attrs["jobs"]`` how many jobs finished,
  failed or were absent (:func:`jobs_note`).
* :func:`difference` pairs seeds where both sides have them (common random
  numbers: the same seed draws the same customers); otherwise it uses Welch's
  unpaired interval. It always reports the unpaired standard error too, so the
  gain from pairing is visible (``crn_gain = se_unpaired / se``).
* Datasets whose labels differ (another firm line-up, other swept values) are
  aligned with an **outer** join: a firm present on one side only appears with NaN
  differences instead of being dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

# reading results: re-exported here (A.open_result, A.AnalysisError...)
from .inputs import AnalysisError, job_counts, jobs_note, open_result, with_seed_dim  # noqa: F401

#: Outcomes of :func:`outcomes` and :func:`outcome_table`: name -> (long_name, units).
OUTCOMES: dict[str, tuple[str, str]] = {
    "share": ("market share at the step", "1"),
    "profit": ("profit summed over steps 1..step", "money/market customer"),
    "cash": ("cash at the step", "money/market customer"),
    "nps": ("net promoter score at the step", "percent"),
    "trust": ("mean trust at the step", "1"),
    "engagement": ("mean engagement at the step", "1"),
    "tenure": ("mean tenure at the step", "steps"),
    "churn": ("mean monthly churn over steps 1..step", "1/step"),
    "survival": ("firm alive at the step (mean over seeds = survival probability)", "1"),
    "relationship": ("relationship index at the step", "1"),
}

#: Variables each outcome is computed from.
_NEEDS = {"profit": "profit", "churn": "churn", "survival": "alive"}



def require(ds: xr.Dataset, names: Sequence[str]) -> None:
    """Raise :class:`AnalysisError` naming the first variable of ``names`` missing from ``ds``."""
    for name in names:
        if name not in ds.data_vars:
            have = ", ".join(sorted(map(str, ds.data_vars)))
            raise AnalysisError(f"variable {name!r} is not in the dataset; available: {have}")


def _need_dim(obj: xr.DataArray | xr.Dataset, dim: str, what: str = "data") -> None:
    if dim not in obj.dims:
        raise AnalysisError(f"{what} has no {dim!r} dimension (dims: {', '.join(map(str, obj.dims))}); "
                            f"an interval needs several seeds (use with_seed_dim for a single run)")


# ------------------------------------------------------------------------- statistics
def _t_quantile(df: xr.DataArray, level: float) -> xr.DataArray:
    """Two-sided Student-t quantile for ``level`` with ``df`` degrees of freedom (NaN where df < 1)."""
    from scipy import stats

    def q(d: np.ndarray) -> np.ndarray:
        d = np.asarray(d, dtype=float)
        out = np.full(d.shape, np.nan)
        ok = d >= 1
        out[ok] = stats.t.ppf(0.5 + level / 2, d[ok])
        return out

    return xr.apply_ufunc(q, df, dask="parallelized", output_dtypes=[float])


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise AnalysisError(f"level = {level} must be a number in (0, 1), e.g. 0.95")


def mean_ci(data: xr.DataArray, dim: str = "seed", level: float = 0.95) -> xr.Dataset:
    """Mean over seeds with its standard error and t interval.

    Parameters
    ----------
    data : xarray.DataArray
        Values with a seed dimension ``dim`` and any others (kept).
    dim : str
        The seed dimension.
    level : float
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    xarray.Dataset
        ``mean``, ``sd`` (standard deviation over seeds), ``se`` (= sd/√n), ``n``
        (seeds with a value), ``low``, ``high`` (interval bounds), in the units of
        ``data`` (``n`` in seeds).
    """
    _check_level(level)
    _need_dim(data, dim, repr(data.name) if data.name is not None else "data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices and n = 1
        n = data.notnull().sum(dim)
        mean = data.mean(dim, skipna=True)
        dev = (data - mean) ** 2
        var = dev.sum(dim, skipna=True) / (n - 1).where(n > 1)
        sd = np.sqrt(var)
        se = sd / np.sqrt(n.where(n > 0))
        half = _t_quantile(n - 1, level) * se
    out = xr.Dataset({"mean": mean, "sd": sd, "se": se, "n": n, "low": mean - half, "high": mean + half})
    units = data.attrs.get("units", "")
    for name in ("mean", "sd", "se", "low", "high"):
        out[name].attrs["units"] = units
    out["n"].attrs["units"] = "seeds"
    out.attrs.update(level=level, dim=dim, variable=str(data.name))
    return out


def _align(a: xr.DataArray, b: xr.DataArray, dim: str) -> tuple[xr.DataArray, xr.DataArray]:
    """Outer-join ``a`` and ``b`` on every label but the seed dimension.

    The dimensions must match, or one side's must be a subset of the other's (that
    side is broadcast: e.g. every point of a price sweep against one baseline).
    """
    da, db = set(a.dims) - {dim}, set(b.dims) - {dim}
    if not (da <= db or db <= da):  # one side may lack dims (a sweep against one scenario): broadcast
        raise AnalysisError(f"dimensions do not match: A has ({', '.join(map(str, a.dims))}), "
                            f"B has ({', '.join(map(str, b.dims))})")
    a2, b2 = xr.align(a, b, join="outer", exclude={dim})
    # non-index coordinates (a scenario label, design parameters) that differ would conflict: drop them
    clash = [c for c in set(a2.coords) & set(b2.coords)
             if c not in a2.indexes and not a2[c].variable.equals(b2[c].variable)]
    only = [c for c in set(a2.coords) ^ set(b2.coords) if c not in a2.indexes and c not in b2.indexes]
    a2 = a2.drop_vars([c for c in clash + only if c in a2.coords])
    b2 = b2.drop_vars([c for c in clash + only if c in b2.coords])
    return a2, b2


def difference(a: xr.DataArray, b: xr.DataArray, dim: str = "seed", paired: bool | str = "auto",
               level: float = 0.95) -> xr.Dataset:
    """The difference A - B of the seed means, with its interval.

    Parameters
    ----------
    a, b : xarray.DataArray
        The same variable from two scenarios, sweeps or designs; both need the seed
        dimension ``dim`` and otherwise the same dimensions, or one side a subset of
        the other's (broadcast). Labels may differ: they are outer-joined, so a firm
        on one side only gives NaN, not a dropped row.
    dim : str
        The seed dimension.
    paired : "auto", True or False
        "auto" pairs by seed on the seeds both sides share (common random numbers)
        and falls back to Welch's unpaired interval if they share fewer than two;
        True requires at least two shared seeds; False is always unpaired.
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    xarray.Dataset
        ``diff``, ``se``, ``low``, ``high``, ``n`` (pairs with both values, or the smaller
        side when unpaired), ``mean_a``, ``mean_b`` over ``n_a``, ``n_b`` seeds (the pairs
        when paired, so that ``diff`` = ``mean_a - mean_b``; each side's own seeds where
        there is no pair, e.g. a firm on one side only), the unpaired ``se_unpaired``,
        ``low_unpaired``, ``high_unpaired``, and ``crn_gain`` = se_unpaired / se (how
        many times tighter pairing made the interval); ``significant`` is 1 where the
        interval excludes zero. Attribute ``paired`` says which interval ``low`` and
        ``high`` are.
    """
    _check_level(level)
    _need_dim(a, dim, "A")
    _need_dim(b, dim, "B")
    a, b = _align(a, b, dim)
    common = np.intersect1d(a[dim].values, b[dim].values)
    if paired is True and len(common) < 2:
        raise AnalysisError(f"paired=True needs at least two seeds present in both (shared: {list(common)})")
    use_pairs = paired is not False and len(common) >= 2
    if use_pairs:  # the seeds with a value on both sides: A, B and A - B over the same seeds
        a, b = a.sel({dim: common}), b.sel({dim: common})
        both = a.notnull() & b.notnull()
        alone_a, alone_b = mean_ci(a, dim, level), mean_ci(b, dim, level)
        a, b = a.where(both), b.where(both)
    sa, sb = mean_ci(a, dim, level), mean_ci(b, dim, level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        va, vb = sa.se**2, sb.se**2
        se_u = np.sqrt(va + vb)
        welch_df = (va + vb) ** 2 / (va**2 / (sa.n - 1).where(sa.n > 1) + vb**2 / (sb.n - 1).where(sb.n > 1))
        welch_df = welch_df.where(se_u > 0, np.minimum(sa.n, sb.n) - 1)
        half_u = _t_quantile(welch_df, level) * se_u
    diff_u = sa["mean"] - sb["mean"]
    if use_pairs:
        d = mean_ci(a - b, dim, level)
        diff, se, low, high, n = d["mean"], d["se"], d["low"], d["high"], d["n"]
    else:
        diff, se, low, high = diff_u, se_u, diff_u - half_u, diff_u + half_u
        n = np.minimum(sa.n, sb.n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gain = se_u / se.where(se > 0)
    mean_a, mean_b, n_a, n_b = sa["mean"], sb["mean"], sa.n, sb.n
    if use_pairs:  # without any pair (a firm on one side only), each side's own seeds
        mean_a, n_a = mean_a.where(n > 0, alone_a["mean"]), n_a.where(n > 0, alone_a.n)
        mean_b, n_b = mean_b.where(n > 0, alone_b["mean"]), n_b.where(n > 0, alone_b.n)
    out = xr.Dataset({
        "diff": diff, "se": se, "low": low, "high": high, "n": n,
        "mean_a": mean_a, "mean_b": mean_b, "n_a": n_a, "n_b": n_b,
        "se_unpaired": se_u, "low_unpaired": diff_u - half_u, "high_unpaired": diff_u + half_u,
        "crn_gain": gain,
        "significant": ((low > 0) | (high < 0)).astype(np.int8),
    })
    out.attrs.update(paired=int(use_pairs), level=level, dim=dim, variable=str(a.name),
                     seeds_paired=", ".join(map(str, common)) if use_pairs else "")
    return out


# --------------------------------------------------------------------------- outcomes
def _check_steps(ds: xr.Dataset, steps: Sequence[int] | None) -> list[int]:
    if "step" not in ds.dims:
        raise AnalysisError(f"the dataset has no 'step' dimension (dims: {', '.join(map(str, ds.dims))})")
    have = ds["step"].values
    if steps is None:
        return [int(have[-1])]
    steps = [int(s) for s in steps]
    bad = [s for s in steps if s not in set(have.tolist())]
    if bad:
        raise AnalysisError(f"steps {bad} are not in the dataset: allowed {int(have.min())}..{int(have.max())}")
    return steps


def outcomes(ds: xr.Dataset, steps: Sequence[int] | None = None,
             names: Sequence[str] | None = None) -> xr.Dataset:
    """Per-seed outcomes of every firm at chosen steps (see :data:`OUTCOMES`).

    Parameters
    ----------
    ds : xarray.Dataset
        A run, sweep or design Dataset (eager or lazy) with ``step`` and ``firm``.
    steps : list of int, optional
        Steps to report (default: the last).
    names : list of str, optional
        Outcomes to compute (default: all of :data:`OUTCOMES` the Dataset supports).

    Returns
    -------
    xarray.Dataset
        One variable per outcome with the Dataset's dimensions, ``step`` reduced to
        ``steps``; profit is cumulative and churn the mean monthly churn up to each step.
    """
    steps = _check_steps(ds, steps)
    if names is None:
        names = [n for n in OUTCOMES if _NEEDS.get(n, n) in ds.data_vars]
        if not names:
            raise AnalysisError(f"the dataset has none of the outcome variables ({', '.join(OUTCOMES)})")
    names = list(names)
    unknown = [n for n in names if n not in OUTCOMES]
    if unknown:
        raise AnalysisError(f"unknown outcome {unknown[0]!r}; allowed: {', '.join(OUTCOMES)}")
    require(ds, [_NEEDS.get(n, n) for n in names])
    out = {}
    for name in names:
        if name == "profit":
            da = ds["profit"].cumsum("step", skipna=False)
        elif name == "churn":
            c = ds["churn"]
            da = c.fillna(0).cumsum("step") / c.notnull().cumsum("step").where(lambda k: k > 0)
        elif name == "survival":
            da = ds["alive"].astype(float)
        else:
            da = ds[name]
        da = da.sel(step=steps)
        da.attrs = {"long_name": OUTCOMES[name][0], "units": OUTCOMES[name][1]}
        out[name] = da
    return xr.Dataset(out)


def quadrant_labels(ds: xr.Dataset, steps: Sequence[int] | None = None, dim: str = "seed") -> xr.DataArray:
    """Each firm's quadrant (1-4) at the steps, as text: "-" if never present, "mixed" if it differs by seed."""
    steps = _check_steps(ds, steps)
    require(ds, ["quadrant"])
    q = ds["quadrant"].sel(step=steps)
    if dim in q.dims:
        lo, hi = q.min(dim), q.max(dim)
    else:
        lo = hi = q
    lo, hi = xr.DataArray(np.asarray(lo), dims=lo.dims, coords=lo.coords), np.asarray(hi)
    text = np.where(np.isnan(lo.values.astype(float)), "-",
                    np.where(lo.values == hi, np.nan_to_num(lo.values.astype(float)).astype(int).astype(str),
                             "mixed"))
    return lo.copy(data=text).rename("quadrant")


def _extra_dims(obj: xr.Dataset | xr.DataArray, dim: str) -> list[str]:
    return [str(d) for d in obj.dims if d not in (dim, "step", "firm", "segment", "stat")]


def summary(ds: xr.Dataset, steps: Sequence[int] | None = None, dim: str = "seed", level: float = 0.95,
            names: Sequence[str] | None = None) -> xr.Dataset:
    """Outcomes averaged over seeds: one variable per outcome with a ``stat`` dimension
    (mean, se, n, low, high), computed chunk by chunk on lazy Datasets."""
    ds = with_seed_dim(ds, dim)
    oc = outcomes(ds, steps, names)
    stats = {}
    for name, da in oc.data_vars.items():
        s = mean_ci(da, dim, level)[["mean", "se", "n", "low", "high"]]
        stats[name] = s.to_array("stat").astype(float)
        stats[name].attrs = da.attrs
    out = xr.Dataset(stats)
    out.attrs.update(level=level, dim=dim)
    return out.compute()


def outcome_table(ds: xr.Dataset, steps: Sequence[int] | None = None, dim: str = "seed", level: float = 0.95,
                  names: Sequence[str] | None = None) -> pd.DataFrame:
    """The outcome table: rows (extra dims..., step, quadrant, firm), columns (outcome, stat).

    Stats are ``mean``, ``se``, ``n``, ``low``, ``high`` over seeds (t interval at
    ``level``; ``n`` the seeds with a value); see :data:`OUTCOMES` for what each outcome
    is and its units. ``attrs["jobs"]`` says how many jobs finished, failed or were absent.
    """
    ds = with_seed_dim(ds, dim)
    summ = summary(ds, steps, dim, level, names)
    quad = quadrant_labels(ds, list(summ.step.values), dim)
    frames = []
    for name, da in summ.data_vars.items():
        order = [*_extra_dims(da, dim), "step", "firm", "stat"]
        df = da.transpose(*order).to_series().unstack("stat")
        df.columns = pd.MultiIndex.from_product([[name], df.columns])
        frames.append(df)
    table = pd.concat(frames, axis=1)
    qs = quad.transpose(*[d for d in table.index.names if d in quad.dims]).to_series()
    quads = qs.reindex(table.index).fillna("-").to_numpy()
    frame = table.index.to_frame(index=False)
    frame.insert(len(frame.columns) - 1, "quadrant", quads)
    table.index = pd.MultiIndex.from_frame(frame)
    table = table.sort_index(level=list(frame.columns[:-1]), sort_remaining=False)
    table.attrs["jobs"] = jobs_note(ds)
    return table


#: The columns of each outcome in :func:`compare_table`.
COMPARE_COLUMNS = ("A", "B", "n_A", "n_B", "diff", "low", "high", "n", "crn_gain", "significant")


def compare_table(a: xr.Dataset, b: xr.Dataset, steps: Sequence[int] | None = None, dim: str = "seed",
                  level: float = 0.95, paired: bool | str = "auto",
                  names: Sequence[str] | None = None) -> pd.DataFrame:
    """Outcomes of A and B side by side with A - B and its interval.

    Rows (extra dims..., step, quadrant, firm), the quadrant A's (B's for a firm only
    in B); columns (outcome, one of :data:`COMPARE_COLUMNS`): the means ``A`` and ``B``
    over ``n_A`` and ``n_B`` seeds with a value, ``diff`` = A - B with its interval
    ``low``, ``high`` over ``n`` seeds (pairs when paired), ``crn_gain`` and
    ``significant`` (True where the interval of the difference excludes zero). Firms
    on one side only keep their row (outer join) with NaN differences.
    ``attrs``: ``paired``, ``level``, ``seeds_paired`` and ``jobs`` (both sides'
    :func:`jobs_note`).
    """
    a, b = with_seed_dim(a, dim), with_seed_dim(b, dim)
    steps_a = _check_steps(a, steps)
    _check_steps(b, steps_a)
    oa, ob = outcomes(a, steps_a, names), outcomes(b, steps_a, names)
    frames = []
    for name in oa.data_vars:
        d = difference(oa[name], ob[name], dim, paired, level).compute()
        sub = xr.Dataset({"A": d.mean_a, "B": d.mean_b, "n_A": d.n_a, "n_B": d.n_b, "diff": d["diff"],
                          "low": d.low, "high": d.high, "n": d.n, "crn_gain": d.crn_gain,
                          "significant": d.significant.astype(bool)})
        order = [*_extra_dims(sub, dim), "step", "firm"]
        df = sub.to_dataframe(dim_order=order)[list(COMPARE_COLUMNS)]  # rows in the order outcome_table has
        df.columns = pd.MultiIndex.from_product([[name], df.columns])
        frames.append(df)
    table = pd.concat(frames, axis=1)
    qa = quadrant_labels(a, steps_a, dim).reset_coords(drop=True).astype(object)
    qb = quadrant_labels(b, steps_a, dim).reset_coords(drop=True).astype(object)
    qa, qb = xr.broadcast(*xr.align(qa, qb, join="outer", fill_value="-"))
    label = xr.where(qa != "-", qa, qb).transpose(*table.index.names).to_series().reindex(table.index)
    frame = table.index.to_frame(index=False)
    frame.insert(len(frame.columns) - 1, "quadrant", label.fillna("-").to_numpy())
    table.index = pd.MultiIndex.from_frame(frame)
    table.attrs.update(paired=bool(d.attrs["paired"]), level=level, seeds_paired=d.attrs["seeds_paired"],
                       jobs=f"A: {jobs_note(a)}; B: {jobs_note(b)}")
    return table


# ------------------------------------------------------------------ lifetime value
def lifetime_value(ds: xr.Dataset, discount: float = 0.008, window: tuple[int, int] | None = None) -> xr.DataArray:
    """Customer lifetime value per firm and seed from margin and retention.

    ``CLV = m · r / (1 + i − r)`` (Gupta & Lehmann 2005, constant margin and
    retention, infinite horizon, margin at the end of each step), where ``m`` is the
    customer-weighted mean of ``price − unit_cost`` over the window
    (money/customer/step), ``r = 1 − churn`` with churn the customer-weighted mean
    monthly churn over the window, and ``i`` the discount rate per step.

    Parameters
    ----------
    ds : xarray.Dataset
        Needs ``price``, ``unit_cost``, ``churn``, ``customers``.
    discount : float
        Discount rate per step (0.008/month is about 10%/year), in [0, 1].
    window : (first, last), optional
        Steps to average margin and churn over (inclusive); default all.

    Returns
    -------
    xarray.DataArray
        CLV in money per customer, with the Dataset's dimensions but ``step``; NaN
        for a firm without customers in the window. Use :func:`mean_ci` for its
        interval over seeds.
    """
    if not 0 <= discount <= 1:
        raise AnalysisError(f"discount = {discount} must be a number in [0, 1] (per step)")
    require(ds, ["price", "unit_cost", "churn", "customers"])
    if window is not None:
        lo, hi = _check_steps(ds, [window[0], window[1]])
        if lo > hi:
            raise AnalysisError(f"window = {window}: the first step must not be after the last")
        ds = ds.sel(step=slice(lo, hi))
    w = ds["customers"].astype(float)
    margin = ((ds["price"] - ds["unit_cost"]) * w).sum("step") / w.sum("step").where(lambda x: x > 0)
    c = ds["churn"]
    wc = w.shift(step=1).fillna(w.isel(step=0))  # churn is a share of the customers at the step's start
    wc = wc.where(c.notnull(), 0)
    churn = (c.fillna(0) * wc).sum("step") / wc.sum("step").where(lambda x: x > 0)
    r = 1 - churn
    clv = margin * r / (1 + discount - r)
    clv.name = "clv"
    clv.attrs = {"long_name": "customer lifetime value m r / (1 + i - r)", "units": "money/customer",
                 "discount": discount}
    return clv


def unstack_design(ds: xr.Dataset, dim: str = "run") -> xr.Dataset:
    """A full-grid design (:func:`sim.runner.design.run_design`) with one dimension per parameter instead of ``run``.

    Raises :class:`AnalysisError` if the points do not form a full grid (e.g. a Sobol sample).
    """
    if dim not in ds.dims:
        raise AnalysisError(f"the dataset has no {dim!r} dimension (dims: {', '.join(map(str, ds.dims))})")
    params = [str(c) for c in ds.coords if ds[c].dims == (dim,) and c != dim]
    if not params:
        raise AnalysisError(f"no parameter coordinates along {dim!r}")
    sizes = [len(np.unique(ds[p].values)) for p in params]
    if int(np.prod(sizes)) != ds.sizes[dim]:
        raise AnalysisError(f"the {ds.sizes[dim]} points are not a full grid of {', '.join(params)} "
                            f"({' x '.join(map(str, sizes))} values)")
    out = ds.drop_vars(dim) if dim in ds.coords else ds
    if len(params) == 1:
        return out.swap_dims({dim: params[0]}).sortby(params[0])
    return out.set_index({dim: params}).unstack(dim)
