#!/usr/bin/env bash
# Set corral up in ./.venv with exactly the versions in uv.lock, then run the demo
# (`./dev.sh demo`) or every check and test (`./dev.sh test`). `./dev.sh test-newest` runs the
# same checks in ./.venv-newest against the newest versions pyproject.toml allows, and the
# newest agent CLIs, so drift is seen before it bites; CI does not run it.
# Works on a fresh Debian machine with Python 3.11: missing system packages are installed with
# apt-get when running as root; otherwise the script says which command to run.
set -euo pipefail
cd "$(dirname "$0")"

UV_VERSION=0.13.10  # the uv that wrote uv.lock; installed from PyPI into ./.uv when missing
export UV_PYTHON_DOWNLOADS=never  # use the machine's Python, never fetch one
export UV_NO_PROGRESS=1

say() { printf '%s\n' "$*" >&2; }

install_package() {  # install_package DEBIAN-PACKAGE WHAT
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $1 with apt-get"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    say "corral needs $2: install it with \`sudo apt-get install $1\` (or your system's package manager) and run this again."
    exit 1
  fi
}

need_package() {  # need_package COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 || install_package "$2" "$1"
}

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  say "corral needs Python 3.11 or newer: install it (\`sudo apt-get install python3\`) and run this again."
  exit 1
}

find_uv() {  # prints the path of a uv of UV_VERSION, installing it into ./.uv when missing
  local python=$1
  if [ ! -x .uv/bin/uv ] || [ "$(.uv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
    rm -rf .uv
    if ! "$python" -m venv .uv >/dev/null 2>&1; then
      rm -rf .uv
      install_package python3-venv "Python's venv module"
      "$python" -m venv .uv
    fi
    say "installing uv $UV_VERSION into ./.uv"
    .uv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
  fi
  echo "$PWD/.uv/bin/uv"
}

setup() {  # setup: the system packages, uv, and ./.venv synced exactly to uv.lock
  need_package git git
  need_package tmux tmux
  PYTHON=$(find_python)
  UV=$(find_uv "$PYTHON")
  # --locked also refuses a pyproject.toml that changed without `uv lock` being run. Bytecode
  # is compiled once here, corral's own too: where PYTHONDONTWRITEBYTECODE is set, every
  # start would compile Textual and corral again (about 0.6 s of the dashboard's first frame).
  "$UV" sync --locked --quiet --python "$PYTHON" --compile-bytecode
  .venv/bin/python -m compileall -q sessions tui >/dev/null
  VENV=.venv
}

setup_newest() {  # setup_newest: ./.venv-newest with the newest allowed versions, lock untouched
  setup
  if [ ! -x .venv-newest/bin/python ]; then
    "$UV" venv --quiet --python "$PYTHON" .venv-newest
  fi
  "$UV" pip install --quiet --python .venv-newest/bin/python --upgrade --reinstall-package corral \
    -e . --group dev
  "$UV" pip list --python .venv-newest/bin/python --format freeze >&2
  VENV=.venv-newest
  # The agent CLIs' newest releases too (tests/support/npm_cli.py pins the recorded ones).
  export CORRAL_CLAUDE_CODE_VERSION=latest CORRAL_CODEX_VERSION=latest \
    CORRAL_GEMINI_CLI_VERSION=latest
}

run_tests() {
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  "$VENV/bin/mypy"
  set +e
  "$VENV/bin/python" -m pytest "$@"
  local status=$?
  set -e
  if [ "$status" = 5 ]; then
    say "pytest collected no tests: that is a failure, not a pass."
    exit 1
  fi
  exit "$status"
}

run_demo() {  # run_demo [corral demo arguments]: the sandbox, its herd, then the dashboard
  local dir=()
  if [ -n "${CORRAL_DEMO_DIR:-}" ]; then dir=(--dir "$CORRAL_DEMO_DIR"); fi
  exec .venv/bin/corral demo ${dir[@]+"${dir[@]}"} "$@"
}

case "${1:-}" in
  test) shift; setup; run_tests "$@" ;;
  test-newest) shift; setup_newest; run_tests "$@" ;;
  demo) shift; setup; run_demo "$@" ;;
  *) say "usage: ./dev.sh demo [corral demo arguments] | ./dev.sh test [pytest arguments] | ./dev.sh test-newest [pytest arguments]"; exit 2 ;;
esac
