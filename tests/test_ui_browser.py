"""provkit ui in Debian's Chromium (headless, driven by Playwright), as a person uses it.

The repository is filled by the example pipelines (examples/ml_pipeline.py and
examples/pipeline.py) plus one uploaded file artifact whose label is an HTML injection;
``provkit ui`` runs as a real server. Screenshots go to $PROVKIT_UI_SCREENSHOTS (the
README's come from ``PROVKIT_UI_SCREENSHOTS=docs/screenshots``), else to a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>window.__pwned = 1</script>"
TOKEN = "t0ken-for-tests"
CLI = [sys.executable, "-c", "from provkit.interfaces.cli import main; main()"]

pytestmark = pytest.mark.slow


def _chromium() -> str:
    found = os.environ.get("PROVKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("Debian's chromium is needed for the browser tests: run scripts/setup.sh")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A repository filled by the examples, served by `provkit ui` locally and on 127.0.0.2 with a token."""
    tmp = tmp_path_factory.mktemp("ui-browser")
    env = {**os.environ, "PROVKIT_HOME": str(tmp / "home")}
    env.pop("PROVKIT_CONFIG", None)
    run = {"env": env, "check": True, "capture_output": True, "text": True, "timeout": 300}
    subprocess.run([sys.executable, str(ROOT / "examples" / "ml_pipeline.py"), "--team", str(tmp / "team")], **run)
    subprocess.run([sys.executable, str(ROOT / "examples" / "pipeline.py")], **run)
    found = subprocess.run([*CLI, "find", '{"name": {"$regex": "build_model$"}}', "--json"], **run).stdout
    model = json.loads(found)[0]
    files = tmp / "report"
    files.mkdir()
    (files / "scores.csv").write_text("metric,value\nauc,0.91\nloss,<b>0.2</b>\n")
    (files / "weights.bin").write_bytes(os.urandom(50_000))
    uploaded = subprocess.run([*CLI, "upload", str(files), "--label", "datatype=report", "--label",
                               f"description={EVIL}", "--based-on", model["id"], "--json"], **run).stdout  # fmt: skip
    report = json.loads(uploaded)
    servers, ports = [], {}
    for name, extra in (("local", []), ("public", ["--host", "127.0.0.2", "--token", TOKEN])):
        port = free_port()
        log = open(tmp / f"ui-{name}.log", "w")  # noqa: SIM115 - closed after the server stops
        proc = subprocess.Popen([*CLI, "ui", "--port", str(port), *extra], env=env, stdout=log, stderr=log)
        servers.append((proc, log))
        ports[name] = port
    try:
        wait_for_port(ports["local"], proc=servers[0][0])
        _wait_on("127.0.0.2", ports["public"], servers[1][0])
        shots = Path(os.environ.get("PROVKIT_UI_SCREENSHOTS") or tmp / "screenshots")
        shots.mkdir(parents=True, exist_ok=True)
        yield {"local": f"http://127.0.0.1:{ports['local']}", "public": f"http://127.0.0.2:{ports['public']}",
               "model": model, "report": report, "files": files, "shots": shots}  # fmt: skip
    finally:
        for proc, log in servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _wait_on(host: str, port: int, proc: subprocess.Popen) -> None:
    import socket
    import time

    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"provkit ui exited with {proc.returncode} before listening on {host}:{port}")
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


def _shot(page, site, name: str) -> None:
    path = site["shots"] / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_search_open_result_and_label_shown_as_text(site, page):
    page.goto(site["local"] + "/search")
    page.fill("textarea[name=q]", '{"labels.datatype": "report"}')
    page.click("button[type=submit]")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 1
    _shot(page, site, "search")
    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/artifacts/{site['report']['id']}")
    assert page.get_by_text(EVIL).count() >= 1  # the label is text on the page ...
    assert page.evaluate("window.__pwned") is None  # ... and never ran
    assert page.locator("code", has_text=f'p.load_proxy("{site["report"]["id"]}")').count() == 1
    _shot(page, site, "artifact")


def test_malformed_query_shows_an_inline_error(site, page):
    page.goto(site["local"] + "/search")
    page.fill("textarea[name=q]", '{"name": {"$nearly": 1}}')
    page.click("button[type=submit]")
    assert "$nearly" in page.inner_text("#query-error")
    assert page.input_value("textarea[name=q]") == '{"name": {"$nearly": 1}}'  # kept for fixing


def test_download_a_file_and_compare_bytes(site, page, tmp_path):
    page.goto(f"{site['local']}/artifacts/{site['report']['id']}")
    with page.expect_download() as info:
        page.locator("#files tr", has_text="weights.bin").locator("a.download").click()
    saved = tmp_path / "weights.bin"
    info.value.save_as(saved)
    assert saved.read_bytes() == (site["files"] / "weights.bin").read_bytes()
    page.locator("#files tr", has_text="scores.csv").get_by_text("preview").click()
    assert page.locator("#preview td", has_text="<b>0.2</b>").count() == 1


def test_follow_lineage_links_two_levels(site, page):
    model_id = site["model"]["id"]
    page.goto(f"{site['local']}/artifacts/{site['report']['id']}")
    page.get_by_text("lineage ↑").click()
    page.wait_for_url("**/lineage/**")
    _shot(page, site, "lineage")
    page.locator(f'#graph a[*|href="/artifacts/{model_id}"]').first.click()  # a node of the picture
    page.wait_for_url(f"**/artifacts/{model_id}")
    assert "build_model" in page.inner_text("h1")
    parents = site["model"]["based_on"]
    page.get_by_text("lineage ↑").click()
    page.wait_for_url(f"**/lineage/{model_id}")
    node = page.locator("#graph a[*|href^='/artifacts/']").filter(has_text="extract_features_a").first
    target = node.get_attribute("xlink:href").rsplit("/", 1)[1]
    node.click()
    page.wait_for_url(f"**/artifacts/{target}")
    assert target in parents and "extract_features_a" in page.inner_text("h1")


def test_dataset_by_name_and_its_execution(site, page):
    page.goto(site["local"] + "/datasets/Dataset%203.1")
    assert "Dataset 3.1" in page.inner_text("h1")
    page.locator("a[href^='/executions/']").first.click()
    assert "pipeline-stage-3" in page.inner_text("h1")
    page.locator("#inputs a").first.click()
    assert "Dataset 2.1" in page.inner_text("h1")


def test_public_bind_needs_the_token(site, page):
    denied = page.goto(site["public"] + "/search")
    assert denied.status == 401 and "token" in page.inner_text("body")
    page.goto(f"{site['public']}/?token={TOKEN}")
    assert page.url == site["public"] + "/search"  # the token left the address bar ...
    page.goto(f"{site['public']}/artifacts/{site['model']['id']}")
    assert "build_model" in page.inner_text("h1")  # ... and a cookie carries it
