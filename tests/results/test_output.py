"""Recorded outputs (sim.results.output): means derived from the tally table, NaN exactly where undefined,
per-contact shares against the recorded contacts, and the Dataset's labels."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.engine.layout import FIRM_TALLIES, SEGMENT_TALLIES, S, T
from sim.results.output import FIRM_MEANS, FIRM_ROWS, FIRM_VARS, FLAGS, MARKET_VARS, SEGMENT_VARS, Recorder, var_attrs


def _record_one(cust, contacts):
    rec = Recorder(1, ["a", "b"], ["s"])
    tal = np.zeros((2, len(FIRM_TALLIES)))
    tal[:, T.CUSTOMERS] = cust
    tal[:, T.TRUST] = np.asarray(cust) * 0.25
    tal[:, T.CONTACTS] = contacts
    tal[:, T.EFFORT] = np.asarray(contacts) * 0.5
    tal[:, T.PROMOTERS] = np.asarray(cust) * 0.5
    seg = np.zeros((1, len(SEGMENT_TALLIES)))
    seg[0, S.COUNT] = sum(cust)
    market = {name: 0.0 for name in MARKET_VARS if name != "hhi"}
    rec.record(1, tal, seg, np.zeros((len(FIRM_ROWS), 2)), market, np.zeros(2), np.asarray(cust, float))
    return rec.to_dataset({}).isel(step=0)


def test_means_come_from_the_tallies_and_are_nan_without_customers():
    ds = _record_one([40, 0], [10, 0])
    assert float(ds.trust.sel(firm="a")) == 0.25
    assert np.isnan(float(ds.trust.sel(firm="b")))
    assert float(ds.nps.sel(firm="a")) == 50.0
    assert float(ds.share.sel(firm="a")) == 1.0
    assert float(ds.hhi) == 1.0


def test_per_contact_shares_are_nan_exactly_without_contacts():
    ds = _record_one([40, 30], [10, 0])
    assert int(ds.contacts.sel(firm="b")) == 0
    assert float(ds.effort.sel(firm="a")) == 0.5
    assert np.isnan(float(ds.effort.sel(firm="b")))


def test_every_recorded_mean_is_a_declared_variable():
    assert set(FIRM_MEANS) <= set(FIRM_VARS)
    assert {"trust", "engagement", "tenure", "data_shared", "price_sensitivity_firm"} <= set(FIRM_MEANS)


def test_dataset_labels_and_contacts_in_a_run():
    ds = sim.run(["scenario=baseline", "customers.n=2000", "steps=6", "market.contact_rate=0.2"], seed=2)
    for table in (FIRM_VARS, SEGMENT_VARS, MARKET_VARS):
        for name, (long_name, units) in table.items():
            attrs = ds[name].attrs
            assert attrs["long_name"] == long_name
            if name in FLAGS:
                assert list(attrs["flag_values"]) == FLAGS[name][0] and attrs["flag_meanings"] == FLAGS[name][1]
            else:
                assert attrs == var_attrs(name, long_name, units)
                assert attrs.get("model_units", attrs["units"]) == units
    defined = ds.contacts > 0
    for var in ("effort", "steering_noticed", "human_contacts"):
        assert bool(np.isnan(ds[var]).where(~defined, False).any()) is False, var
        assert bool(np.isfinite(ds[var]).where(defined, True).all()), var
    assert ds.contacts.dtype == np.int64


def test_load_reads_a_folder_or_a_file(tmp_path):
    ds = sim.run(["scenario=baseline", "customers.n=300", "steps=2"])
    ds.to_netcdf(tmp_path / "run.nc", engine="h5netcdf")
    assert sim.load(tmp_path).identical(ds)
    assert sim.load(tmp_path / "run.nc").identical(ds)


def test_contact_rate_zero_means_no_contacts_and_nan_shares():
    ds = sim.run(["scenario=baseline", "customers.n=500", "steps=3", "market.contact_rate=0"])
    assert int(ds.contacts.sum()) == 0
    assert bool(np.isnan(ds.effort).all())
    with pytest.raises(KeyError):
        ds["no_such_variable"]


# ------------------------------------------------------------------ CF conventions
def test_written_file_follows_cf_conventions(tmp_path):
    """Units parse with UDUNITS-2 (cf-units), flags decode with cf-xarray, provenance and
    compression are in the file."""
    cf_units = pytest.importorskip("cf_units")
    cf_xarray = pytest.importorskip("cf_xarray")  # noqa: F841  (registers the .cf accessor)
    import xarray as xr

    from sim.results.runfolder import write_atomic

    ds = sim.run(["scenario=baseline", "customers.n=1000", "steps=2100"], seed=0)
    path = write_atomic(ds, tmp_path / "run.nc")
    back = xr.open_dataset(path, engine="h5netcdf")
    assert back.attrs["Conventions"].startswith("CF-")
    assert back.attrs["source"].startswith("customer-sim ") and "mesa" in back.attrs["source"]
    assert back.attrs["history"].startswith("simulated by customer-sim") and "money" in back.attrs["money_unit"]
    for name, var in {**back.data_vars, **back.coords}.items():
        if "flag_values" in var.attrs:
            assert "units" not in var.attrs, name
            assert len(var.attrs["flag_values"]) == len(var.attrs["flag_meanings"].split()), name
            assert set(np.unique(var.values)) <= set(var.attrs["flag_values"]), name
        elif var.dtype.kind != "U" and var.dtype != object:
            cf_units.Unit(var.attrs["units"])  # raises if UDUNITS cannot parse it
    assert back.price.attrs["units"] == "month-1" and back.price.attrs["model_units"] == "money/customer/step"
    assert cf_units.Unit(back.churn.attrs["units"]).convert(1.0, "year-1") == pytest.approx(12.0)
    both = back.quadrant.cf == "both"  # cf-xarray reads flag_meanings
    np.testing.assert_array_equal(both.values, back.quadrant.values == 4)
    assert back.share.encoding["zlib"] and back.share.encoding["shuffle"]  # 2100 x 4 floats: compressed
    assert not back.hhi.encoding.get("zlib")  # 2100 floats, 17 kB: not
    # integers are stored in 32 bits (CF-1.8's types); this package's reader widens them to int64 again
    assert back.customers.dtype == np.int32 and sim.load(path).identical(ds)
    xr.testing.assert_equal(back.load(), ds)


def _mesa_twin(collector):
    """A collector with ``collector``'s reporters and no records yet, collected by Mesa's own method."""
    import copy

    import mesa

    twin = mesa.DataCollector.__new__(type(collector))
    twin.__dict__ = copy.deepcopy(collector.__dict__)
    for values in twin.model_vars.values():
        values.clear()
    twin._agent_records.clear()
    if hasattr(twin, "_collection_steps"):
        twin._collection_steps.clear()
    return twin, lambda model: mesa.DataCollector.collect(twin, model)


def _same_records(a, b):
    assert a.model_vars.keys() == b.model_vars.keys()
    for name in a.model_vars:
        assert [type(x) for x in a.model_vars[name]] == [type(x) for x in b.model_vars[name]], name
        np.testing.assert_array_equal(np.array(a.model_vars[name], float), np.array(b.model_vars[name], float))
    # Mesa 3.4.1+ lists the collected times (what mesa.batch_run reads); Mesa 3.3 has no such list
    steps_a, steps_b = getattr(a, "_collection_steps", None), getattr(b, "_collection_steps", None)
    assert steps_a == steps_b and [type(x) for x in steps_a or ()] == [type(x) for x in steps_b or ()]
    assert list(a._agent_records) == list(b._agent_records)
    assert [type(x) for x in a._agent_records] == [type(x) for x in b._agent_records]
    for step, rows in a._agent_records.items():
        for ra, rb in zip(rows, b._agent_records[step], strict=True):
            assert [type(x) for x in ra] == [type(x) for x in rb], (step, ra, rb)
            assert all(x == y or (x != x and y != y) for x, y in zip(ra, rb, strict=True)), (step, ra, rb)


@pytest.mark.parametrize("scenario", ["disruptor", "adaptive"])
def test_the_firm_datacollector_stores_what_mesas_collect_stores(scenario):
    """Entry at step 36 (disruptor), exits and moves (adaptive), steps past the horizon."""
    from sim.model import CustomerModel

    model = CustomerModel(scenario=scenario, seed=4, customers=2000, steps=45)
    twin, collect = _mesa_twin(model.datacollector)
    collect(model)  # step 0, as the model collected it at construction
    for _ in range(50):
        model.step()
        collect(model)
    assert len(model.datacollector._agent_records) == 51
    _same_records(model.datacollector, twin)


def test_the_firm_datacollector_hands_changed_reporters_to_mesa():
    from sim.model import CustomerModel

    model = CustomerModel(scenario="baseline", seed=1, customers=1000, steps=3)
    model.datacollector._new_model_reporter("double_price", lambda m: 2 * m.mean_price)
    model.datacollector._new_agent_reporter("cash_twice", lambda f: 2 * f.cash)
    model.run()
    dc = model.datacollector
    assert dc.model_vars["double_price"] == [2 * p for p in dc.model_vars["mean_price"][1:]]
    cash = list(dc.agent_reporters).index("cash") + 2  # after (step, unique_id)
    for step in (1, 2, 3):
        assert [row[-1] for row in dc._agent_records[step]] == [2 * row[cash] for row in dc._agent_records[step]]
