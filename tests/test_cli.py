"""The provkit command line, run as a real subprocess: outputs and exit codes."""

from __future__ import annotations

import json


def test_upload_ls_find_show_get_lineage(cli, tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    (data / "x.csv").write_text("a,b\n1,2\n")
    raw = cli("upload", str(data / "x.csv"), "-l", "datatype=raw", "--info", "source=lab").stdout.strip()
    derived = json.loads(
        cli("upload", str(data / "x.csv"), "-l", "datatype=derived", "--based-on", raw, "--json").stdout
    )
    assert raw.startswith("x1") and derived["based_on"] == [raw]

    listed = json.loads(cli("ls", "--json").stdout)
    assert [r["id"] for r in listed] == [derived["id"], raw], "newest first"
    assert json.loads(cli("ls", "--datatype", "raw", "--json").stdout)[0]["labels"]["infos"] == {"source": "lab"}
    assert "raw" in cli("ls").stdout  # a table for people

    found = json.loads(cli("find", json.dumps({"based_on": raw}), "--json").stdout)
    assert [r["id"] for r in found] == [derived["id"]]
    shown = json.loads(cli("show", raw, "--json").stdout)
    assert shown["kind"] == "files" and shown["run_info"]["host"]["nodename"]

    out_dir = tmp_path / "out"
    cli("get", derived["id"], "--to", str(out_dir))
    assert (out_dir / "x.csv").read_text() == "a,b\n1,2\n"

    up = json.loads(cli("lineage", derived["id"], "-f", "json").stdout)
    assert up["related"] == {raw: 1}
    down = json.loads(cli("lineage", raw, "--down", "--depth", "1", "-f", "json").stdout)
    assert down["related"] == {derived["id"]: 1}
    assert raw[:14] in cli("lineage", derived["id"]).stdout
    assert "digraph" in cli("lineage", derived["id"], "-f", "dot").stdout
    prov = json.loads(cli("lineage", derived["id"], "-f", "prov").stdout)
    assert f"provkit:{raw}" in prov["entity"]


def test_config_and_db(cli, tmp_path):
    cfg = json.loads(cli("config").stdout)
    assert cfg["provkit_home"] == str(tmp_path / "home") and "SqlRepo" in cfg["default_repo"]
    current = json.loads(cli("db", "current").stdout)
    assert current["up_to_date"] is True
    assert "upgraded to" in cli("db", "upgrade").stdout


def test_exit_codes_and_one_line_errors(cli):
    missing = cli("show", "x1nope", ok=False)
    assert missing.returncode == 3 and missing.stderr.startswith("not found:") and "Traceback" not in missing.stderr
    bad_query = cli("find", '{"nope": 1}', ok=False)
    assert bad_query.returncode == 1 and "unknown field 'nope'" in bad_query.stderr
    not_json = cli("find", "not json", ok=False)
    assert not_json.returncode == 1 and "not valid JSON" in not_json.stderr
    usage = cli("ls", "--limt", "3", ok=False)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    bad_label = cli("upload", __file__, "-l", "colour", ok=False)
    assert bad_label.returncode == 1 and "key=value" in bad_label.stderr
    assert cli("lineage", "x1nope", ok=False).returncode == 3
