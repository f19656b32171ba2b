"""provkit ui through Starlette's TestClient, on SQLite and a real Postgres server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

import provkit as p
from provkit.interfaces.ui import create_app
from provkit.storage.blobstores.disk import DiskStore
from provkit.storage.repos.sql import SqlRepo

EVIL = "<script>alert('x')</script>"


def _fill(repo, tmp_path) -> dict[str, str]:
    """A chain load -> double -> total, a file artifact (CSV + JSON, an HTML-injection
    label) based on total, 7 more artifacts for paging, a set, an execution + dataset."""

    @p.provenance(repo=repo)
    def load(n):
        return list(range(n))

    @p.provenance(repo=repo)
    def double(xs):
        return [2 * x for x in xs]

    @p.provenance(repo=repo)
    def total(xs):
        return sum(xs)

    a = load(5)
    b = double(a)
    c = total(b)
    for n in range(7):
        load(100 + n)
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "table.csv").write_text("x,y\n1,2\n3,<b>4</b>\n")
    (folder / "conf.json").write_text('{"lr": 0.1}')
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 4)
    with p.using_repo(repo):
        f = p.Files().upload([folder], labels={"datatype": "report", "description": EVIL}, based_on=[c])
        s = p.create_set([a, b, c], "chain")
    reg = p.Registry(repo, owner="ana")
    ex = reg.register_execution("stage-1", input_datasets=[c], configuration="lr: 0.1")
    data = tmp_path / "data.csv"
    data.write_text("k,v\n1,2\n")
    ds = reg.register_dataset("tables/data", "1.0.0", name="my data", old_location=data, execution_id=ex,
                              keywords=["sim"])  # fmt: skip
    return {"a": a.artifact.id, "b": b.artifact.id, "c": c.artifact.id, "f": f.artifact.id, "set": s.id,
            "ex": ex.id, "ds": ds.id}  # fmt: skip


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def site(request, tmp_path):
    """(TestClient, ids, repo) over a filled repository of each kind."""
    store = DiskStore(str(tmp_path / "blobs"))
    if request.param == "memory":
        from provkit.storage.repos.memory import MemoryRepo

        repo = MemoryRepo(store)
    elif request.param == "sqlite":
        repo = SqlRepo(f"sqlite:///{tmp_path / 'ui.db'}", store)
    else:
        from provkit.storage.repos.sql.postgres import PostgresRepo

        repo = PostgresRepo(request.getfixturevalue("postgres_url"), store)
    ids = _fill(repo, tmp_path)
    return TestClient(create_app(repo)), ids, repo


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_search_pages_through_results_with_the_query_language(site):
    client, _, repo = site
    seen = []
    url = "/search?" + f"q={quote(json.dumps({'name': {'$regex': 'load$'}}))}&limit=3"
    pages = 0
    while url:
        page = client.get(url.replace("&amp;", "&"))
        assert page.status_code == 200
        seen += re.findall(r'href="/artifacts/(x1[0-9a-f]+)"', page.text)
        nxt = re.search(r'id="next-page" href="([^"]+)"', page.text)
        url = nxt.group(1) if nxt else None
        pages += 1
    expected = [x.id for x in p.find_artifacts({"name": {"$regex": "load$"}}, repo=repo)]
    assert seen == expected and len(expected) == 8 and pages == 3  # 3 + 3 + 2, newest first, no repeats


def test_quick_filters_and_kinds(site):
    client, ids, _ = site
    files = client.get("/search?kind=files")
    assert ids["f"] in files.text and ids["a"] not in files.text
    labelled = client.get("/search?label=datatype%3Dreport")
    assert ids["f"] in labelled.text and ids["b"] not in labelled.text
    assert ids["ds"] in client.get("/search?kind=datasets&q=" + quote('{"keywords": "sim"}')).text
    assert ids["ex"] in client.get("/search?kind=executions&name=stage-1").text
    assert ids["set"] in client.get("/search?kind=sets").text
    none = client.get("/search?since=2999-01-01")
    assert "Nothing matches" in none.text
    from datetime import datetime, timezone

    today = datetime.now(timezone.utc).date().isoformat()  # "until <day>" includes the whole day
    assert ids["f"] in client.get(f"/search?until={today}").text
    assert ids["ex"] in client.get(f"/search?kind=executions&since={today}&until={today}").text


def test_malformed_queries_get_an_inline_error(site):
    client, _, _ = site
    bad_json = client.get("/search?q=" + quote("{name"))
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.text and 'id="query-error"' in bad_json.text
    bad_op = client.get("/search?q=" + quote('{"name": {"$near": 1}}'))
    assert bad_op.status_code == 400 and "$near" in bad_op.text
    assert client.get("/search?limit=0").status_code == 400
    assert client.get("/search?kind=planets").status_code == 400


def test_artifact_page_shows_run_inputs_and_copyable_lines(site):
    client, ids, _ = site
    page = client.get(f"/artifacts/{ids['b']}")
    assert page.status_code == 200
    assert f'href="/artifacts/{ids["a"]}"' in page.text  # the input links to its page
    assert f"p.load_proxy(&#34;{ids['b']}&#34;)" in page.text and f"provkit show {ids['b']}" in page.text
    assert "argv" in page.text and "git commit" in page.text
    assert f'href="/lineage/{ids["b"]}"' in page.text


def test_file_artifact_preview_and_download(site, tmp_path):
    client, ids, _ = site
    page = client.get(f"/artifacts/{ids['f']}")
    assert "table.csv" in page.text and f"provkit get {ids['f']}" in page.text
    assert EVIL not in page.text and "&lt;script&gt;" in page.text  # shown as text
    raw = client.get(f"/artifacts/{ids['f']}/files/blob.bin")
    assert raw.content == (tmp_path / "upload" / "blob.bin").read_bytes()
    assert raw.headers["content-disposition"].startswith("attachment")
    table = client.get(f"/artifacts/{ids['f']}/preview/table.csv")
    assert "<td>&lt;b&gt;4&lt;/b&gt;</td>" in table.text
    assert "&#34;lr&#34;: 0.1" in client.get(f"/artifacts/{ids['f']}/preview/conf.json").text
    assert client.get(f"/artifacts/{ids['f']}/files/nope.txt").status_code == 404
    assert client.get(f"/files/{ids['f']}", follow_redirects=False).headers["location"] == f"/artifacts/{ids['f']}"


def test_set_dataset_and_execution_pages(site):
    client, ids, _ = site
    members = client.get(f"/sets/{ids['set']}").text
    assert all(f"/artifacts/{ids[k]}" in members for k in "abc")
    ds = client.get(f"/datasets/{ids['ds']}")
    assert ds.status_code == 200 and f'href="/executions/{ids["ex"]}"' in ds.text and "1.0.0" in ds.text
    download = re.search(r'class="download" href="([^"]+)"', ds.text).group(1)
    assert client.get(download).content == b"k,v\n1,2\n"
    by_name = client.get("/datasets/" + quote("my data"))
    assert by_name.status_code == 200 and ids["ds"] in by_name.text  # the name is an alias of the newest version
    ex = client.get(f"/executions/{ids['ex']}")
    assert f'href="/datasets/{ids["ds"]}"' in ex.text and f'href="/artifacts/{ids["c"]}"' in ex.text
    assert "lr: 0.1" in ex.text


def test_lineage_page_uses_the_lineage_functions_and_links_nodes(site):
    from provkit import lineage

    client, ids, repo = site
    page = client.get(f"/lineage/{ids['f']}?depth=2&direction=up")
    assert page.status_code == 200
    expected = lineage.ancestors(ids["f"], 2, repo)
    listed = set(re.findall(r'<td><a href="/artifacts/(x1[0-9a-f]+)">', page.text))
    assert listed == set(expected) == {ids["c"], ids["b"]}
    assert f'xlink:href="/artifacts/{ids["b"]}"' in page.text  # a node of the picture is a link
    assert EVIL not in page.text
    down = client.get(f"/lineage/{ids['a']}?depth=10&direction=down").text
    assert all(f"/artifacts/{ids[k]}" in down for k in ("b", "c", "f")) and f"/executions/{ids['ex']}" in down
    assert client.get(f"/lineage/{ids['a']}?direction=sideways").status_code == 400
    assert client.get(f"/lineage/{ids['a']}?depth=-1").status_code == 400


def test_not_found_and_errors_never_show_the_database_address(site):
    client, _, repo = site
    url = str(repo._engine.url) if hasattr(repo, "_engine") else repr(repo)
    for path in ("/artifacts/x1deadbeef", "/datasets/ds_nope", "/executions/ex_nope", "/sets/x1nope", "/lineage/x1no"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert url not in page.text and "sqlite://" not in page.text and "postgresql" not in page.text


def test_read_only_and_token(tmp_path):
    repo = SqlRepo(f"sqlite:///{tmp_path / 't.db'}", DiskStore(str(tmp_path / "b")))
    client = TestClient(create_app(repo, token="s3cret"))
    assert client.get("/search").status_code == 401
    assert client.get("/search", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/search", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = client.get("/search?kind=sets&token=s3cret", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/search?kind=sets"
    assert client.get("/search").status_code == 200  # the cookie now carries it
    open_client = TestClient(create_app(repo))
    assert open_client.post("/search").status_code == 405
    headers = open_client.get("/search").headers
    assert "script-src 'self'" in headers["content-security-policy"] and headers["server-timing"].startswith("app;dur=")


def test_cli_refuses_a_public_bind_without_token(tmp_path):
    env_home = str(tmp_path / "home")
    proc = subprocess.run([sys.executable, "-c", "from provkit.interfaces.cli import main; main()", "ui", "--host",
                           "0.0.0.0", "--port", "1"], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PROVKIT_HOME": env_home})  # fmt: skip
    assert proc.returncode == 1 and "--token" in proc.stderr


def test_missing_extra_gives_the_install_hint(monkeypatch):
    import importlib.util

    from provkit.interfaces import ui

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    with pytest.raises(p.ProvkitError, match=r"pip install 'provkit\[ui\]'.*uvicorn"):
        ui.create_app()


def test_paging_keeps_ties_and_undated_rows_in_order(tmp_path, request):
    """Keyset pages cross equal timestamps and the undated tail without a gap or repeat."""
    from datetime import datetime, timedelta, timezone

    from provkit import Artifact
    from provkit import hash as hash_value
    from provkit.core.runs import current_run_info
    from provkit.storage.repos.memory import MemoryRepo
    from provkit.storage.repos.sql.postgres import PostgresRepo

    store = DiskStore(str(tmp_path / "blobs"))
    repos = [MemoryRepo(store), SqlRepo(f"sqlite:///{tmp_path / 'k.db'}", store),
             PostgresRepo(request.getfixturevalue("postgres_url"), store)]  # fmt: skip
    t = datetime(2026, 3, 1, tzinfo=timezone.utc)
    times = [t] * 7 + [None] * 3 + [t + timedelta(seconds=s) for s in (-5, 1, 2, 3)]
    for repo in repos:
        items = [(Artifact(hash_value(("tie", i)), hash_value(i), "tie", fn_module="m", fn_name="f", serializer="json",
                           computed_at=when, inputs_json={}, input_artifact_ids=[]), i)
                 for i, when in enumerate(times)]  # fmt: skip
        repo.save_batch(items, run_info=current_run_info())
        client, seen, url = TestClient(create_app(repo)), [], "/search?name=tie&limit=3"
        while url:
            page = client.get(url)
            assert page.status_code == 200, page.text[-400:]
            seen += re.findall(r'href="/artifacts/(x1[0-9a-f]+)"', page.text)
            nxt = re.search(r'id="next-page" href="([^"]+)"', page.text)
            url = nxt.group(1).replace("&amp;", "&") if nxt else None
        assert seen == [a.id for a in p.find_artifacts({"name": "tie"}, repo=repo)], repo
        assert len(seen) == len(set(seen)) == len(times)
