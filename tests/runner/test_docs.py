"""docs/ODD.md and docs/OUTPUTS.md stay true to the code: generated tables current, every output and scenario
named; the command lines quoted in the documents print the errors quoted under them."""

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


def test_the_output_page_holds_the_current_output_table():
    outputs = docs.OUTPUTS_PATH.read_text()
    stale = "docs/OUTPUTS.md is out of date: run `python -m sim.runner.docs` and commit the result"
    assert docs.block(outputs, "outputs") == docs.output_table(), stale
    assert docs.render(outputs, docs.GENERATED[docs.OUTPUTS_PATH]) == outputs, stale
    for name in (*FIRM_VARS, *SEGMENT_VARS, *MARKET_VARS):
        assert f"| `{name}` |" in outputs, name


def test_main_rewrites_a_stale_block_and_check_reports_it(tmp_path, capsys):
    page = tmp_path / "OUTPUTS.md"
    page.write_text("intro\n<!-- outputs:start -->\nold\n<!-- outputs:end -->\n")
    assert docs.main(["--check", str(page)]) == 1 and "old" in page.read_text()
    assert "out of date" in capsys.readouterr().err
    assert docs.main([str(page)]) == 0 and docs.block(page.read_text(), "outputs") == docs.output_table()
    assert docs.main(["--check", str(page)]) == 0
    # docs/ODD.md must hold every block: one that lost its markers is an error, not skipped
    odd = tmp_path / "ODD.md"
    odd.write_text(page.read_text())
    with pytest.raises(ValueError, match="markers <!-- params:start -->"):
        docs.render(odd.read_text(), docs.GENERATED[docs.ODD_PATH])


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
    """``$ python -m sim ARGS`` lines of a document's text blocks and the line quoted after each."""
    import shlex

    lines = text.splitlines()
    return [(shlex.split(ln.removeprefix("$ python -m sim ")), lines[k + 1])
            for k, ln in enumerate(lines) if ln.startswith("$ python -m sim ") and k + 1 < len(lines)]


def test_the_documents_quote_the_command_lines_errors_as_they_are(tmp_path, monkeypatch, capsys):
    """Each ``$ python -m sim ...`` of README.md and docs/*.md (docs/GUARANTEES.md quotes them) prints the
    error line quoted after it (``...``: any text)."""
    import re

    from sim.runner import cli

    root = docs.ODD_PATH.parents[1]
    quoted = [q for path in (root / "README.md", *sorted((root / "docs").glob("*.md")))
              for q in _quoted_commands(path.read_text())]
    assert len(_quoted_commands((root / "docs" / "GUARANTEES.md").read_text())) >= 3
    monkeypatch.chdir(tmp_path)
    for args, expected in quoted:
        with pytest.raises(SystemExit) as info:
            cli.main(args)
        got = capsys.readouterr().err.strip()
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        assert info.value.code == 2 and re.fullmatch(pattern, got), (args, expected, got)
