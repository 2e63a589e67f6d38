# Shared settings of the Rasa scripts (sourced). Override any of them from the environment.
RASA_ROOT="${HOTLINE_RASA_ROOT:-$HOME/.cache/hotline-rasa}"      # outside the clone, so CI can reuse it
RASA_VENV="${HOTLINE_RASA_VENV:-$RASA_ROOT/venv}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOTLINE_HOME="${HOTLINE_HOME:-$REPO/var}"
RASA_PROJECT="${HOTLINE_RASA_PROJECT:-$HOTLINE_HOME/rasa}"
RASA_PORT="${HOTLINE_RASA_PORT:-5005}"
RASA_EPOCHS="${HOTLINE_RASA_EPOCHS:-20}"
RASA_MAX_CHARS="${HOTLINE_RASA_MAX_CHARS:-150}"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2

# A Python 3.10 that really runs: pyenv puts a python3.10 shim on PATH that fails unless 3.10 is
# the selected version, so every candidate is tried, pyenv's own installs first.
find_python310() {
  if [ -n "${HOTLINE_PYTHON310:-}" ]; then echo "$HOTLINE_PYTHON310"; return 0; fi
  local root="${PYENV_ROOT:-$HOME/.pyenv}" candidate
  for candidate in "$root"/versions/3.10*/bin/python3.10 "$(command -v python3.10 2>/dev/null)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null \
      && { echo "$candidate"; return 0; }
  done
  return 1
}
