"""Screenshots of the classroom page for the guide and docs/CLASSROOM.md (``docs/lecture/page*.png``).

Starts ``python -m sim.app`` on a free local port, opens it at 1400 x 900 in headless
Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright, as
``tests/app/test_page.py`` does) and saves:

* ``page.png``: the default scenario (disruptor) played to step 48 or just after (the
  disruptor entered at step 36), with the run before it kept: the disruptor switched off
  and played to step 48 first, kept, then switched back on (faint lines: the run without
  the disruptor);
* ``page-error.png``: the top of the page after entering 0 customers (its one-line error).

Usage: ``python docs/lecture/make_screenshots.py`` (about two minutes).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
STEP = "() => parseInt(document.querySelector('.cs-status').innerText.split(' ')[1])"


def play_to(page, step: int) -> None:
    page.locator(".cs-play").click()
    page.wait_for_function(f"{STEP} >= {step}", timeout=300_000)
    page.locator(".cs-pause").click()
    page.wait_for_selector(".cs-play", timeout=60_000)


def main() -> int:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PORT=str(port), SIM_APP_HOST="127.0.0.1")
    server = subprocess.Popen([sys.executable, "-m", "sim.app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector(".cs-status:has-text('step 0 of')", timeout=120_000)
            speed = page.locator(".cs-speed .cs-value input")
            speed.fill("20")
            speed.press("Enter")
            page.locator("label", has_text=re.compile("^disruptor enters$")).click()
            page.wait_for_function("() => document.querySelectorAll('.cs-firm-row').length === 4", timeout=120_000)
            play_to(page, 48)
            page.locator(".cs-keep").click()
            page.wait_for_selector(".cs-kept-row", timeout=60_000)
            page.locator("label", has_text=re.compile("^disruptor enters$")).click()
            page.wait_for_function("() => document.querySelectorAll('.cs-firm-row').length === 5", timeout=120_000)
            play_to(page, 48)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / "page.png"))
            field = page.get_by_label("customers")
            field.fill("0")
            field.press("Enter")
            page.wait_for_selector(".cs-error >> nth=0", timeout=60_000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(HERE / "page-error.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 420})
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {HERE / 'page.png'} and {HERE / 'page-error.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
