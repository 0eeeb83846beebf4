"""The text of ``python -m sim --help``: usage, scenarios with their descriptions, parameters."""

from __future__ import annotations

import textwrap

from ..settings.compose import CONF_DIR, scenario_description, scenario_names
from ..settings.schema import field_docs

USAGE = """\
usage: python -m sim [OVERRIDE ...]          run one scenario, write results/<scenario>/<time>/
       python -m sim -m OVERRIDE[,VALUE]...  sweep on all cores, results/multirun/<time>/<job>/ and
                                             one merged results/multirun/<time>/sweep.nc
       python -m sim.collect [--resume] DIR  merge a sweep folder (after failures, while running);
                                             --resume first reruns the jobs without run.nc
       python -m sim --cfg job [OVERRIDE ...] the resolved config that would run
       python -m sim --version               versions of customer-sim, Mesa, Numba, Hydra
       python -m sim --hydra-help            Hydra's own options (launchers, sweepers, run dirs)

Tool options (true/false): plots= (default true for a run, false in a sweep), progress=
(a bar over steps on a terminal; a line per finished job of a sweep), resume= (with -m and
hydra.sweep.dir=DIR: run only the sweep's unfinished jobs). Launchers for -m:
hydra/launcher=joblib (default, all cores), ray, slurm, submitit_local (see docs/SWEEPS.md).

Overrides are Hydra's KEY=VALUE, without dashes (seed=3, not --seed 3): scenario=NAME,
seed=INT, steps=INT, customers.n=INT, market.FIELD=VALUE, firms.FIRM.FIELD=VALUE,
customers.segments.SEGMENT.FIELD=VALUE, and group choices market=, customers=, firms= (files in conf/). Examples:
  python -m sim scenario=baseline seed=3
  python -m sim scenario=steering firms.closing.steering_strength=0.5 customers.n=1000000
  python -m sim -m scenario=baseline,disruptor seed=0,1,2,3
"""


def scenario_firms() -> dict[str, list[str]]:
    """Each scenario's firm names (what ``firms.NAME.FIELD=...`` takes), from its composed config."""
    from ..settings.compose import compose_jobs

    names = scenario_names()
    try:
        composed = compose_jobs([[f"scenario={n}"] for n in names])
    except Exception:  # a broken scenario file: its own run reports it; the help still prints
        return {}
    return {n: list(job.config.firms) for n, job in zip(names, composed, strict=True)}


def help_text(parameters: bool = True) -> str:
    lines = [USAGE, "scenarios (scenarios/*.yaml; default: disruptor) and their firms (firms.NAME.FIELD=...):"]
    firms = scenario_firms()
    for name in scenario_names():
        desc = textwrap.fill(scenario_description(name), width=88, initial_indent="    ",
                             subsequent_indent="    ")
        lines += [f"  {name}", desc]
        if name in firms:
            lines.append(textwrap.fill("firms: " + ", ".join(firms[name]), width=88, initial_indent="    ",
                                       subsequent_indent="      "))
    groups = {g: sorted(p.stem for p in (CONF_DIR / g).glob("*.yaml")) for g in ("market", "customers", "firms")}
    lines += ["", "config groups (conf/):"] + [f"  {g}: {', '.join(opts)}" for g, opts in groups.items()]
    if parameters:
        lines += ["", "parameters (path, default, allowed range, units: meaning):"]
        for path, default, rng, units, doc in field_docs():
            lines.append(f"  {path} = {default!r}  {rng}  {units}: {doc}".rstrip(": "))
    return "\n".join(lines)
