"""Generated parts of ``docs/ODD.md`` (the parameter table, the output table, the config groups, the
layout, the facts) and of ``docs/OUTPUTS.md`` (the output table).

The tables are built from the code (:func:`sim.settings.schema.field_docs`, the variable
tables of :mod:`sim.results.output`, the layout table of :mod:`sim.engine.layout`, the YAML
files in ``conf/``) so the documentation cannot drift from it. ``python -m sim.runner.docs``
rewrites every generated block of those files in place, between markers such as
``<!-- params:start -->`` and ``<!-- params:end -->``; ``python -m sim.runner.docs --check``
only reports whether they are up to date (exit status 1 if not). ``tests/runner/test_docs.py``
runs the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from ..engine.layout import layout_tables
from ..results.output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS
from ..settings.schema import FORMS, field_docs

ROOT = Path(__file__).resolve().parents[2]
ODD_PATH = ROOT / "docs" / "ODD.md"
OUTPUTS_PATH = ROOT / "docs" / "OUTPUTS.md"
CONF_DIR = ROOT / "conf"

#: Ranges and units of the list-valued fields, which carry no ``range`` metadata
#: (their entries are checked in :func:`sim.settings.schema.validate`).
LIST_FIELDS: dict[str, tuple[str, str]] = {
    "customers.segments.<segment>.forms": (f"{len(FORMS) + 1} values >= 0, sum 1", "probability"),
    "firms.<firm>.intervention": (f"{len(FORMS)} values >= 0", "money/market customer/step"),
}

#: Section headings of the parameter table, by path prefix (longest prefix wins).
GROUPS: dict[str, str] = {
    "": "Run",
    "market.": "Market rules (`market.*`)",
    "market.adoption.": "Digital adoption (`market.adoption.*`)",
    "market.shock.": "Shock window (`market.shock.*`)",
    "customers.": "Population (`customers.*`)",
    "customers.segments.<segment>.": "Customer segments (`customers.segments.<segment>.*`)",
    "firms.<firm>.": "Firms (`firms.<firm>.*`)",
}


def _cell(text: Any) -> str:
    """A Markdown table cell: pipes escaped, no line breaks."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(v: Any) -> str:
    if isinstance(v, str):
        return f'`"{v}"`'
    return f"`{v!r}`"


def _group(path: str) -> str:
    best = ""
    for prefix in GROUPS:
        if path.startswith(prefix) and len(prefix) > len(best) and "." not in path[len(prefix):]:
            best = prefix
    return best


def parameter_table() -> str:
    """Every config field as Markdown tables, one per group: path, default, range, units, meaning."""
    rows = field_docs()
    paths = {r[0] for r in rows}
    missing = set(LIST_FIELDS) - paths
    if missing:  # a renamed list field must be renamed here too
        raise KeyError(f"LIST_FIELDS names fields that do not exist: {sorted(missing)}")
    out: list[str] = []
    current = None
    for path, default, rng, units, doc in rows:
        group = _group(path)
        if group != current:
            current = group
            if out:
                out.append("")
            out += [f"**{GROUPS[group]}**", "",
                    "| parameter | default | range | units | meaning |",
                    "|---|---|---|---|---|"]
        if path in LIST_FIELDS and not rng:
            rng, units = LIST_FIELDS[path][0], units or LIST_FIELDS[path][1]
        out.append(f"| `{path}` | {_cell(_value(default))} | {_cell(rng) or '-'} | "
                   f"{_cell(units) or '-'} | {_cell(doc)} |")
    return "\n".join(out)


