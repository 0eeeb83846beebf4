"""Screenshots of the classroom page for the README (``docs/lecture/page*.png``).

Starts ``python -m sim.app`` on a free local port, opens it in headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright, as ``tests/test_app.py`` does),
plays the default scenario to step 48 or just after (the disruptor entered at step
36) and saves the page; then enters 0 customers and saves the top of the page with
its one-line error.

Usage: ``python docs/lecture/make_screenshots.py`` (about half a minute).
"""

from __future__ import annotations

import os
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


def main() -> int:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PORT=str(port), SIM_APP_HOST="127.0.0.1")
    server = subprocess.Popen([sys.executable, "-m", "sim.app.page"], cwd=ROOT, env=env,
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
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector(".cs-status:has-text('step 0 of')", timeout=120_000)
            page.get_by_role("button", name="▶").click()
            page.wait_for_function("() => parseInt(document.querySelector('.cs-status').innerText.split(' ')[1]) >= 48",
                                   timeout=180_000)
            page.get_by_role("button", name="❚❚").click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(HERE / "page.png"))
            page.get_by_label("customers").fill("0")
            page.get_by_label("customers").press("Enter")
            page.wait_for_selector(".cs-error >> nth=0", timeout=30_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(HERE / "page-error.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 420})
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wrote {HERE / 'page.png'} and {HERE / 'page-error.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
