"""Results: preallocated per-step records, the xarray Dataset, atomic netCDF files.

Every variable carries ``long_name`` and ``units``; the resolved config is kept as
one YAML string attribute (netCDF attributes cannot nest); no attribute holds a
time, so equal runs give identical Datasets. Means over a firm's customers are NaN
while the firm has no customers (missing, not zero); per-contact shares are NaN in
a step without contacts; market variables are always defined.

Means over a firm's customers are derived from the tally table of :mod:`sim.engine.layout`
(its entries with a ``mean``). How a run folder is written is :mod:`sim.results.runfolder`.
"""

from __future__ import annotations

import functools
import operator
import os
import re
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import xarray as xr

from ..engine.kernels import record_rows
from ..engine.layout import FIRM_TALLIES, S, T
from .runfolder import RESULT

#: (step, firm) variables: name -> (long_name, units)
FIRM_VARS: dict[str, tuple[str, str]] = {
    "customers": ("customers of the firm at the end of the step", "customers"),
    "share": ("market share among customers with a provider", "1"),
    "price": ("price", "money/customer/step"),
    "unit_cost": ("variable cost per own customer", "money/customer/step"),
    "digital": ("digital service level d", "1"),
    "human": ("human service level h", "1"),
    "quadrant": ("quadrant: 1 neither, 2 human only, 3 digital only, 4 both", "1"),
    "revenue": ("revenue", "money/market customer/step"),
    "cost": ("total cost (variable, fixed, interventions, investment)", "money/market customer/step"),
    "profit": ("profit", "money/market customer/step"),
    "cash": ("cash at the end of the step", "money/market customer"),
    "alive": ("firm takes part in the market", "1"),
    "relationship": ("relationship index: mean of trust, engagement, freedom, influence, fairness", "1"),
    "contacts": ("service contacts of the step (at the serving firm)", "contacts"),
    "effort": ("mean effort of the step's service contacts (1 - quality)", "1"),
    "nps": ("net promoter score: % promoters (9-10) - % detractors (0-6)", "percent"),
    "churn": ("share of the firm's customers at the start of the step who left", "1/step"),
    "steering_noticed": ("share of the step's contacts with noticed steering", "1"),
    "human_contacts": ("share of the step's contacts served by a human", "1"),
    "margin": ("price-cost margin (price - unit cost) / price: the Lerner index", "1"),
    "price_elasticity": ("own-price elasticity of the demand the firm sees: price x its estimated demand slope / "
                         "its estimated demand (the choosers' logit demand, a moving estimate)", "1"),
    "reserves": ("cash in steps of the firm's current costs", "steps"),
}
#: (step, segment) variables
SEGMENT_VARS: dict[str, tuple[str, str]] = {
    "segment_customers": ("customers in the segment", "customers"),
    "segment_engagement": ("mean engagement in the segment", "1"),
    "segment_trust": ("mean trust in the segment", "1"),
    "segment_satisfaction": ("mean satisfaction in the segment", "1"),
    "segment_disengaged": ("share of the segment with engagement below the threshold", "1"),
    "adoption": ("share of the segment using digital channels", "1"),
}
#: (step,) variables
MARKET_VARS: dict[str, tuple[str, str]] = {
    "digital_expectation": ("digital expectation E", "1"),
    "hhi": ("Herfindahl-Hirschman index of shares", "1"),
    "mean_price": ("share-weighted mean price", "money/customer/step"),
    "price_sensitivity": ("mean price sensitivity alpha", "1/money"),
    "adoption_total": ("share of all customers using digital channels", "1"),
    "human_expectation": ("human expectation H", "1"),
    "digital_frontier": ("the external digital frontier E follows besides the market", "1"),
    "digital_used": ("the digital level adopters use: the firms' d weighted by their adopters", "1"),
    "shock": ("shock window active", "1"),
    "unassigned": ("customers outside the market (no provider: the outside option, or no firm alive)",
                   "customers"),
}
#: (step, firm) means over the firm's customers: output name -> (tally column, long_name, units).
FIRM_MEANS: dict[str, tuple[int, str, str]] = {row.mean[0]: (T[row.name.upper()], *row.mean[1:])
                                               for row in FIRM_TALLIES if row.mean}