def output_table() -> str:
    """Every output variable of :mod:`sim.results.output`: name, dimensions, units, meaning."""
    out = ["| variable | dimensions | units | meaning |", "|---|---|---|---|"]
    for table, dims in ((FIRM_VARS, "step, firm"), (SEGMENT_VARS, "step, segment"),
                        (MARKET_VARS, "step")):
        for name, (long_name, units) in table.items():
            out.append(f"| `{name}` | {dims} | {_cell(units)} | {_cell(long_name)} |")
    return "\n".join(out)


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def groups_table() -> str:
    """The segment and firm files of ``conf/`` (what the scenarios build on), as tables."""
    seg_cols = ("share", "literacy", "human_pref", "affinity", "privacy", "alpha0", "adopted_init", "forms")
    out = ["Customer groups (`conf/customers/*.yaml`; traits are Beta means, concentration "
           "and `alpha0_cv` at their defaults unless listed):", "",
           "| file | segment | " + " | ".join(seg_cols) + " |",
           "|---|---|" + "---|" * len(seg_cols)]
    for path in sorted((CONF_DIR / "customers").glob("*.yaml")):
        for name, seg in (_yaml(path).get("segments") or {}).items():
            cells = [_cell(_value(seg[c])) if c in seg else "-" for c in seg_cols]
            out.append(f"| `{path.stem}` | {name} | " + " | ".join(cells) + " |")
    out += ["", "Firm line-ups (`conf/firms/*.yaml`; fields not listed keep the defaults of the "
            "parameter table):", "", "| file | firm | settings |", "|---|---|---|"]
    for path in sorted((CONF_DIR / "firms").glob("*.yaml")):
        for name, firm in _yaml(path).items():
            if name == "defaults":  # the line-ups this one extends
                bases = ", ".join(f"`{b}`" for b in firm)
                out.append(f"| `{path.stem}` | (the firms of {bases}) | |")
                continue
            settings = ", ".join(f"{k}={v}" for k, v in (firm or {}).items())
            out.append(f"| `{path.stem}` | {name} | {_cell(settings)} |")
    return "\n".join(out)


def facts_table() -> str:
    """The stylized facts of :mod:`sim.study.facts`: number, claim, mechanism, ablation, measurement."""
    from ..study.facts import FACTS

    out = ["| # | fact | mechanism | switched off by | measured by |", "|---|---|---|---|---|"]
    out += [f"| {k} | {_cell(f.claim)} | {_cell(f.mechanism)} | {_cell(', '.join(f.ablation))} | "
            f"`sim.study.facts.{f.measure.__name__}` |" for k, f in FACTS.items()]
    return "\n".join(out)


#: Generated blocks of docs/ODD.md: marker name -> generator.
BLOCKS = {"params": parameter_table, "outputs": output_table, "groups": groups_table, "layout": layout_tables,
          "facts": facts_table}


#: The files with generated blocks and the blocks each must hold.
GENERATED: dict[Path, tuple[str, ...]] = {ODD_PATH: tuple(BLOCKS), OUTPUTS_PATH: ("outputs",)}


def render(text: str, names: tuple[str, ...] = tuple(BLOCKS)) -> str:
    """``text`` with its generated blocks ``names`` replaced by what the generators produce now."""
    for name in names:
        make = BLOCKS[name]
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"markers {start} ... {end} not found")
        replacement = f"{start}\n{make()}\n{end}"
        text = pattern.sub(lambda _m, new=replacement: new, text)
    return text


def block(text: str, name: str) -> str:
    """The current content of block ``name`` in ``text`` (without the markers)."""
    m = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    if m is None:
        raise ValueError(f"block {name} not found")
    return m.group(1)


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks of docs/ODD.md and docs/OUTPUTS.md (or only check them with ``--check``)."""
    parser = argparse.ArgumentParser(prog="python -m sim.runner.docs", description="Rewrite (or --check) the "
                                     "generated tables of docs/ODD.md and docs/OUTPUTS.md from the code.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    parser.add_argument("path", nargs="*", help="the files (default docs/ODD.md and docs/OUTPUTS.md; another file: "
                        "the blocks it holds)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.path] or list(GENERATED)
    stale = 0
    for path in paths:
        text = path.read_text()
        names = GENERATED.get(path.resolve()) or tuple(n for n in BLOCKS if f"<!-- {n}:start -->" in text)
        if not names:
            raise SystemExit(f"{path}: no generated blocks (markers such as <!-- outputs:start -->)")
        new = render(text, names)
        if new == text:
            print(f"{path}: generated tables up to date")
        elif args.check:
            print(f"{path}: generated tables out of date; run python -m sim.runner.docs", file=sys.stderr)
            stale = 1
        else:
            path.write_text(new)
            print(f"{path}: generated tables rewritten")
    return stale


if __name__ == "__main__":
    sys.exit(main())
