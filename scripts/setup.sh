#!/usr/bin/env bash
# Installs whatever provkit's demo, tests and benchmarks still need on a Debian machine, and
# nothing else: system packages (graphviz's `dot`, PostgreSQL, sshd, Chromium for the web UI's
# browser tests, a C compiler, venv support), provkit from this checkout with all extras (into .venv when the system Python is
# externally managed, as Debian's is), and one venv with xxhash + numpy per other Python
# 3.10-3.13 found, so the golden-hash test checks every version. Safe to run again: what is
# there already is kept. Fails loudly (non-zero, one line saying what) if anything cannot be set up.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_python.sh

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
    [ $# -gt 0 ] || return 0
    echo "setup: apt-get install $*" >&2
    if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# 1. system packages
need_apt=()
command -v "$BASE_PY" >/dev/null || need_apt+=(python3)
command -v dot >/dev/null || need_apt+=(graphviz)
command -v git >/dev/null || need_apt+=(git)
command -v cc >/dev/null || need_apt+=(gcc)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)   # real servers for the tests
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v chromium >/dev/null || need_apt+=(chromium)   # tests/test_ui_browser.py drives it headless
apt_install "${need_apt[@]}"

# 2. provkit and its dependencies, where pip may install them
make_venv() {  # make_venv PYTHON DIR: a venv with pip, adding Debian's venv package if needed
    local python="$1" dir="$2" minor
    if ! "$python" -m venv "$dir" >/dev/null 2>&1; then
        rm -rf "$dir"
        minor=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        apt_install "python${minor}-venv"
        "$python" -m venv "$dir"
    fi
}
source scripts/_python.sh   # again: python3 may have just been installed
if [ "$(is_managed "$BASE_PY")" = "1" ]; then
    [ -x .venv/bin/python ] || make_venv "$BASE_PY" .venv
fi
if ! "$PY" -m pip --version >/dev/null 2>&1; then
    "$PY" -m ensurepip --upgrade >/dev/null 2>&1 || apt_install python3-pip
fi
if gaps=$("$PY" scripts/missing.py); then
    echo "setup: provkit and its dependencies are installed ($PY)"
else
    echo "setup: installing provkit[all,test] from this checkout into $PY (missing: $(echo "$gaps" | tr '\n' ' '))" >&2
    include=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
    if [ ! -e "$include/Python.h" ] && [ "$(is_managed "$BASE_PY")" = "1" ]; then
        apt_install python3-dev || echo "setup: no Python headers: provkit runs without its C accelerator" >&2
    fi
    "$PY" -m pip install -q --disable-pip-version-check -e '.[all,test]'
fi

# 3. other interpreters for tests/test_hashing.py::test_golden_keys_across_python_versions
failed=()
for minor in 3.10 3.11 3.12 3.13; do
    for exe in "$HOME"/.pyenv/versions/"$minor".*/bin/python "/usr/bin/python$minor" "/usr/local/bin/python$minor"; do
        [ -x "$exe" ] || continue
        "$exe" -c "import xxhash, numpy" 2>/dev/null && break   # equipped already
        venv="$GOLDEN_VENVS/python$minor"
        if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import xxhash, numpy" 2>/dev/null; then break; fi
        echo "setup: a venv with xxhash + numpy for $exe at $venv" >&2
        if make_venv "$exe" "$venv" && "$venv/bin/python" -m pip install -q --disable-pip-version-check xxhash numpy; then
            break
        fi
        failed+=("$exe")
    done
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "setup: could not install xxhash + numpy for ${failed[*]} (the golden-hash test would skip them)" >&2
    exit 1
fi
echo "setup: done"