FIRM_VARS.update({name: (long_name, units) for name, (_, long_name, units) in FIRM_MEANS.items()})
#: Firm attributes recorded as they are at the end of a step.
FIRM_ATTRS = ("price", "digital", "human", "revenue", "cost", "profit", "cash", "alive", "margin", "price_elasticity",
              "reserves")
INT_VARS = {"customers", "contacts", "quadrant", "alive", "segment_customers", "shock", "unassigned"}


#: (step, firm) shares of the firm's contacts: output name -> tally column.
PER_CONTACT = {"effort": T.EFFORT, "steering_noticed": T.NOTICED, "human_contacts": T.HUMAN}
#: (step, segment) means over the segment's customers: output name -> segment tally column.
SEGMENT_MEANS = {"segment_engagement": S.ENGAGEMENT, "segment_trust": S.TRUST,
                 "segment_satisfaction": S.SATISFACTION, "segment_disengaged": S.DISENGAGED,
                 "adoption": S.ADOPTED}


#: The five building blocks of a sustainable relationship (Pol), averaged into ``relationship``.
BUILDING_BLOCKS = ("trust", "engagement", "freedom", "influence", "fairness")


#: The firm variables the model hands to :meth:`Recorder.record` as rows of one matrix, in this order:
#: :data:`FIRM_ATTRS`, then the variable cost per own customer and the quadrant.
FIRM_ROWS = (*FIRM_ATTRS, "unit_cost", "quadrant")
_FIRM_INDEX = {name: k for k, name in enumerate(FIRM_VARS)}
_SEGMENT_INDEX = {name: k for k, name in enumerate(SEGMENT_VARS)}
_MARKET_INDEX = {name: k for k, name in enumerate(MARKET_VARS)}
# index arrays (a list index is converted to an array at every use)
_ROWS_GIVEN = np.array([_FIRM_INDEX[name] for name in FIRM_ROWS], np.int64)
# The firm ratios (sim.engine.kernels.record_rows): numerator and denominator columns of the tally, or of the
# three columns after it: promoters - detractors, customers who left, customers at the start.
_N_T = len(FIRM_TALLIES)
_X_NET, _X_LEFT, _X_START = _N_T, _N_T + 1, _N_T + 2
#: (recorded row, numerator column, denominator column) of every firm ratio: the per-customer means,
#: the per-contact shares, NPS (x 100) and churn; NaN where the denominator is 0.
_RATIOS = np.array([(_FIRM_INDEX[name], col, T.CUSTOMERS) for name, (col, _, _) in FIRM_MEANS.items()]
                   + [(_FIRM_INDEX[name], col, T.CONTACTS) for name, col in PER_CONTACT.items()]
                   + [(_FIRM_INDEX["nps"], _X_NET, T.CUSTOMERS), (_FIRM_INDEX["churn"], _X_LEFT, _X_START)],
                   np.int64)
_ROWS_BLOCKS = np.array([_FIRM_INDEX[name] for name in BUILDING_BLOCKS], np.int64)
#: (recorded row, segment tally column) of the segment means.
_SEGMENT_RATIOS = np.array([(_SEGMENT_INDEX[name], col) for name, col in SEGMENT_MEANS.items()], np.int64)
#: The rows of customers, share, contacts, NPS, relationship, and segment customers.
_ROWS_NAMED = np.array([*(_FIRM_INDEX[name] for name in ("customers", "share", "contacts", "nps", "relationship")),
                        _SEGMENT_INDEX["segment_customers"]], np.int64)
