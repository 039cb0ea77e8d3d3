# Sourced by scripts/demo and scripts/test: choose the Python that bluegreen is installed into.
#
# Inside an active virtual environment (VIRTUAL_ENV, or a python3 that is itself a venv's), that one.
# Otherwise the project's own .venv, created on first use with `python3 -m venv`, so a stock
# Debian/Ubuntu python (PEP 668, "externally managed") is never asked to take packages, and pyenv or
# Homebrew pythons are treated the same way. Sets BG_PYTHON and BG_VENV; prints one-line reasons.

bg_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

bg_choose_python() {
  local base=${PYTHON:-python3}
  if [[ -n ${VIRTUAL_ENV:-} && -x $VIRTUAL_ENV/bin/python ]]; then
    BG_PYTHON=$VIRTUAL_ENV/bin/python BG_VENV=$VIRTUAL_ENV
    return
  fi
  command -v "$base" >/dev/null ||
    bg_die "no $base found: install Python 3.11 or newer (Debian/Ubuntu: apt-get install python3 python3-venv)"
  "$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    bg_die "$("$base" -V 2>&1) is too old: bluegreen needs Python 3.11 or newer"
  if "$base" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then  # already a venv's python
    BG_PYTHON=$(command -v "$base") BG_VENV=$("$base" -c 'import sys; print(sys.prefix)')
    return
  fi
  BG_VENV=$PWD/.venv BG_PYTHON=$PWD/.venv/bin/python
  if [[ ! -x $BG_PYTHON ]] || ! "$BG_PYTHON" -m pip --version >/dev/null 2>&1; then
    rm -rf "$BG_VENV"
    if ! "$base" -m venv "$BG_VENV" >/dev/null 2>&1; then
      rm -rf "$BG_VENV"  # a failed venv (no ensurepip) leaves a half-made directory behind
      bg_die "$base cannot create a virtual environment: install python3-venv (Debian/Ubuntu: sudo apt-get install python3-venv), then run $0 again"
    fi
    echo "$(basename "$0"): created the project's virtual environment in .venv ($("$BG_PYTHON" -V))"
  fi
}

# Make the chosen environment the active one for everything this script runs (as `activate` would).
bg_activate() {
  export VIRTUAL_ENV=$BG_VENV PATH=$BG_VENV/bin:$PATH
  unset PYTHONHOME
}
