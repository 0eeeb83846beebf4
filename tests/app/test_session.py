"""A tab's run, kept run and worker thread (sim/app/session.py): nothing a click asks for is lost."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from sim.app import figures as F
from sim.app.session import READOUTS, Run, Session
from sim.app.settings import FirmSetting, Settings
from sim.settings.schema import ConfigError

SMALL = 2000


def test_steps_stop_at_the_horizon():
    run = Run(Settings(scenario="baseline", customers=500))
    n = run.horizon
    for _ in range(n):
        assert not run.ended
        assert run.step()
    assert run.step_now == n and run.ended
    assert not run.step()  # nothing beyond the horizon (the recorder has n slots)
    assert run.step_now == n and run.data().sizes["step"] == n
    assert run.status() == f"step {n} of {n}, seed 0: end of the run" or "exits" in run.status()


def test_status_line_names_entry_and_shock():
    run = Run(Settings(customers=SMALL, enter_step=6, shock=True, shock_start=4))
    assert run.status().startswith("step 0 of 120, seed 0: scenario disruptor, 2,000 customers, 4 firms")
    lines, prices = {}, {}
    for _ in range(17):
        run.step()
        lines[run.step_now] = run.status()
        prices[run.step_now] = next(f.price for f in run.sim.agents if f.name == "disruptor")
    assert lines[4] == "step 4 of 120, seed 0: shock starts: human capacity cut, customers pushed online"
    assert lines[5] == "step 5 of 120, seed 0: no entry, exit or shock"
    # the price it charges at entry (Nash pricing with the penetration cut moves it off the list price 0.80)
    assert lines[6].startswith(f"step 6 of 120, seed 0: disruptor enters (digital only, price {prices[6]:.2f})")
    assert lines[16].startswith("step 16 of 120, seed 0: shock ends")
    assert [s for s, _ in run.events()] == sorted(s for s, _ in run.events())  # the log keeps every event


def test_events_find_exits():
    run = Run(Settings(scenario="baseline", customers=SMALL))
    while run.step():
        pass
    ds = run.data()
    exits = [(s, t) for s, t in F.events(ds) if "exits" in t]
    alive = ds["alive"].values.astype(bool)
    expected = [(int(ds.step[i]), f"{ds.firm.values[j]} exits (its reserves ran out)")
                for i in range(1, len(ds.step)) for j in range(len(ds.firm)) if alive[i - 1, j] and not alive[i, j]]
    assert exits == expected and exits  # the baseline's "neither" firm runs through its reserves


def test_readouts_are_the_recorded_market_variables():
    run = Run(Settings(customers=SMALL))
    at0 = run.readouts()
    assert set(at0) == set(READOUTS) and all(np.isfinite(v) for v in at0.values())
    for _ in range(3):
        run.step()
    ds = run.data()
    assert run.readouts() == {v: float(ds[v].values[-1]) for v in READOUTS}


def test_apply_from_now_changes_the_running_model_only_from_its_step():
    s = Settings(scenario="baseline", customers=SMALL)
    run, twin = Run(s), Run(s)
    for _ in range(5):
        run.step()
        twin.step()
    moved = FirmSetting(0.9, 0.2, 1.3, "hard", 0.8)
    texts = run.apply_now({"human_only": moved}, Settings(scenario="baseline", customers=SMALL,
                                                         firms={"human_only": moved}))
    assert texts == ["human_only: digital 0.25 → 0.9, human 0.8 → 0.2, price 1.1 → 1.3, steering none → hard (0.8) "
                     "(applied from now)"] or texts[0].startswith("human_only: digital")
    assert run.events()[-1] == (5, texts[0])
    for _ in range(3):
        run.step()
        twin.step()
    a, b = run.data(), twin.data()
    j = list(a.firm.values).index("human_only")
    np.testing.assert_array_equal(a["share"].values[:5], b["share"].values[:5])  # the past is the same run
    assert a["human"].values[-1, j] == pytest.approx(0.2) and b["human"].values[-1, j] == pytest.approx(0.8)
    assert run.sim.cfg.firms["human_only"].steering == "hard"
    with pytest.raises(ConfigError, match="firms.human_only.price"):
        run.apply_now({"human_only": FirmSetting(0.9, 0.2, -1.0)}, run.settings)
    assert run.sim.cfg.firms["human_only"].price == 1.3  # a refused change changes nothing


def _session(**kw) -> Session:
    return Session(Settings(**{"customers": SMALL, **kw}))


def test_many_quick_changes_build_once():
    s = _session(scenario="baseline")
    firm = s.run.sim.cfg.firms["both"]
    for k in range(12):  # an arrow key held on a slider
        s.change(Settings(scenario="baseline", customers=SMALL,
                          firms={"both": FirmSetting(firm.digital, round(0.8 - 0.05 * k, 2), firm.price)}))
        assert s.building
        time.sleep(0.03)
    assert s.wait_idle(60)
    assert s.builds == s.builds_started == 2 and s.run.sim.cfg.firms["both"].human == pytest.approx(0.25)
    s.change(s.settings)  # the slider reports its value again (losing focus): no rebuild
    assert not s.building and s.wait_idle(10) and s.builds == 2
    s.close()


def test_play_to_the_end_then_a_change_then_play_again():
    s = _session(scenario="baseline", customers=500)
    s.set_speed(30)
    s.play()
    assert s.wait_idle(120)
    assert s.run.step_now == 120 and not s.playing
    s.change(Settings(scenario="baseline", customers=600))
    s.play()  # pressed while the change waits to build: plays the new model
    deadline = time.monotonic() + 60
    while (s.builds < 2 or s.run.step_now < 10) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.run.sim.cfg.customers.n == 600 and s.run.step_now >= 10
    s.pause()
    assert s.wait_idle(10)
    s.play()  # and again, after a pause
    time.sleep(0.3)
    assert s.playing or s.run.step_now > 10
    s.close()


def test_play_at_the_end_plays_again_from_step_0():
    s = _session(scenario="baseline", customers=300)
    s.set_speed(30)
    s.play()
    assert s.wait_idle(120) and s.run.ended
    s.play()
    deadline = time.monotonic() + 60
    while not (0 < s.run.step_now < 120) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert 0 < s.run.step_now < 120 and s.builds == 2
    s.close()


def test_steps_pressed_while_building_step_the_new_model():
    s = _session()
    s.change(Settings(customers=SMALL, seed=4))
    s.step()
    s.step()
    assert s.wait_idle(60)
    assert s.run.sim.cfg.seed == 4 and s.run.step_now == 2
    s.close()


def test_after_an_error_the_controls_work_again():
    s = _session()
    s.change(Settings(customers=0))
    s.play()
    assert s.wait_idle(30)
    assert s.run.error and "customers.n" in s.run.error and not s.playing
    s.change(Settings(customers=SMALL))
    s.step()
    assert s.wait_idle(60)
    assert s.run.error is None and s.run.step_now == 1
    s.close()


def test_a_click_while_the_worker_winds_down_is_done():
    """A worker that found nothing to do can still be alive for a while as it leaves (on Python 3.13
    long enough to lose the next click every time): what is asked meanwhile gets a new worker."""
    leaving = threading.Event()

    class SlowToClose:  # the page's kernel context, here taking 0.5 s to close
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            leaving.set()
            time.sleep(0.5)

    s = Session(Settings(customers=SMALL), context=SlowToClose())
    s.step()
    assert leaving.wait(60) and s.run.step_now == 1  # the step is done, the worker is leaving
    s.change(Settings(customers=SMALL, seed=3))
    s.step()
    assert s.wait_idle(20)
    assert s.run.sim.cfg.seed == 3 and s.run.step_now == 1
    s.close()


def test_the_page_reads_a_step_whole():
    """The page draws from its own thread while the worker steps (after a click, or when drawing takes
    longer than SHOW_WAIT): it reads the run before or after a step, never in the middle of one (there
    the model counts the step and has not recorded it: the read-outs raised IndexError, the page's
    status row failed and play waited SHOW_WAIT for every later step)."""
    run = Run(Settings(customers=SMALL))
    inside, go_on = threading.Event(), threading.Event()
    record = run.sim.recorder.record

    def held_record(*args, **kwargs):
        inside.set()
        assert go_on.wait(60)
        return record(*args, **kwargs)

    run.sim.recorder.record = held_record
    stepping = threading.Thread(target=run.step)
    stepping.start()
    try:
        assert inside.wait(60)  # mid-step
        seen: dict = {}
        reader = threading.Thread(target=lambda: seen.update(readouts=run.readouts(), status=run.status(),
                                                             firms=run.firms(), data=run.data()))
        reader.start()
    finally:
        go_on.set()
        stepping.join(60)
    reader.join(60)
    assert seen["status"].startswith("step 1 of 120") and seen["data"].sizes["step"] == 1
    assert all(np.isfinite(v) for v in seen["readouts"].values())


def test_reset_rebuilds_what_the_sidebar_shows():
    s = _session(scenario="baseline")
    s.change(Settings(scenario="baseline", customers=SMALL + 100, seed=3))
    s.reset()
    assert s.wait_idle(60)
    cfg = s.run.sim.cfg
    assert (cfg.scenario, cfg.customers.n, cfg.seed, s.run.step_now) == ("baseline", SMALL + 100, 3, 0)
    s.close()


def test_apply_from_now_mode_keeps_the_step():
    s = _session(scenario="baseline")
    for _ in range(4):
        s.step()
    assert s.wait_idle(30) and s.run.step_now == 4
    s.set_mode("now")
    firm = FirmSetting(0.9, 0.9, 1.0)
    s.change(Settings(scenario="baseline", customers=SMALL, firms={"neither": firm}))
    assert not s.building and s.run.step_now == 4 and s.builds == 1
    assert "neither: digital 0.2 → 0.9" in s.run.events()[-1][1]
    s.change(Settings(scenario="baseline", customers=SMALL + 1, firms={"neither": firm}))  # not a firm: restart
    assert s.wait_idle(60) and s.run.step_now == 0 and s.builds == 2
    s.close()


def test_pause_at_events():
    s = _session(enter_step=5)
    s.set_speed(30)
    s.set_pause_at_events(True)
    s.play()
    assert s.wait_idle(60)
    assert s.run.step_now == 5 and s.note.startswith("paused at step 5: disruptor enters")


def test_play_waits_for_the_page_to_draw_each_step():
    drawn = threading.Event()
    s = _session()
    s.on_change = drawn.set
    s.set_speed(30)
    s.play()
    assert drawn.wait(10)
    time.sleep(0.5)
    assert s.run.step_now == 1  # the page has not said it drew step 1
    s.drawn()
    time.sleep(0.5)
    assert s.run.step_now == 2
    s.close()


def test_keep_a_run():
    s = _session()
    s.keep()
    assert s.kept is None and "nothing to keep" in s.note
    for _ in range(3):
        s.step()
    assert s.wait_idle(30)
    s.keep()
    assert s.kept.data.sizes["step"] == 3 and "seed 0" in s.kept.label
    s.forget_kept()
    assert s.kept is None
