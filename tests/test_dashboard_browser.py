"""The explorer in a real browser: Debian chromium driven by Playwright (no `playwright install`).

`sweep explore CUBE --port P --no-show` serves the panel app in a subprocess; chromium loads the
page, waits for the websocket-delivered bokeh content, changes the z_diss selector and checks
that the SED plot (a screenshot of its element) and the cell summary both change.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import reducer_cubes as rc

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def _chromium_usable() -> str | None:
    """None when chromium runs, else the reason."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not installed (Debian package 'chromium')"
    try:
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--version"],
                           capture_output=True, text=True, timeout=60)
    except Exception as exc:  # noqa: BLE001 - any failure to start means unusable
        return f"{CHROMIUM} cannot run: {exc}"
    if r.returncode != 0:
        return f"{CHROMIUM} --version failed: {r.stderr.strip()[:300]}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sweep_cmd():
    exe = Path(sys.executable).parent / "sweep"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from sweep.cli import main; main()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reason = _chromium_usable()
    if reason:
        print(f"SKIP browser test: {reason}")
        pytest.skip(reason)
    d = tmp_path_factory.mktemp("dash")
    cube = d / "cube.zarr"
    rc.write_cube(cube, z_diss=(10.0, 30.0, 100.0, 300.0, 1000.0))
    from sweep.reduce import reduce_cube

    reduce_cube(cube)  # companion observables: the server need not compute them
    port = _free_port()
    log = open(d / "server.log", "w")
    env = dict(os.environ, BOKEH_LOG_LEVEL="info")
    proc = subprocess.Popen(_sweep_cmd() + ["explore", str(cube), "--port", str(port),
                                            "--no-show"], stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    url = f"http://127.0.0.1:{port}/"
    t0 = time.time()
    while True:
        try:  # a TCP connect only: each HTTP GET would build a whole session
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            break
        except OSError:  # not up yet
            if proc.poll() is not None or time.time() - t0 > 90:
                proc.kill()
                log.close()
                raise RuntimeError("dashboard server did not start:\n"
                                   + (d / "server.log").read_text()[-3000:])
            time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_widget_changes_plot(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            page.goto(server, timeout=60_000)
            # websocket content: the SED's bokeh canvas and the cell summary
            sed = page.locator(".sweep-sed")
            sed.locator("canvas").first.wait_for(state="visible", timeout=60_000)
            info = page.locator(".sweep-info")
            info.get_by_text("selected cell").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # let bokeh finish drawing
            def text():  # the Markdown lives in the element's shadow root
                return " | ".join(info.locator("p, li").all_inner_texts())

            text0 = text()
            shot0 = sed.screenshot()
            assert "z_diss=30" in text0, text0  # first done cell (0,0,0 failed)
            selects = page.locator("select")
            assert selects.count() == 3  # one per axis: sigma0, mdot, z_diss
            selects.nth(2).select_option(index=4)  # z_diss = 1000
            deadline = time.time() + 30
            while time.time() < deadline:
                page.wait_for_timeout(500)
                text1 = text()
                shot1 = sed.screenshot()
                if text1 != text0 and shot1 != shot0:
                    break
            assert "z_diss=1000" in text1, text1
            assert shot1 != shot0, "SED plot did not change after moving the z_diss selector"
            # the seeds' view tab (sweep plot neutrinos as a panel tab) draws its bokeh panels
            page.get_by_text("neutrinos vs hard X-rays", exact=True).click()
            seeds = page.locator(".sweep-seeds")
            seeds.locator("canvas").first.wait_for(state="visible", timeout=60_000)
            assert seeds.locator("canvas").count() >= 1
        finally:
            browser.close()


def test_source_placement_is_stated_and_changes_rates(server):
    """The page says which redshift and declination the fluxes and IceCube rates assume (the
    cube was reduced at the defaults z = 1, dec = 0°); typing another redshift restates it and
    recomputes the cell's IceCube rate (farther source: fewer tracks)."""
    import re

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            page.goto(server, timeout=60_000)
            header = page.locator(".sweep-header")
            header.get_by_text("IceCube rates assume").wait_for(timeout=60_000)
            info = page.locator(".sweep-info")
            info.get_by_text("selected cell").wait_for(timeout=60_000)

            def text(loc):
                return " | ".join(loc.locator("p, li, strong").all_inner_texts())

            assert "redshift z = 1, declination 0°" in text(header), text(header)

            def rate():
                m = re.search(r"icecube_tracks_per_year = ([0-9.e+-]+)", text(info))
                return float(m[1]) if m else None

            r0 = rate()
            assert r0 is not None and r0 > 0, text(info)
            box = page.locator(".sweep-z-source input")
            box.fill("2")
            box.press("Enter")
            deadline = time.time() + 60
            while time.time() < deadline:
                page.wait_for_timeout(500)
                if "z = 2," in text(header) and rate() not in (None, r0):
                    break
            assert "redshift z = 2, declination 0°" in text(header), text(header)
            assert rate() < r0, (rate(), r0)
        finally:
            browser.close()
