"""The classroom page's own browser widgets (Vue templates run by ipyvue, no extra files).

:class:`FigureBox` shows a figure and tells the server the size of its place, so that
the figure is drawn at exactly the size it is shown; :class:`QuietSlider` is a slider
that tells the server its value once the knob has been still, so a drag or a held
arrow key is one message whatever the server's load; :func:`NumberField` is a number
field that keeps what is typed into it through the page's redraws.
"""

from __future__ import annotations

from collections.abc import Callable

import ipyvuetify as vy
import reacton.ipyvuetify as rv
import solara
import traitlets

from . import figures as F


class FigureBox(vy.VuetifyTemplate):
    """An image that fills its place in the grid and reports that place's size.

    ``width`` and ``height`` (CSS pixels) and ``scale`` (the browser's
    ``devicePixelRatio``) are set by the browser (a ``ResizeObserver``, settled for
    150 ms), so the server draws the figure at exactly the size it is shown: one
    point on the figure is one point on the screen, and the figure grows with the window.
    """

    template = traitlets.Unicode("""
<template>
  <div class="cs-figbox" style="width: 100%; height: 100%; overflow: hidden;">
    <img v-if="src" :src="src" :class="'cs-panel cs-panel-' + name" :alt="name"
         style="display: block; width: 100%; height: 100%;" />
  </div>
</template>
<script>
module.exports = {
  mounted() {
    const report = () => {
      const r = this.$el.getBoundingClientRect();
      const w = Math.floor(r.width), h = Math.floor(r.height), s = window.devicePixelRatio || 1;
      if (w > 0 && h > 0 && (w !== this.width || h !== this.height || s !== this.scale)) {
        this.width = w; this.height = h; this.scale = s;
      }
    };
    this.observer = new ResizeObserver(() => { clearTimeout(this.timer); this.timer = setTimeout(report, 150); });
    this.observer.observe(this.$el);
    report();
  },
  beforeDestroy() { if (this.observer) { this.observer.disconnect(); } clearTimeout(this.timer); },
};
</script>
""").tag(sync=True)
    src = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    width = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(0).tag(sync=True)
    scale = traitlets.Float(1.0).tag(sync=True)


def panel_size(size) -> tuple[int, int, float]:
    """(width, height, scale) of a panel; the default size until the browser reports one."""
    if size is None or size[0] <= 0 or size[1] <= 0:
        w, h = F.DEFAULT_SIZE
        return (w, h, float(size[2]) if size else 1.0)
    return (int(size[0]), int(size[1]), float(size[2]))


class QuietSlider(vy.VuetifyTemplate):
    """A Vuetify slider that tells the server its value once the knob has been still for
    ``quiet`` milliseconds (a drag, a held arrow key: one message, whatever the server's load).

    ``value`` is the synced value; the knob moves in the browser alone meanwhile, and a
    value set by the server (a typed number, a new scenario) moves the knob.
    """

    template = traitlets.Unicode("""
<template>
  <v-slider v-model="knob" :label="label" :min="min" :max="max" :step="step" :disabled="disabled"
            hide-details class="cs-slider" @input="moved" @change="moved"></v-slider>
</template>
<script>
module.exports = {
  data() { return { knob: null }; },
  created() { this.knob = this.value; },
  watch: { value(v) { this.knob = v; } },
  methods: {
    moved(v) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => { if (v !== this.value) { this.value = v; } }, this.quiet);
    },
  },
  beforeDestroy() { clearTimeout(this.timer); },
};
</script>
""").tag(sync=True)
    value = traitlets.Float(0.0).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    min = traitlets.Float(0.0).tag(sync=True)
    max = traitlets.Float(1.0).tag(sync=True)
    step = traitlets.Float(0.01).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    quiet = traitlets.Int(350).tag(sync=True)


@solara.component
def NumberField(label: str, value: float, on_value: Callable[[float], None], kind: type = int,
                disabled: bool = False, classes: list[str] | None = None, dense: bool = False,
                hide_details: bool | str = "auto"):
    """A field for a number (``kind``: int or float) that commits what is typed on Enter or when
    it loses focus; ``on_value`` gets the number when it differs from ``value``.

    What is typed is kept on the server as it arrives from the browser, so a redraw of the page
    before Enter (each step while playing; under load a redraw takes a second or more) shows it
    again, and Enter commits it. Solara's ``InputInt``/``InputFloat`` keep it in the browser's
    widget only: each redraw set the widget back to the committed value, and Enter then committed
    that old value, so the typed one was lost.
    """
    typed, set_typed = solara.use_state(None)  # the text typed and not committed yet
    error, set_error = solara.use_state(False)
    typed_now = solara.use_ref(None)  # the same, at once (the state reaches this function at the next render)

    def on_text(text) -> None:
        typed_now.current = text
        set_typed(text)

    def commit() -> None:
        text = typed_now.current
        if text is None:
            return
        try:
            x = kind(str(text).strip())
        except ValueError:
            set_error(True)
            return
        typed_now.current = None
        set_typed(None)
        set_error(False)
        if x != value:
            on_value(x)

    commit_now = solara.use_ref(commit)
    commit_now.current = commit  # the handlers below call the newest (its ``value`` is the one shown)
    name = "an integer" if kind is int else "a number"
    field = rv.TextField(v_model=typed if typed is not None else str(value), on_v_model=on_text,
                         label=f"{label} (type {name})" if error else label, error=error, disabled=disabled,
                         class_=" ".join(classes or []), dense=dense, hide_details=hide_details)

    def listen():
        widget = solara.get_widget(field)

        def handler(*_) -> None:
            commit_now.current()

        for event in ("keyup.enter", "focusout"):
            widget.on_event(event, handler)

        def stop() -> None:
            for event in ("keyup.enter", "focusout"):
                widget.on_event(event, handler, remove=True)
        return stop

    solara.use_effect(listen, [])
    return field
