"""docs/ODD.md stays true to the code: generated tables current, every output and scenario named."""

from __future__ import annotations

import dataclasses

import pytest

from sim.results.output import FIRM_VARS, MARKET_VARS, SEGMENT_VARS
from sim.runner import docs
from sim.settings.schema import field_docs

STALE = "docs/ODD.md is out of date: run `python -m sim.runner.docs` and commit the result"


@pytest.fixture(scope="module")
def odd() -> str:
    return docs.ODD_PATH.read_text()


def test_parameter_table_equals_generator(odd):
    assert docs.block(odd, "params") == docs.parameter_table(), STALE


@pytest.mark.parametrize("name", ["outputs", "groups"])
def test_other_generated_tables_are_current(odd, name):
    assert docs.block(odd, name) == docs.BLOCKS[name](), STALE


def test_render_is_a_fixed_point(odd):
    assert docs.render(odd) == odd, STALE


def test_field_docs_expands_every_nested_config():
    rows = field_docs()
    paths = [r[0] for r in rows]
    assert len(paths) == len(set(paths))
    for path in ("market.trust_gain", "market.adoption.innovation", "market.shock.human_cut",
                 "customers.n", "customers.segments.<segment>.literacy", "firms.<firm>.price"):
        assert path in paths
    for path, default, *_ in rows:
        assert not dataclasses.is_dataclass(default), f"{path} was not expanded"
        assert not isinstance(default, dict), f"{path} was not expanded"


def test_every_config_field_is_in_the_parameter_table(odd):
    table = docs.block(odd, "params")
    for path, *_ in field_docs():
        assert f"| `{path}` |" in table, path


@pytest.mark.parametrize("name", [*FIRM_VARS, *SEGMENT_VARS, *MARKET_VARS])
def test_every_output_variable_is_documented(odd, name):
    assert f"`{name}`" in odd, f"output variable {name} is not mentioned in docs/ODD.md"


def test_every_scenario_is_in_the_library(odd):
    library = odd.split("## 9. Scenario library", 1)[1].split("\n## ", 1)[0]
    names = sorted(p.stem for p in (docs.ROOT / "scenarios").glob("*.yaml"))
    assert names
    for name in names:
        assert f"| `{name}` |" in library, f"scenario {name} has no line in section 9 of docs/ODD.md"


def test_every_stylized_fact_is_listed(odd):
    from sim.study.facts import FACTS

    block = docs.block(odd, "facts")
    assert len(FACTS) >= 13
    for number, fact in FACTS.items():
        assert f"`sim.study.facts.{fact.measure.__name__}`" in block, number


def test_main_check_reports_up_to_date(capsys):
    assert docs.main(["--check"]) == 0


def _quoted_commands(text: str) -> list[tuple[list[str], str]]:
    """``$ python -m sim ARGS`` lines of the README's text blocks and the line quoted after each."""
    import shlex

    lines = text.splitlines()
    return [(shlex.split(ln.removeprefix("$ python -m sim "))[0:], lines[k + 1])
            for k, ln in enumerate(lines) if ln.startswith("$ python -m sim ") and k + 1 < len(lines)]


def test_the_readme_quotes_the_command_lines_errors_as_they_are(tmp_path, monkeypatch, capsys):
    """Each ``$ python -m sim ...`` of README.md prints the error line quoted after it (``...``: any text)."""
    import re

    from sim.runner import cli

    readme = (docs.ODD_PATH.parents[1] / "README.md").read_text()
    quoted = _quoted_commands(readme)
    assert len(quoted) >= 3
    monkeypatch.chdir(tmp_path)
    for args, expected in quoted:
        with pytest.raises(SystemExit) as info:
            cli.main(args)
        got = capsys.readouterr().err.strip()
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        assert info.value.code == 2 and re.fullmatch(pattern, got), (args, expected, got)
