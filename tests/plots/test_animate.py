"""``python -m sim.animate`` (sim/plots/animate.py); the run folders are tests/plots/conftest.py's."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from sim.plots import animate
from tests.plots.conftest import STEPS


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