#: Firm variables the DataCollector reports from the Recorder's row of the current step (NaN at step 0).
AGENT_RECORDED = ("unit_cost", "quadrant", "trust", "engagement", "satisfaction", "relationship", "nps", "churn")
_ROWS_AGENT_RECORDED = np.array([_FIRM_INDEX[name] for name in AGENT_RECORDED])


class Recorder:
    """Preallocated arrays, one row per step, filled by :meth:`record`.

    The variables of each kind are stored together, one block per kind: (step, firm
    variable, firm), (step, segment variable, segment) and (step, market variable), so
    recording a step is one compiled call (:func:`sim.engine.kernels.record_rows`) and a few
    array operations, whatever the number of variables. ``data[name]`` is a view of
    variable ``name`` in its block: (step, firm), (step, segment) or (step,).
    """

    def __init__(self, steps: int, firms: list[str], segments: list[str]):
        self.firms, self.segments = firms, segments
        self.steps = 0
        self.filled = 0
        self.latest: dict[str, list[float]] = {}
        self.latest_step = -1  # none yet
        self._allocate(steps)

    def _allocate(self, steps: int) -> None:
        nf, ns = len(self.firms), len(self.segments)
        blocks = (np.full((steps, len(FIRM_VARS), nf), np.nan), np.full((steps, len(SEGMENT_VARS), ns), np.nan),
                  np.full((steps, len(MARKET_VARS)), np.nan))
        for new, old in zip(blocks, getattr(self, "_blocks", ()), strict=False):  # none at first
            new[: self.steps] = old
        self._blocks = blocks
        firm, segment, market = blocks
        self.data = {name: firm[:, k] for k, name in enumerate(FIRM_VARS)}
        self.data.update({name: segment[:, k] for k, name in enumerate(SEGMENT_VARS)})
        self.data.update({name: market[:, k] for k, name in enumerate(MARKET_VARS)})
        self.steps = steps

    def extend(self, steps: int) -> None:
        """Make room for ``steps`` rows (a model stepped past its horizon); recorded rows are kept."""
        if steps > self.steps:
            self._allocate(steps)

    def record(self, t: int, tally: np.ndarray, seg_tally: np.ndarray, firm_rows: np.ndarray,
               market: Mapping[str, float], left: np.ndarray, at_start: np.ndarray) -> None:
        """Record step ``t`` (1-based).

        Parameters
        ----------
        tally, seg_tally : float64[F, len(layout.T)], float64[S, len(layout.S)]
            The step's summed tallies.
        firm_rows : float64[len(FIRM_ROWS), F]
            The firm variables that are not tallies, one row each in :data:`FIRM_ROWS` order.
        market : name -> float
            The market variables of :data:`MARKET_VARS` but ``hhi`` (derived here).
        left, at_start : float64[F]
            Customers who left each firm in the step (switches and exits) and its customers at
            the start of the step (churn = left / at_start).
        """
        i = t - 1
        firm, segment, market_row = self._blocks[0][i], self._blocks[1][i], self._blocks[2][i]
        assigned = tally[:, T.CUSTOMERS].sum()
        record_rows(firm, segment, tally, seg_tally, np.ascontiguousarray(firm_rows), left, at_start, assigned,
                    _ROWS_GIVEN, _RATIOS,
                    _ROWS_BLOCKS, _SEGMENT_RATIOS, _ROWS_NAMED)
        for name, value in market.items():
            market_row[_MARKET_INDEX[name]] = value
        share = firm[_ROWS_NAMED[1]]
        market_row[_MARKET_INDEX["hhi"]] = np.add.reduce(share * share)
        self.filled = t
        # the values the DataCollector's firm reporters read after this step, as Python floats
        self.latest = dict(zip(AGENT_RECORDED, firm[_ROWS_AGENT_RECORDED].tolist(), strict=True))
        self.latest_step = t

    def to_dataset(self, attrs: dict[str, str | int | float]) -> xr.Dataset:
        n = self.filled
        coords = {"step": np.arange(1, n + 1), "firm": self.firms, "segment": self.segments}
        variables = {}
        for table, dims in ((FIRM_VARS, ("step", "firm")), (SEGMENT_VARS, ("step", "segment")),
                            (MARKET_VARS, ("step",))):
            for name, (long_name, units) in table.items():
                values = self.data[name][:n]
                if name in INT_VARS:
                    values = values.astype(np.int64)
                variables[name] = (dims, values, var_attrs(name, long_name, units))
        ds = xr.Dataset(variables, coords=coords, attrs={**attrs, **DATASET_ATTRS})
        label_coordinates(ds)
        return ds


