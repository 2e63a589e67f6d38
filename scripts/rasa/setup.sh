#!/usr/bin/env bash
# Creates (or reuses) the Python 3.10 environment with rasa==3.6.21, outside the clone.
# Rasa 3.6 needs Python < 3.11 and pins SQLAlchemy 1.4 / pydantic 1, so it cannot share .venv.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if [ -x "$RASA_VENV/bin/rasa" ] && "$RASA_VENV/bin/python" -c "import rasa, jieba" 2>/dev/null; then
  echo "rasa environment ready: $RASA_VENV"; exit 0
fi
PY310="$(find_python310)" || { echo "no Python 3.10 found (install pyenv's 3.10 or set HOTLINE_PYTHON310); Rasa is skipped" >&2; exit 3; }
echo "creating the Rasa environment in $RASA_VENV with $PY310 (about 2 minutes, 2.7 GB)"
mkdir -p "$RASA_ROOT"
"$PY310" -m venv "$RASA_VENV"
"$RASA_VENV/bin/pip" install --quiet --upgrade pip setuptools wheel
"$RASA_VENV/bin/pip" install --quiet -c "$REPO/scripts/rasa/constraints.txt" "rasa==3.6.21" "jieba==0.42.1"
echo "rasa environment ready: $RASA_VENV"
