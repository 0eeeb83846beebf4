"""The lesson on the page comes from the lecture guide's template and the scenario files (sim/app/lesson.py)."""

from __future__ import annotations

from sim.app import lesson as L
from sim.app.settings import library_scenarios
from sim.settings.files import scenario_description


def test_every_scenario_of_the_library_has_its_lesson():
    template = " ".join(L.TEMPLATE.read_text().split())
    guide = L.parse_sections(L.GUIDE.read_text())
    for name in library_scenarios():
        ls = L.lesson(name)
        assert ls.description == scenario_description(name) and ls.description
        assert ls.show and ls.ask and ls.move and ls.look.startswith("Look for"), name
        # one source: the page shows the generated guide's paragraphs; show, ask and look are the
        # template's text, the move sentences are written from runs by `make lecture` (sim.study.lecture)
        fields = ("title", "show", "ask", "look", "move")
        assert tuple(getattr(ls, k) for k in fields) == tuple(guide[name].get(k, "") for k in fields), name
        for text in (ls.show, ls.ask, ls.look):
            assert " ".join(text.split()[:8]) in template, (name, text)
        assert "{{" not in ls.move, (name, ls.move)


def test_parse_sections():
    text = ("# Guide\n\nintro\n\n## alpha: first one\n\n**Show.** The map,\nthen more.\n\n"
            "**Ask the class.** Why?\n\n**What the simulation shows.**\n\n{{figure:alpha}}\n\n"
            "Look for the thing.\n\n**Move this control.** *x → y* up.\n\n## beta: second\n\n**Show.** B.\n")
    sections = L.parse_sections(text)
    assert sections["alpha"] == {"title": "first one", "show": "The map, then more.", "ask": "Why?",
                                 "look": "Look for the thing.", "move": "*x → y* up."}
    assert sections["beta"] == {"title": "second", "show": "B."}


def test_a_scenario_without_a_section_gets_its_description():
    ls = L.lesson("validation/logit")
    assert ls.description == scenario_description("validation/logit") and ls.description
    assert (ls.show, ls.ask, ls.look, ls.move) == ("", "", "", "")