#: The time coordinate beside ``step``: the end of each step on a nominal 360-day calendar (12 months of
#: 30 days) counted from the run's start at 0001-01-01, so that step k ends k months after the start
#: and CF tools find a time axis (``axis: T``). Stored as whole days (CF-1.8; UDUNITS has no calendar
#: month to count in).
TIME_UNITS, TIME_CALENDAR = "days since 0001-01-01 00:00:00", "360_day"


def time_coordinate(steps: Sequence[int] | np.ndarray) -> xr.Variable:
    """The ``time`` coordinate along ``step`` (see :data:`TIME_UNITS`): cftime dates, 30 days a step."""
    import cftime

    days = 30 * np.asarray(steps, dtype=np.int64)
    dates = np.asarray(cftime.num2date(days, TIME_UNITS, TIME_CALENDAR), dtype=object).reshape(days.shape)
    var = xr.Variable(("step",), dates, {"standard_name": "time", "axis": "T",
                                         "long_name": "end of the step on a nominal 360-day calendar from the "
                                                      "run's start (0001-01-01): step k ends k months later"})
    var.encoding = {"units": TIME_UNITS, "calendar": TIME_CALENDAR, "dtype": "int32"}
    return var


def label_coordinates(ds: xr.Dataset) -> xr.Dataset:
    """The coordinates' CF attributes (in place): ``step``, ``time`` (:func:`time_coordinate`),
    ``firm`` (the time series' identifier, see the ``featureType`` attribute) and ``segment``."""
    ds["step"].attrs.update(long_name="step (end of; one step is one month)", units="1")
    ds.coords["time"] = time_coordinate(ds["step"].values)
    ds["firm"].attrs.update(long_name="firm", cf_role="timeseries_id")
    ds["segment"].attrs.update(long_name="customer segment")
    return ds


#: The model's units as UDUNITS/CF unit strings. A step is one month; money is the model's own
#: currency unit (dimensionless, declared once in the ``money_unit`` attribute); counts are "1".
CF_UNITS = {"1": "1", "customers": "1", "contacts": "1", "percent": "percent", "1/step": "month-1",
            "steps": "month", "money/customer/step": "month-1", "money/market customer/step": "month-1",
            "money/market customer": "1", "1/money": "1"}
#: Flag variables: CF ``flag_values`` and ``flag_meanings`` (no units).
FLAGS = {"quadrant": ([1, 2, 3, 4], "neither human_only digital_only both"),
         "alive": ([0, 1], "out alive"),
         "shock": ([0, 1], "off on")}
#: Global attributes of every Dataset (no time: equal runs give identical Datasets). The Dataset is a
#: CF discrete sampling geometry of time series, one per firm (``firm:cf_role = timeseries_id``).
DATASET_ATTRS = {
    "featureType": "timeSeries",
    "money_unit": "money: the model's currency unit, per customer in the market (total money / number of "
                  "customers); variables whose model_units name money are in it",
    "time_step": "one step is one month",
}


