"""The command line for people (issue 12): user data printed as written, one-line errors
with documented exit codes, 80-column tables, help for every option, the front door."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")


@pytest.fixture
def run(tmp_path):
    """The CLI in a subprocess at 80 columns, with a private home and no config."""
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home"), "COLUMNS": "80", "PYTHONPATH": SRC}
    env.pop("PROVKIT_CONFIG", None)
    env.pop("PROVKIT_DEBUG", None)

    def call(*args: str, ok: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "provkit", *args], env={**env, **extra_env}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    return call


def _one_line_error(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ---- user data is printed as written ----------------------------------------------------


def test_labels_names_and_values_are_printed_as_written(run, tmp_path):
    data = tmp_path / "[b]in"
    data.mkdir()
    (data / "[red]x.csv").write_text("a\n")
    art = run("upload", str(data), "-l", "datatype=[/x]", "-l", "project=[b]bold[/b]", "--info", "k=[i]v").stdout
    art = art.strip()
    listed = run("ls").stdout
    assert "[/x]" in listed, "a label '[/x]' no longer crashes `provkit ls`"
    wide = run("ls", "--wide").stdout
    assert "[b]bold[/b]" in wide and "[red]x.csv" in wide and "[i]v" in wide, "markup is not stripped"
    shown = run("show", art).stdout
    assert "[b]bold[/b]" in shown and "[red]x.csv" in shown
    assert "[/x]" in run("find", '{"labels.datatype": "[/x]"}').stdout
    assert "[/x]" in run("lineage", art).stdout
    got = run("get", art, "--to", str(tmp_path / "out")).stdout
    assert "[red]x.csv" in got and (tmp_path / "out" / "[red]x.csv").exists()

    ex = run("register", "execution", "[b]stage[/b]", "--description", "[/d]").stdout.strip()
    refused = run("register", "dataset", "[u]Data[/u]", "0.1.0", "--relpath", "p/[x]", "--old-location", str(data),
                  ok=False)  # fmt: skip
    _one_line_error(refused, 1, "p/[x]", "'['")  # brackets are glob characters: not in a relpath
    ds = run("register", "dataset", "[u]Data[/u]", "0.1.0", "--relpath", "p/x", "--old-location", str(data),
             "--execution", ex, "--description", "[k]").stdout.strip()  # fmt: skip
    assert "[u]Data[/u]" in run("ls", "--datasets").stdout
    assert "[b]stage[/b]" in run("ls", "--executions").stdout
    assert "[/d]" in run("show", ex).stdout and "[k]" in run("show", ds).stdout
    missing = run("show", "x1[/nope]", ok=False)
    _one_line_error(missing, 3, "x1[/nope]")


# ---- one line on stderr, documented exit codes, no traceback ------------------------------


def test_a_query_that_is_not_an_object_is_one_line(run):
    _one_line_error(run("find", "[1]", ok=False), 1, "error:", "must be a JSON object")
    _one_line_error(run("find", "--datasets", '"x"', ok=False), 1, "must be a JSON object")
    _one_line_error(run("find", "{", ok=False), 1, "not valid JSON")


def test_a_missing_or_broken_config_file_is_one_line(run, tmp_path):
    _one_line_error(run("--config", str(tmp_path / "nope.yaml"), "ls", ok=False), 1, "does not exist")
    _one_line_error(run("ls", ok=False, PROVKIT_CONFIG=str(tmp_path / "gone.yaml")), 1, "gone.yaml", "does not exist")
    (tmp_path / "bad.yaml").write_text("artifact_repos: {x: {type: sqlite, db: 1, store: null}}\n")
    _one_line_error(run("--config", str(tmp_path / "bad.yaml"), "ls", ok=False), 1, "artifact_repos.x.db must be")
    (tmp_path / "broken.yaml").write_text("a: [\n")
    _one_line_error(run("--config", str(tmp_path / "broken.yaml"), "ls", ok=False), 1, "not valid YAML")


def _pg_config(tmp_path, url: str) -> str:
    path = tmp_path / "pg.yaml"
    path.write_text(
        f"blobstores: {{d: {{type: disk, cachedir: {tmp_path / 'b'}}}}}\n"
        f"artifact_repos: {{team: {{type: postgres, db: '{url}', store: d}}}}\n"
    )
    return str(path)


def test_an_unreachable_database_is_one_line(run, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _pg_config(tmp_path, f"postgresql://someone:secret@127.0.0.1:{port}/x")
    for args in (["ls"], ["db", "current"], ["find", "{}"]):
        proc = run("--config", cfg, *args, ok=False)
        _one_line_error(proc, 1, "error: database error:", str(port))
        assert "secret" not in proc.stderr


def test_a_wrong_password_is_one_line(run, tmp_path, postgres_server, postgres_url):
    import sqlalchemy as sa

    admin = sa.create_engine(postgres_server.info["url"].replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(sa.text("DROP ROLE IF EXISTS pk_pw"))
        conn.execute(sa.text("CREATE ROLE pk_pw LOGIN PASSWORD 'right'"))
    hba = os.path.join(postgres_server.root, "data", "pg_hba.conf")
    with open(hba) as fh:
        rules = fh.read()
    with open(hba, "w") as fh:  # this role only: password checked; everyone else: unchanged
        fh.write("host all pk_pw 127.0.0.1/32 scram-sha-256\n" + rules)
    with admin.begin() as conn:
        conn.execute(sa.text("SELECT pg_reload_conf()"))
    admin.dispose()
    port = postgres_server.info["port"]
    database = postgres_url.rsplit("/", 1)[1]
    cfg = _pg_config(tmp_path, f"postgresql://pk_pw:wrong@127.0.0.1:{port}/{database}")
    proc = run("--config", cfg, "ls", ok=False)
    _one_line_error(proc, 1, "error: database error:", "password authentication failed")
    assert "wrong" not in proc.stderr.replace("wrong password", "")


def test_unexpected_errors_are_one_line_unless_debugging(tmp_path):
    code = (
        "import provkit.interfaces.cli.artifacts as a\n"
        "def boom(*args, **kwargs):\n"
        "    raise ZeroDivisionError('[b]boom')\n"
        "import provkit as p\n"
        "p.find_artifacts = boom\n"
        "from provkit.interfaces.cli import main\n"
        "main()\n"
    )
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "h"), "PYTHONPATH": SRC}
    proc = subprocess.run([sys.executable, "-c", code, "ls"], env=env, capture_output=True, text=True)
    _one_line_error(proc, 1, "unexpected error: ZeroDivisionError: [b]boom", "PROVKIT_DEBUG=1")
    debug = subprocess.run([sys.executable, "-c", code, "ls"], env={**env, "PROVKIT_DEBUG": "1"}, capture_output=True,
                           text=True)  # fmt: skip
    assert "Traceback" in debug.stderr


# ---- tables for an 80-column terminal, --wide for everything ------------------------------


def test_tables_fit_80_columns_with_short_ids_and_wide_shows_all(run, tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a_rather_long_file_name_for_a_narrow_terminal.csv").write_text("x\n")
    ids = []
    for i in range(3):
        label = f"datatype=a_very_long_datatype_label_that_goes_on_and_on_{i}"
        ids.append(run("upload", str(data), "-l", label).stdout.strip())
    ex = run("register", "execution", "a-stage-with-a-long-name-" * 3).stdout.strip()
    ds = run("register", "dataset", "A dataset with a long descriptive name " * 2, "0.1.0", "--relpath",
             "some/deeply/nested/relative/path/for/the/dataset", "--old-location", str(data),
             "--execution", ex).stdout.strip()  # fmt: skip
    for args in (["ls"], ["find", "{}"], ["ls", "--datasets"], ["ls", "--executions"]):
        table = run(*args).stdout
        widths = [len(line) for line in table.splitlines()]
        assert widths and max(widths) <= 80, (args, table)
        assert "…" in table, "long cells are elided, not wrapped"
    narrow = run("ls").stdout
    assert all(i[:14] in narrow and i not in narrow for i in ids), "short ids"
    assert len(narrow.strip().splitlines()) == 2 + 3, "one line per row"
    wide = run("ls", "--wide").stdout
    assert all(i in wide for i in ids) and "a_very_long_datatype_label_that_goes_on_and_on_2" in wide
    assert ds in run("ls", "--datasets", "--wide").stdout and ex in run("ls", "--executions", "-w").stdout
    # a short id is enough to name a record
    assert json.loads(run("show", ids[0][:14], "--json").stdout)["id"] == ids[0]
    assert json.loads(run("show", ds[:14], "--json").stdout)["id"] == ds
    assert ex in run("lineage", ds[:10], "-f", "json").stdout


def test_every_option_and_argument_has_help():
    import click
    import typer.main

    from provkit.interfaces.cli import _app, artifacts, db, lineage_cmd, registry_cmd, ui_cmd  # noqa: F401

    command = typer.main.get_command(_app.app)
    missing = []

    def walk(cmd: click.Command, path: str) -> None:
        for param in cmd.params:
            if not getattr(param, "help", None):
                missing.append(f"{path} {param.name}")
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(command, "provkit")
    assert missing == []


# ---- the front door ---------------------------------------------------------------------


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def test_readme_setup_is_two_commands_and_ci_runs_the_test_one():
    readme = _read(os.path.join(ROOT, "README.md"))
    block = readme.split("## Set up, run, test", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    ci = _read(os.path.join(ROOT, ".ci", "run"))
    assert re.search(r"^exec bash scripts/test\.sh$", ci, re.M), "CI runs exactly the README's test command"
    test_sh = _read(os.path.join(ROOT, "scripts", "test.sh"))
    steps = re.findall(r"^(?:exec )?([^#\s].*)$", test_sh, re.M)
    assert [s for s in steps if "setup.sh" in s or "ruff" in s or "pytest" in s] == [
        "bash scripts/setup.sh",
        '"$PY" -m ruff check src tests bench examples',
        '"$PY" -m ruff format --check src tests bench examples',
        '"$PY" -m pytest -q "$@"',
    ]
    demo_sh = _read(os.path.join(ROOT, "scripts", "demo.sh"))
    assert "bash scripts/setup.sh" in demo_sh and "examples/intro_guide.py" in demo_sh


def test_demo_command_runs_as_written(tmp_path):
    """`bash scripts/demo.sh`: setup finds nothing missing here, then the intro guide runs."""
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home"), "PYTHONPATH": SRC, "PYTHON": sys.executable}
    env.pop("PROVKIT_CONFIG", None)
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo.sh"), "--out", str(tmp_path / "pic")],
                          env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "setup: provkit and its dependencies are installed" in proc.stderr, "nothing was (re)installed"
    assert "result + 3 = 10" in proc.stdout


def test_intro_guide_leaves_nothing_in_the_current_folder(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "PROVKIT_HOME": str(tmp_path / "home"), "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "intro_guide.py")], env=env, cwd=cwd,
                         capture_output=True, text=True, check=True, timeout=120).stdout  # fmt: skip
    assert list(cwd.iterdir()) == []
    written = re.search(r"lineage picture written to (\S+)", out)
    if written:  # graphviz installed
        assert os.path.exists(written.group(1)) and not written.group(1).startswith(str(cwd))


def test_golden_hash_run_names_the_interpreters_it_checked():
    """The cross-version golden-hash test says which Pythons it ran, at the end of the run."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import interpreters

    chosen, _ = interpreters.find()
    test = "tests/test_hashing.py::test_golden_keys_across_python_versions"
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert f"golden hash keys checked on Python {', '.join(chosen)}:" in proc.stdout
    for minor, exe in chosen.items():
        assert f"  {minor}: {exe}" in proc.stdout


def test_progress_bars_show_names_as_written(monkeypatch):
    import io

    from rich.console import Console

    from provkit.interfaces.cli import registry_cmd

    screen = io.StringIO()
    monkeypatch.setattr(registry_cmd, "err", Console(file=screen, force_terminal=True, width=100))
    with registry_cmd.copy_progress("copying [/x] and [b]y[/b]") as advance:
        advance(1, 2)
    assert "copying [/x] and [b]y[/b]" in screen.getvalue()
