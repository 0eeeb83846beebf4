"""The lesson for a scenario, as the classroom page shows it beside the run.

One source with the lecture guide: the scenario's description is the comment
paragraph at the top of ``scenarios/NAME.yaml`` (:func:`sim.settings.files.scenario_description`,
as ``python -m sim --help`` shows it), and what to show, what to ask the class, what to
look for and which control to move are the paragraphs of the scenario's section in
``docs/LECTURE.md``, which ``make lecture`` writes from ``docs/lecture/LECTURE.template.md``
and runs of the model (the "Move this control" sentences are measured:
:mod:`sim.study.lecture`). Editing the template and running ``make lecture`` changes the
guide and the page alike.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from ..settings.files import ROOT, scenario_description

#: The lecture guide (generated) and its template: one ``## name: title`` section per scenario of the library.
GUIDE = ROOT / "docs" / "LECTURE.md"
TEMPLATE = ROOT / "docs" / "lecture" / "LECTURE.template.md"
#: Paragraph openings of a section -> field of :class:`Lesson`.
_MARKERS = {"**Show.**": "show", "**Ask the class.**": "ask", "Look for": "look", "**Move this control.**": "move"}


@dataclass(frozen=True)
class Lesson:
    """A scenario's lesson (Markdown text; empty when the guide has no such paragraph)."""

    scenario: str
    title: str = ""
    description: str = ""
    show: str = ""
    ask: str = ""
    look: str = ""
    move: str = ""


def parse_sections(text: str) -> dict[str, dict[str, str]]:
    """Scenario name -> {"title", "show", "ask", "look", "move"} from the guide's template text.

    A section starts with ``## name: title``; its paragraphs (separated by blank lines)
    are recognised by their openings (``**Show.**``, ``**Ask the class.**``, ``Look for``,
    ``**Move this control.**``), which are dropped except for "Look for".
    """
    out: dict[str, dict[str, str]] = {}
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        name, _, title = heading.partition(":")
        fields = {"title": title.strip()}
        for para in re.split(r"\n\s*\n", body):
            para = " ".join(line.strip() for line in para.strip().splitlines())
            for marker, key in _MARKERS.items():
                if para.startswith(marker) and key not in fields:
                    fields[key] = para if key == "look" else para[len(marker):].strip()
        out[name.strip()] = fields
    return out


@functools.lru_cache(maxsize=4)
def _sections(path: Path, mtime: float) -> dict[str, dict[str, str]]:
    return parse_sections(path.read_text())


def lesson(scenario: str) -> Lesson:
    """The lesson of ``scenario``: its description and its section of the lecture guide."""
    try:
        description = scenario_description(scenario)
    except OSError:
        description = ""
    sections: dict[str, dict[str, str]] = {}
    for path in (GUIDE, TEMPLATE):  # the template only where the guide was never generated
        try:
            sections = _sections(path, path.stat().st_mtime)
            break
        except OSError:  # an install without the docs: the description alone
            continue
    return Lesson(scenario=scenario, description=description, **sections.get(scenario, {}))