def var_attrs(name: str, long_name: str, units: str) -> dict[str, object]:
    """CF attributes of an output variable: ``long_name``, CF ``units`` (and the model's own
    reading of them in ``model_units`` where it says more), or ``flag_values``/``flag_meanings``."""
    out: dict[str, object] = {"long_name": long_name}
    if name in FLAGS:
        values, meanings = FLAGS[name]
        out.update(flag_values=np.array(values, dtype=np.int32), flag_meanings=meanings)  # the type the file stores
        return out
    cf = CF_UNITS.get(units)
    if cf is None:
        raise KeyError(f"output variable {name}: no CF units for {units!r}: add them to sim.results.output.CF_UNITS")
    out["units"] = cf
    if units != cf:
        out["model_units"] = units
    return out


#: Firm variables the DataCollector reports per firm, read from the firm agents' attributes
#: (the same values the Recorder records from them).
AGENT_ATTRS = ("customers", "share", "price", "digital", "human", "revenue", "cost", "profit", "cash", "alive")
#: Reporter names that differ from the Dataset's (``customers`` is also a keyword of the model:
#: in ``mesa.batch_run``'s rows the firm's count would hide the parameter).
AGENT_NAMES = {"customers": "n_customers"}
#: Market variables reported by the DataCollector: name -> model attribute (equal to the recorded value).
MODEL_REPORTERS = {"digital_expectation": "expectation", "hhi": "hhi", "mean_price": "mean_price",
                   "price_sensitivity": "mean_alpha", "adoption_total": "adoption",
                   "human_expectation": "human_expectation", "digital_frontier": "frontier",
                   "digital_used": "digital_used", "shock": "shock_active", "unassigned": "unassigned"}


