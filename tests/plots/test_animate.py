"""``python -m sim.animate`` and ``python -m sim.compare_plot`` (sim/animate.py, sim/compare_plot.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

import sim
from sim.plots import animate, compare_plot

STEPS = 14


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two finished run folders (run.nc written as the CLI would): shock and disruptor, 600 customers."""
    out = {}
    for scenario, extra in (("shock", ["market.shock.start=4", "market.shock.end=8"]),
                            ("disruptor", ["firms.disruptor.enter_step=6"])):
        folder = tmp_path_factory.mktemp(scenario)
        ds = sim.run([f"scenario={scenario}", "customers.n=600", f"steps={STEPS}", *extra], seed=1)
        ds.to_netcdf(folder / "run.nc", engine="h5netcdf")
        out[scenario] = folder
    return out


def test_animate_writes_one_gif_frame_per_step(runs, capsys):
    assert animate.main([str(runs["shock"]), "--fps", "5", "--no-mp4"]) == 0
    gif = runs["shock"] / "quadrants.gif"
    assert capsys.readouterr().out.strip() == str(gif)
    with Image.open(gif) as im:
        assert im.n_frames == STEPS
        assert im.info["duration"] == 200  # 5 frames per second
    assert animate.main([str(runs["shock"] / "run.nc"), "--every", "4", "--out", str(runs["shock"] / "s.gif"),
                         "--no-mp4"]) == 0
    with Image.open(runs["shock"] / "s.gif") as im:
        assert im.n_frames == 5  # steps 1, 5, 9, 13 and the last


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed: no MP4 to check")
def test_animate_writes_an_mp4_with_ffmpeg(runs):
    import subprocess

    written = animate.animate(runs["disruptor"], fps=8)
    assert [p.name for p in written] == ["quadrants.gif", "quadrants.mp4"]
    assert written[1].read_bytes()[4:8] == b"ftyp"
    probe = subprocess.run([shutil.which("ffprobe") or "ffprobe", "-v", "error", "-count_frames", "-show_entries",
                            "stream=width,height,nb_read_frames,r_frame_rate", "-of", "default=nw=1",
                            str(written[1])], capture_output=True, text=True, check=True).stdout
    assert f"nb_read_frames={STEPS}" in probe and "r_frame_rate=8/1" in probe  # a frame per step, 8 per second
    assert "width=512" in probe and "height=480" in probe


def test_animate_without_ffmpeg_writes_the_gif_and_says_so(runs, tmp_path, monkeypatch, capsys):
    shutil.copy(runs["disruptor"] / "run.nc", tmp_path / "run.nc")
    monkeypatch.setenv("PATH", "")
    assert animate.main([str(tmp_path)]) == 0
    assert "ffmpeg not found" in capsys.readouterr().err
    assert (tmp_path / "quadrants.gif").is_file() and not (tmp_path / "quadrants.mp4").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["{missing}"], "no run.nc in this folder"),
    (["{run}", "--fps", "0"], "--fps = 0 is out of range: allowed [1, 60]"),
    (["{run}", "--every", "0"], "--every = 0 is out of range"),
    (["{run}", "--out", "x.png"], "must end in .gif"),
])
def test_animate_bad_arguments_one_line(runs, tmp_path, capsys, args, message):
    args = [a.format(missing=tmp_path, run=runs["shock"]) for a in args]
    assert animate.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_compare_plot_small_multiples_with_a_shared_legend(runs, tmp_path):
    loaded = compare_plot.load_runs([str(runs["shock"]), str(runs["disruptor"] / "run.nc")])
    assert [label for label, _ in loaded] == ["shock (seed 1)", "disruptor (seed 1)"]
    fig = compare_plot.compare_figure(loaded, ["share", "hhi", "segment_engagement"])
    axes = fig.axes
    assert len(axes) == 6  # 3 variables x 2 runs
    assert axes[0].get_ylim() == axes[1].get_ylim()  # a row shares its y-axis
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:5] == ["neither", "digital_only", "human_only", "both", "disruptor"]
    assert "market" in labels and "shock" in labels and any(lab.startswith("segment ") for lab in labels)
    # a firm keeps its colour across runs
    share_a = {tuple(line.get_color()) for line in axes[0].get_lines()}
    share_b = {tuple(line.get_color()) for line in axes[1].get_lines()}
    assert share_a <= share_b
    out = compare_plot.save(fig, tmp_path / "c.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_compare_plot_runs_scenarios_by_name(tmp_path, capsys):
    out = tmp_path / "s.png"
    assert compare_plot.main(["scenario=baseline", "scenario=steering", "--customers", "400", "--vars", "nps",
                              "--out", str(out)]) == 0
    assert out.is_file() and capsys.readouterr().out.strip() == str(out)


@pytest.mark.parametrize(("args", "message"), [
    (["{run}", "--vars", "sharez"], "unknown variable 'sharez'"),
    (["scenario=nosuch"], "no such scenario"),
    (["{missing}"], "no finished run here"),
])
def test_compare_plot_bad_arguments_one_line(runs, tmp_path, capsys, args, message):
    args = [a.format(missing=tmp_path / "none", run=runs["shock"]) for a in args]
    assert compare_plot.main([*args, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
