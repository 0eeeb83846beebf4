"""README.md and docs/*.md stay true to the code: a short README whose example runs and whose scenario
table lists the scenario files, links that lead somewhere, performance figures as the benchmark files
state them, and the import rules of docs/ARCHITECTURE.md kept by every module of sim/.

(The generated tables and the quoted error lines are tests/runner/test_docs.py's.)"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = (README, *sorted((ROOT / "docs").glob("*.md")))


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code (a link inside code is not a link)."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))


def relative_links(text: str) -> list[str]:
    """The targets of the Markdown links and images of ``text`` that are paths (no scheme, no bare anchor)."""
    targets = re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", _prose(text))
    return [t for t in targets if not re.match(r"[A-Za-z][\w+.-]*:", t) and not t.startswith("#")]


def test_relative_links_finds_paths_only():
    text = ("[a](docs/A.md) ![b](img/b.png \"title\") [c](https://x.org) [d](#top) [e](B.md#part) "
            "`[f](g.md)`\n```\n[h](i.md)\n```\n<http://127.0.0.1:8765>")
    assert relative_links(text) == ["docs/A.md", "img/b.png", "B.md#part"]


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    assert len(README.read_text().splitlines()) <= 200


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(page):
    missing = [t for t in relative_links(page.read_text()) if not (page.parent / t.split("#")[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_the_readme_links_every_page_of_docs():
    links = {(ROOT / t.split("#")[0]).resolve() for t in relative_links(README.read_text())}
    unlinked = [p.name for p in PAGES[1:] if p.resolve() not in links]
    assert not unlinked, f"README.md's map of docs/ misses {unlinked}"


def test_the_readme_python_example_runs():
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len(block.strip().splitlines()) == 3
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    printed = out.getvalue()
    for firm in ("neither", "digital_only", "human_only", "both"):
        assert firm in printed


def test_the_scenario_table_lists_every_scenario_file():
    from sim.settings.compose import scenario_names

    text = README.read_text()
    table = text.split("## Scenarios", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w/]+)`", table, re.M)
    library = [name for name in scenario_names() if "/" not in name]
    assert sorted(rows) == sorted(library) and len(rows) == len(set(rows))
    assert sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml")) == sorted(library)


# ------------------------------------------------------------------ performance
def _performance_sections() -> list[tuple[Path, str]]:
    """(benchmark file, section text) for each ``### [benchmarks/...](...)`` section of docs/PERFORMANCE.md."""
    text = (ROOT / "docs" / "PERFORMANCE.md").read_text()
    parts = re.split(r"^### \[[^\]]+\]\(([^)]+)\)\n", text, flags=re.M)
    return [((ROOT / "docs" / link).resolve(), body) for link, body in zip(parts[1::2], parts[2::2], strict=True)]


def test_performance_figures_are_those_the_benchmark_files_state():
    sections = _performance_sections()
    assert {p.name for p, _ in sections} == {"results.md", "sweep_results.md", "app_results.md"}
    for path, body in sections:
        stated = path.read_text()
        machine = re.search(r"^> (.+)$", body, re.M).group(1)
        assert machine in stated.splitlines(), f"docs/PERFORMANCE.md: {path.name}'s machine line is not its own"
        rows = [r for r in re.findall(r"^\|(.+)\|$", body, re.M) if not set(r) <= set("-|")][1:]
        assert rows
        for row in rows:
            figure = row.split("|")[-1]
            for number in re.findall(r"\d[\d,]*(?:\.\d+)?", figure):
                assert re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d,]|\.\d)", stated), \
                    f"docs/PERFORMANCE.md quotes {number} ({row.strip()}) but {path.name} does not state it: " \
                    f"quote the rerun's figures"


# ----------------------------------------------------------------- architecture
def _modules() -> dict[str, Path]:
    out = {}
    for path in (ROOT / "sim").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``sim`` that module ``name`` imports, at its top or inside functions; an import
    under ``if TYPE_CHECKING:`` does not count (nothing is imported when the code runs)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            targets = [f"{module}.{a.name}" for a in node.names] + [module]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _group(module: str) -> str:
    """The row of docs/ARCHITECTURE.md's table a module belongs to."""
    parts = module.split(".")
    if len(parts) > 1 and (ROOT / "sim" / parts[1]).is_dir():
        return "sim." + parts[1]
    return module if module in ("sim", "sim.model", "sim.api") else "entry modules"


def _rules() -> dict[str, dict[str, str | None]]:
    """docs/ARCHITECTURE.md's table: package -> {package it may import: the one module allowed to, or None}."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    table = text.split("## Sub-packages and what each may import", 1)[1].split("\n## ", 1)[0]
    rules = {}
    for row in re.findall(r"^\| (.+) \|$", table, re.M)[1:]:  # the header row left out
        cells = row.split(" | ")
        group = cells[0].strip("`")
        rules[group] = {m.group(1): m.group(2) for m in
                        re.finditer(r"`(sim[\w.]*)`(?: \(only `([\w/.]+)`\))?", cells[-1])}
    return rules


def test_every_import_between_packages_is_one_docs_architecture_allows():
    modules = _modules()
    rules = _rules()
    assert set(rules) == {_group(m) for m in modules}, "a package without its row in docs/ARCHITECTURE.md"
    wrong = []
    for name, path in sorted(modules.items()):
        allowed = rules[_group(name)]
        for target in sorted(_imports(name, path, modules)):
            other = _group(target)
            if other == _group(name):
                continue
            only = allowed.get(other, "not allowed")
            if only == "not allowed" or (only is not None and path != ROOT / only):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "imports docs/ARCHITECTURE.md does not allow: " + "; ".join(wrong)


def test_a_packages_docstring_names_the_imports_the_table_allows():
    """A sub-package whose docstring says what it may import says what the table says (one rule, two
    places, tied here)."""
    rules = _rules()
    said = 0
    for init in sorted((ROOT / "sim").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        m = re.search(r"May import from sim: (.*?) \(docs/ARCHITECTURE\.md", " ".join(doc.split()))
        if m:
            said += 1
            names = {n.group(1): n.group(2) for n in
                     re.finditer(r"``(sim[\w.]*)``(?: \(only ``([\w/.]+)``\))?", m.group(1))}
            assert names == rules[f"sim.{init.parent.name}"], init.relative_to(ROOT)
    assert said >= 4


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                if nxt == goal:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    circles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if reaches(b, a)})
    assert not circles, f"import circles: {circles}"


def test_the_import_check_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    modules = {"sim.a": tmp_path / "a.py", "sim.b": tmp_path / "b.py", "sim.c": tmp_path / "c.py"}
    modules["sim.a"].write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n"
                                "def f():\n    from . import c\n")
    assert _imports("sim.a", modules["sim.a"], modules) == {"sim.c"}
