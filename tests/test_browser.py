"""A real browser opens the course in JupyterLab and moves sliders.

Proves what nbval cannot: that `make lab`'s server serves the course, that the
widget extension renders the demos as sliders (not the text fallback), and that
moving a slider redraws the figure: in detail for the start page, and for the
first demo of every lesson after running the whole lesson in the browser.  Runs headless Debian Chromium through
Playwright; skipped (with the reason) only where Chromium is absent.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rflesson.course.widgets import STATIC_HINT, WIDGET_VIEW

ROOT = Path(__file__).resolve().parent.parent
# Debian's Chromium; RFLESSON_CHROMIUM names another binary (e.g. /usr/bin/chromium-browser).
CHROMIUM = Path(os.environ.get("RFLESSON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60
# A whole lesson runs in the browser within this; generous, as a busy 2-core machine runs
# the slowest lessons several times slower than their 30 s budget (a limit, not a benchmark).
LESSON_RUN_MS = 300_000

HOW_TO_GET_CHROMIUM = (
    f"Chromium is not installed at {CHROMIUM}; to get it: `sudo apt-get install chromium` "
    "(Debian/Ubuntu; `.ci/run` does this), then `make test` again."
)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=HOW_TO_GET_CHROMIUM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A fresh JupyterLab on a free port, no token, all its state in a temp dir."""
    home = tmp_path_factory.mktemp("lab-home")
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(home / name.lower())
    env["MPLCONFIGDIR"] = str(home / "matplotlib")
    # render every cell, even off screen, so that the lesson tests can count the demos
    settings = home / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}'
    )
    # never save: a lesson run in the browser must not overwrite the stored notebook
    (settings / "docmanager-extension").mkdir()
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        '{"autosave": false, "autosaveInterval": 5}'  # 5 s: a save would show
    )
    env["JUPYTERLAB_SETTINGS_DIR"] = str(home / "settings")
    env.pop("MPLBACKEND", None)
    port = _free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        f"--port={port}", "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=", "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",  # lets the test stop kernels over REST
        f"--ServerApp.root_dir={ROOT}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/api", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, driven by Playwright (never `playwright install`)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: run `make test`, which installs it.",
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open_and_run_all(browser, lab: str, name: str, timeout_ms: int):
    """Open notebook ``name`` in JupyterLab, start Run All Cells; return (page, notebook panel)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(timeout_ms)
    page.goto(f"{lab}/lab/tree/notebooks/{name}?reset")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.wait_for(state="attached")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    return page, panel


def _stored(name: str) -> bytes:
    return (ROOT / "notebooks" / name).read_bytes()


def _shut_down_kernels(lab: str) -> None:
    """Stop every kernel the server runs (each lesson's kernel holds up to ~700 MB)."""
    with urllib.request.urlopen(f"{lab}/api/kernels", timeout=10) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{lab}/api/kernels/{kernel['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()


def test_start_here_demo_renders_and_responds(lab, browser, tmp_path):
    stored = _stored("00_start_here.ipynb")
    page, panel = _open_and_run_all(browser, lab, "00_start_here.ipynb", 60_000)
    try:
        slider = panel.locator(".widget-slider").first
        slider.wait_for(state="attached")
        slider.scroll_into_view_if_needed()
        assert panel.locator(".widget-slider").count() == 4, "four sliders in the demo"
        assert "VBox(children" not in " ".join(
            panel.locator(".jp-OutputArea-output").all_inner_texts()
        )
        _assert_each_demo_shows_once(page, _demo_cells("00_start_here.ipynb"))

        readout = panel.locator(".widget-readout").first
        image = panel.locator(".widget-image").first
        text = panel.locator(".widget-html-content", has_text="Output length").first
        text.wait_for()
        before = (readout.inner_text(), image.get_attribute("src"), text.inner_text())
        assert before[0] == "7"

        handle = panel.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_function(
            "([el, old]) => el.innerText !== old",
            arg=[text.element_handle(), before[2]],
        )
        after = (readout.inner_text(), image.get_attribute("src"), text.inner_text())
        assert after[0] == "8"
        assert after[1] != before[1], "the figure was redrawn"
        assert "floor((8 + 2·1 − 3) / 2) + 1 = 4" in after[2]
        page.screenshot(path=str(tmp_path / "start_here.png"), full_page=False)
        assert (tmp_path / "start_here.png").stat().st_size > 10_000
        assert _stored("00_start_here.ipynb") == stored, "the browser run saved the notebook"
    finally:
        page.close()
        _shut_down_kernels(lab)


LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("0[1-9]_*.ipynb"))


def _demo_cells(name: str) -> list[int]:
    """Positions, among the code cells of a stored notebook, of the cells showing a demo."""
    cells = json.loads((ROOT / "notebooks" / name).read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    return [
        i for i, c in enumerate(code) if any(WIDGET_VIEW in o.get("data", {}) for o in c["outputs"])
    ]


PICTURES_PER_CODE_CELL = r"""(hint) => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')].map(cell => {
        const outputs = cell.querySelector('.jp-OutputArea');
        return {
            live: cell.querySelectorAll('.jp-OutputArea img.widget-image').length,
            pictures: cell.querySelectorAll('.jp-OutputArea img').length,
            hint: outputs !== null && outputs.innerText.includes(hint),
        };
    })"""


def _assert_each_demo_shows_once(page, demos: list[int]) -> None:
    """Each demo cell shows one live widget and no second, static picture; no other cell does."""
    page.wait_for_function(
        "(n) => document.querySelectorAll("
        "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea img.widget-image').length >= n",
        arg=len(demos),
    )
    cells = page.evaluate(PICTURES_PER_CODE_CELL, STATIC_HINT)
    for index, cell in enumerate(cells):
        if index in demos:
            assert cell == {"live": 1, "pictures": 1, "hint": False}, f"code cell {index}: {cell}"
        else:
            assert cell["live"] == 0 and not cell["hint"], f"code cell {index}: {cell}"


def test_before_running_a_stored_demo_shows_its_picture_and_how_to_move_it(lab, browser):
    """A notebook opened, not run: JupyterLab cannot show the widget, so it shows the picture."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{lab}/lab/tree/notebooks/00_start_here.ipynb?reset")
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").first.wait_for()
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
        cells = page.evaluate(PICTURES_PER_CODE_CELL, STATIC_HINT)
        for index in _demo_cells("00_start_here.ipynb"):
            assert cells[index] == {"live": 0, "pictures": 1, "hint": True}, cells[index]
        outputs = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea")
        text = " ".join(outputs.all_inner_texts())
        assert "Error displaying widget" not in text and "VBox(children" not in text
    finally:
        page.close()
        _shut_down_kernels(lab)


@pytest.mark.parametrize("name", LESSONS)
def test_every_lesson_runs_in_the_browser_and_its_first_demo_responds(lab, browser, name):
    stored = _stored(name)
    page, panel = _open_and_run_all(browser, lab, name, LESSON_RUN_MS)
    try:
        # every code cell has run when every prompt shows a number
        page.wait_for_function(
            r"""() => {
                const prompts = [...document.querySelectorAll(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
                return prompts.length > 0 && prompts.every(p => /\[\d+\]/.test(p.innerText));
            }"""
        )
        outputs = " ".join(panel.locator(".jp-OutputArea-output").all_inner_texts())
        assert "Traceback" not in outputs and "Error displaying widget" not in outputs
        assert panel.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert "VBox(children" not in outputs, "a demo fell back to text"
        _assert_each_demo_shows_once(page, _demo_cells(name))

        demo = panel.locator(".jp-OutputArea-output .widget-vbox").first
        demo.scroll_into_view_if_needed()
        handle = demo.locator(".noUi-handle").first
        image = demo.locator(".widget-image").first
        before = image.get_attribute("src")
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        handle.press("ArrowLeft" if at_max else "ArrowRight")
        page.wait_for_function(
            "([el, old]) => el.getAttribute('src') !== old",
            arg=[image.element_handle(), before],
        )
        assert _stored(name) == stored, "the browser run saved the notebook"
    finally:
        page.close()
        _shut_down_kernels(lab)
