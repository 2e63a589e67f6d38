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

find_python310() {
  if [ -n "${HOTLINE_PYTHON310:-}" ]; then echo "$HOTLINE_PYTHON310"; return 0; fi
  command -v python3.10 2>/dev/null && return 0
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  for candidate in "$root"/versions/3.10*/bin/python3.10; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}
