#!/usr/bin/env bash
# Set corral up in ./.venv, then run the demo (`./dev.sh demo`) or every test (`./dev.sh test`).
# Works on a fresh Debian machine with Python 3.11: missing system packages are installed with
# apt-get when running as root; otherwise the script says which command to run.
set -euo pipefail
cd "$(dirname "$0")"

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
      echo "$candidate"; return 0
    fi
  done
  say "corral needs Python 3.11 or newer: install it (\`sudo apt-get install python3\`) and run this again."
  exit 1
}

setup() {
  need_package git git
  need_package tmux tmux
  local python; python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    if ! "$python" -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      install_package python3-venv "Python's venv module"
      "$python" -m venv .venv
    fi
  fi
  # Reinstall only when the dependencies changed, so a second run needs no network.
  local stamp=".venv/.corral-installed"
  local wanted; wanted=$(cat pyproject.toml | cksum)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$wanted" > "$stamp"
  fi
}

run_tests() {
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
  .venv/bin/mypy
  set +e
  .venv/bin/python -m pytest "$@"
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
  demo) shift; setup; run_demo "$@" ;;
  *) say "usage: ./dev.sh demo [corral demo arguments] | ./dev.sh test [pytest arguments]"; exit 2 ;;
esac
