#!/usr/bin/env bash
# Writes the Rasa project from data/ into $HOTLINE_HOME/rasa and trains a small NLU model
# (skipped when the data and the settings have not changed since the last training).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO"
"$REPO/.venv/bin/python" -m nlu.rasa write "$RASA_PROJECT" --epochs "$RASA_EPOCHS" --max-chars "$RASA_MAX_CHARS"
stamp="$(cat "$RASA_PROJECT/config.yml" "$RASA_PROJECT/data/nlu.yml" | sha256sum | cut -c1-16)"
if [ -f "$RASA_PROJECT/models/$stamp.tar.gz" ]; then echo "rasa model up to date: $stamp"; exit 0; fi
cd "$RASA_PROJECT"
echo "training the Rasa NLU model ($RASA_EPOCHS epochs)"
"$RASA_VENV/bin/rasa" train nlu --out models --fixed-model-name "$stamp"
find models -name '*.tar.gz' ! -name "$stamp.tar.gz" -delete
echo "rasa model: $RASA_PROJECT/models/$stamp.tar.gz"
