#!/usr/bin/env bash
# Installs everything provkit's demo, tests and benchmarks need on a fresh Debian machine:
# system packages (graphviz's `dot`, PostgreSQL, sshd), provkit with all extras, and xxhash + numpy in any
# other Python 3.10-3.13 found, so the golden-hash tests can check every version.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

need_apt=()
command -v dot >/dev/null || need_apt+=(graphviz)
command -v git >/dev/null || need_apt+=(git)
# real servers for the team-storage tests: PostgreSQL and an sshd for SFTP
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
if [ ${#need_apt[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install -q --disable-pip-version-check -e '.[all,test]'

# Other interpreters for tests/test_hashing.py::test_golden_keys_across_python_versions.
for exe in "$HOME"/.pyenv/versions/3.1[0-3].*/bin/python /usr/bin/python3.1[0-3]; do
    [ -x "$exe" ] || continue
    if ! "$exe" -c "import xxhash, numpy" 2>/dev/null; then
        "$exe" -m pip install -q --disable-pip-version-check xxhash numpy || echo "setup: could not add xxhash/numpy to $exe" >&2
    fi
done
echo "setup: done"
