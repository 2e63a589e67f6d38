#!/usr/bin/env bash
# One command: environment, model, server. Exit 3 when this machine has no Python 3.10.
set -euo pipefail
dir="$(dirname "$0")"
bash "$dir/setup.sh"
bash "$dir/train.sh"
bash "$dir/serve.sh"
