"""``python -m sim.compare_plot`` (sim/plots/compare_plot.py): small multiples across runs."""

from __future__ import annotations

import pytest

from sim.plots import compare_plot


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
