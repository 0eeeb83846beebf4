"""What the page exports: figures as PNG, the run as netCDF and CSV (sim/app/export.py)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import xarray as xr

from sim.app import export as E
from sim.app import figures as F
from sim.app.session import Kept, Run
from sim.app.settings import FirmSetting, Settings


def _run(steps: int = 6) -> Run:
    run = Run(Settings(customers=2000))
    for _ in range(steps):
        run.step()
    return run


def test_figures_zip_holds_a_png_per_panel():
    run = _run()
    z = zipfile.ZipFile(io.BytesIO(E.figures_zip(run, Kept(run.data(), "kept"))))
    names = z.namelist()
    assert len(names) == len(F.PANELS) and all(n.startswith("disruptor-seed0-step6/") for n in names)
    assert all(z.read(n).startswith(b"\x89PNG\r\n\x1a\n") for n in names)


def test_netcdf_is_the_recorded_run(tmp_path):
    run = _run()
    run.apply_now({"both": FirmSetting(0.9, 0.3, 1.0)}, run.settings)
    run.step()
    path = tmp_path / "run.nc"
    path.write_bytes(E.run_netcdf(run))
    with xr.open_dataset(path, engine="h5netcdf") as back:
        xr.testing.assert_identical(back.load().drop_attrs(), run.data().drop_attrs())
        assert back.attrs["page_changes"].startswith("step 6: both: ")
        assert back.attrs["config"] == run.data().attrs["config"]


def test_csv_has_a_row_per_step_and_firm():
    run = _run()
    text = E.run_csv(run).decode()
    assert text.startswith("# disruptor-seed0-step6\n")
    table = pd.read_csv(io.StringIO(text), comment="#")
    ds = run.data()
    assert len(table) == ds.sizes["step"] * ds.sizes["firm"]
    both = table[table.firm == "both"].sort_values("step")
    j = list(ds.firm.values).index("both")
    np.testing.assert_allclose(both["share"].to_numpy(), ds["share"].values[:, j])
    np.testing.assert_allclose(both["hhi"].to_numpy(), ds["hhi"].values)  # market variables on every row
