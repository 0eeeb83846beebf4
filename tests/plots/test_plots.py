"""Tests of sim/plots.py: the PNG files of a run and the animated quadrant map.

Small real runs (2,000 customers) feed the plots; warnings are errors in every test
that draws, so NaN means of dead or absent firms must plot silently. Everything is
drawn on matplotlib Figure objects (Agg), so no window can open.
"""

from __future__ import annotations

import ast
import math
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from PIL import Image, ImageSequence

import sim
from sim import plots
from sim.plots import PLOT_FILES, animate_quadrants, firm_colors, plot_run

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def baseline() -> xr.Dataset:
    """Four incumbents, 24 steps."""
    return sim.run(["scenario=baseline", "customers.n=2000", "steps=24"], seed=0)


@pytest.fixture(scope="module")
def disruptor() -> xr.Dataset:
    """Five firms, the disruptor enters at step 36 of 48."""
    return sim.run(["scenario=disruptor", "customers.n=2000", "steps=48"], seed=0)


@pytest.fixture(scope="module")
def ragged(disruptor: xr.Dataset) -> xr.Dataset:
    """The disruptor run with one firm that exits at step 20 and one that never enters."""
    ds = disruptor.copy(deep=True)
    means = [v for v in ds.data_vars if ds[v].dims == ("step", "firm") and ds[v].dtype.kind == "f"]
    for firm, gone in (("human_only", slice(19, None)), ("digital_only", slice(None))):
        j = list(ds["firm"].values).index(firm)
        for v in means:
            ds[v].values[gone, j] = 0.0 if v in ("share", "profit", "revenue", "cost") else np.nan
        ds["alive"].values[gone, j] = 0
        ds["customers"].values[gone, j] = 0
    return ds


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}  # hidden temporary files included


def _check_png(path: Path, min_size: tuple[int, int] = (700, 450)) -> None:
    assert path.stat().st_size > 20_000, f"{path.name} is suspiciously small"
    with Image.open(path) as im:
        im.verify()  # a truncated or corrupt file raises here
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.width >= min_size[0] and im.height >= min_size[1]
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50, f"{path.name} is (nearly) one colour"


def _texts(fig) -> str:
    """All text of a figure (titles, labels, tick labels, legends, annotations)."""
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_plot_run_writes_the_six_pngs(baseline: xr.Dataset, tmp_path: Path) -> None:
    paths = plot_run(baseline, tmp_path)
    assert paths == [tmp_path / f for f in PLOT_FILES]
    assert _files(tmp_path) == set(PLOT_FILES)  # nothing else, no temporary files left
    umask = os.umask(0)
    os.umask(umask)
    for p in paths:
        _check_png(p)
        assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # ordinary file permissions


def test_entering_dead_and_absent_firms_plot_silently(ragged: xr.Dataset, tmp_path: Path) -> None:
    """Disruptor run: a late entry, an exit with NaN means after it, a firm never there."""
    alive = ragged["alive"].values
    assert not alive[0, -1] and alive[-1, -1]  # the disruptor enters
    assert np.isnan(ragged["trust"].values).any()
    paths = plot_run(ragged, tmp_path / "run")  # the folder is created
    assert paths == [tmp_path / "run" / f for f in PLOT_FILES]
    assert _files(tmp_path / "run") == set(PLOT_FILES)
    for p in paths:
        _check_png(p)
    text = _texts(plots.quadrant_map_figure(ragged))
    assert "never entered" in text and "exited at step 20" in text


def test_single_firm_single_step(disruptor: xr.Dataset, tmp_path: Path) -> None:
    ds = disruptor.isel(firm=[3], step=[0])
    paths = plot_run(ds, str(tmp_path))  # a str folder works too
    assert _files(tmp_path) == set(PLOT_FILES)
    for p in paths:
        _check_png(p)


def test_titles_labels_and_colours(disruptor: xr.Dataset) -> None:
    colours = firm_colors(disruptor)
    assert len(set(colours.values())) == disruptor.sizes["firm"]
    quad = plots.quadrant_map_figure(disruptor)
    text = _texts(quad)
    for name in ("quick death", "strong today", "insufficient tomorrow", "fighter's market",
                 "when digital\nbecomes human", "scenario: disruptor", "E at step 1"):
        assert name in text
    econ = plots.economics_figure(disruptor)
    labels = [ax.get_ylabel() for ax in econ.axes if ax.get_ylabel()]
    # the model's reading of the units (money/customer/step), not the CF string (month-1)
    assert any(disruptor["price"].attrs["model_units"] in lab for lab in labels)
    assert any(disruptor["cash"].attrs["model_units"] in lab for lab in labels)
    assert "scenario: disruptor" in econ.get_suptitle()
    assert "disruptor enters" in _texts(econ)
    for fig in (econ, plots.relationship_figure(disruptor)):
        for ax in fig.axes:
            for line in ax.get_lines():
                if line.get_label() in colours:
                    assert line.get_color() == colours[line.get_label()]


def test_failed_save_leaves_old_file_and_no_temporary(baseline: xr.Dataset, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / PLOT_FILES[0]
    old.write_bytes(b"old plot")

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(plots.figures.Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plot_run(baseline, tmp_path)
    assert _files(tmp_path) == {old.name}
    assert old.read_bytes() == b"old plot"


def test_animation_has_one_frame_per_step(baseline: xr.Dataset, tmp_path: Path) -> None:
    path = animate_quadrants(baseline, tmp_path / "quadrants.gif", fps=8)
    assert path == tmp_path / "quadrants.gif"
    assert _files(tmp_path) == {"quadrants.gif"}
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.size == (512, 480)
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(im)]
        assert abs(im.info["duration"] - 1000 / 8) <= 10  # GIF stores centiseconds
        assert im.info["loop"] == 0
    assert len(frames) == baseline.sizes["step"]
    assert frames[0].tobytes() != frames[-1].tobytes()


def test_animation_every_nth_step_keeps_the_last(ragged: xr.Dataset, tmp_path: Path) -> None:
    path = animate_quadrants(ragged, tmp_path / "q.gif", every=5, dpi=50)
    n = ragged.sizes["step"]
    with Image.open(path) as im:
        assert im.n_frames == math.ceil(n / 5) + ((n - 1) % 5 != 0)
    with pytest.raises(ValueError):
        animate_quadrants(ragged, tmp_path / "bad.gif", fps=0)
    assert _files(tmp_path) == {"q.gif"}


def test_sweep_dataset_is_refused(baseline: xr.Dataset, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one run"):
        plot_run(baseline.expand_dims(seed=[0, 1]), tmp_path)


def test_package_never_imports_pyplot() -> None:
    for path in Path(plots.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any("pyplot" in m for m in imported), path.name