class _Recorded:
    """An agent reporter: a firm's value of ``name`` in the Recorder's row of the current step."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, firm) -> float:
        model = firm.model
        t = model.steps
        recorder = model.recorder
        if t == recorder.latest_step:
            return recorder.latest[self.name][firm.index]
        if t == 0 or t > recorder.filled:
            return float("nan")
        return float(recorder.data[self.name][t - 1, firm.index])


#: The installed Mesa's version, (major, minor, patch): the one place that tells Mesa 3.3 (the newest
#: on Python 3.11) from the Mesa 3.4+ of Python 3.12+ (tests/test_model_mesa.py reads it for batch_run).
MESA_VERSION = tuple(int(n) for n in re.findall(r"\d+", metadata.version("mesa"))[:3])
#: Mesa 3.4.1+ keys a DataCollector's records by ``model.time`` (a float: 0.0, 1.0, ...) and lists the
#: collected times in ``_collection_steps``, from which Mesa 3.5's ``batch_run`` picks its rows;
#: Mesa 3.3 keys them by ``model.steps``.
MESA_TIMED_RECORDS = MESA_VERSION >= (3, 4, 1)


class FirmDataCollector(mesa.DataCollector):
    """Mesa's DataCollector with a direct :meth:`collect` for the reporters :func:`make_datacollector` sets.

    It stores exactly what :meth:`mesa.DataCollector.collect` stores (``model_vars`` lists,
    ``_agent_records[key]`` as ``(key, unique_id, *values)`` tuples, the same values and
    types, and on Mesa 3.4.1+ the collected times in ``_collection_steps``; the key is
    ``model.time`` there and ``model.steps`` on Mesa 3.3: :data:`MESA_TIMED_RECORDS`),
    without a Python call per reporter and agent: the firms' attributes are read by
    one ``attrgetter`` each and the recorded variables from the Recorder's latest row. A
    collector whose reporters were changed after construction, or a model holding other
    agents than its firms, is collected by Mesa's own method.
    """

    def __init__(self, model_reporters: dict[str, str], agent_attrs: dict[str, str],
                 recorded: Sequence[str]):
        agent_reporters: dict[str, Any] = dict(agent_attrs)
        agent_reporters.update({name: _Recorded(name) for name in recorded})
        super().__init__(model_reporters=dict(model_reporters), agent_reporters=agent_reporters)
        self._model_attrs = tuple(model_reporters.items())
        self._agent_attrs = operator.attrgetter(*agent_attrs.values())
        self._recorded = tuple(recorded)
        self._plan = (len(model_reporters), len(agent_reporters))

    def collect(self, model) -> None:
        if (len(self.model_reporters), len(self.agent_reporters)) != self._plan or self.agenttype_reporters \
                or len(model.agents) != len(model.firm_list):
            super().collect(model)
            return
        model_vars = self.model_vars
        for var, attr in self._model_attrs:  # floats, ints and bools: Mesa's deepcopy returns them as they are
            model_vars[var].append(getattr(model, attr))
        t = model.steps
        key = model.time if MESA_TIMED_RECORDS else t
        if MESA_TIMED_RECORDS:
            self._collection_steps.append(key)
        recorder = model.recorder
        if t == recorder.latest_step:
            latest = recorder.latest
            columns = [latest[name] for name in self._recorded]
            rows = [tuple(col[f.index] for col in columns) for f in model.agents]
        else:
            rows = [tuple(_Recorded(name)(f) for name in self._recorded) for f in model.agents]
        attrs = self._agent_attrs
        self._agent_records[key] = [(key, f.unique_id, *attrs(f), *row)
                                    for f, row in zip(model.agents, rows, strict=True)]


def make_datacollector(model) -> mesa.DataCollector:
    """A Mesa DataCollector for ``model`` that never walks the customers.

    Model reporters are the market variables of :data:`MARKET_VARS` (model attributes,
    defined at step 0 too); agent reporters are the firms' variables: their attributes
    (:data:`AGENT_ATTRS`) and, from the Recorder's current row, :data:`AGENT_RECORDED`
    (NaN at step 0, before any step is recorded). The model collects at construction and
    after every step, as Mesa's examples do, so ``model_vars[k]`` is the state after step
    ``k``: what ``mesa.batch_run`` and SolaraViz's plots read. Per step it costs a few
    microseconds for a handful of firms (:class:`FirmDataCollector`), whatever the number
    of customers. The full record is :func:`sim.dataset` (an xarray Dataset).
    """
    agent_attrs = {"firm": "name", **{AGENT_NAMES.get(name, name): name for name in AGENT_ATTRS}}
    return FirmDataCollector(MODEL_REPORTERS, agent_attrs, AGENT_RECORDED)


def versions() -> dict[str, str]:
    """Versions of this package and the libraries that shape its numbers."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    # read once per process (about 20 ms; the classroom page asks for it at every step)
    out = {}
    for pkg in ("customer-sim", "mesa", "numpy", "numba", "xarray", "hydra-core"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def load(path: str | os.PathLike) -> xr.Dataset:
    """Open a run's ``run.nc`` (or the folder holding it) into memory.

    A folder without ``run.nc`` raises :class:`FileNotFoundError` saying so, and quoting
    its ``INCOMPLETE`` marker when it has one (an unfinished, interrupted or failed run).
    """
    from .runfolder import INCOMPLETE

    path = Path(path)
    if path.is_dir() or (not path.exists() and path.suffix != ".nc"):
        folder, path = path, path / RESULT
    else:
        folder = path.parent
    if not path.exists():
        marker = folder / INCOMPLETE
        if marker.exists():
            lines = [ln.strip() for ln in marker.read_text(errors="replace").splitlines() if ln.strip()]
            said = " ".join(ln for ln in lines[:2] if not ln.startswith("Traceback"))
            raise FileNotFoundError(f"{folder.absolute()}: an unfinished run (no {RESULT}); its {INCOMPLETE} "
                                    f"says: {said}")
        where = "no such folder" if not folder.exists() else f"no {RESULT} here (not a run folder?)"
        raise FileNotFoundError(f"{path.absolute()}: {where}")
    from .runfolder import netcdf_engine, widened

    with xr.open_dataset(path, engine=netcdf_engine(path)) as ds:
        return widened(ds.load())
