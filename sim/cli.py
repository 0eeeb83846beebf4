"""Command line: ``python -m sim [overrides]`` runs a scenario and writes its results.

The only module that runs Hydra's app (``@hydra.main``). A run writes, into its
folder under ``results/``: ``config.yaml`` (the resolved config), ``run.nc`` (the
Dataset, written atomically), the plots and ``summary.txt``, and prints the summary.
Bad input prints one line naming the field and exits with status 2 before any run.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .config import ConfigError
from .configure import CONF_DIR, compose_config, from_dictconfig, to_yaml
from .model import CustomerModel
from .output import write_atomic, write_text_atomic


def execute(cfg, outdir: Path, plots: bool = True) -> Path:
    """Run ``cfg`` (a validated SimConfig) and write its outputs into ``outdir``."""
    from .api import dataset
    from .summary import summary_table

    outdir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(to_yaml(cfg), outdir / "config.yaml")
    model = CustomerModel(cfg)
    model.run()
    ds = dataset(model)
    path = write_atomic(ds, outdir / "run.nc")
    text = summary_table(ds)
    write_text_atomic(text + "\n", outdir / "summary.txt")
    if plots:
        from .plots import plot_run

        plot_run(ds, outdir)
    print(text)
    print(f"\nresults: {outdir}")
    return path


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        sim_cfg = from_dictconfig(cfg, hc.runtime.choices.get("scenario"))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    execute(sim_cfg, Path(hc.runtime.output_dir))


def _is_plain_run(argv: list[str]) -> bool:
    return not any(a.startswith("-") or a.startswith("hydra") or a.startswith("+hydra") for a in argv)


def main() -> None:
    """Entry point: check plain runs' overrides first (exit 2 on bad input), then run Hydra."""
    argv = sys.argv[1:]
    if argv and argv[0] in ("--help", "-h"):
        from .helptext import help_text

        print(help_text())
        return
    if _is_plain_run(argv):
        try:
            compose_config(argv)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
    hydra_main()


if __name__ == "__main__":
    main()
