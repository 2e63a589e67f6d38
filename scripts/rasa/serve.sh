#!/usr/bin/env bash
# Starts the Rasa server on 127.0.0.1:$RASA_PORT in the background (pid in $RASA_PROJECT/server.pid)
# and waits until /model/parse answers. `serve.sh stop` stops the server this script started.
set -euo pipefail
source "$(dirname "$0")/env.sh"
pidfile="$RASA_PROJECT/server.pid"
if [ "${1:-}" = "stop" ]; then
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"; exit 0
fi
if status="$(curl -fs "http://127.0.0.1:$RASA_PORT/status" 2>/dev/null)"; then
  newest="$(ls -t "$RASA_PROJECT"/models/*.tar.gz 2>/dev/null | head -1 || true)"
  # A server of ours that still serves an older model is restarted; anybody else's is left alone.
  if [ -n "$newest" ] && [ -f "$pidfile" ] && ! grep -q "$(basename "$newest")" <<<"$status"; then
    echo "rasa server serves an older model: restarting it with $(basename "$newest")"
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 1 30); do curl -fs "http://127.0.0.1:$RASA_PORT/status" >/dev/null 2>&1 || break; sleep 1; done
  else
    echo "rasa server already up on 127.0.0.1:$RASA_PORT"; exit 0
  fi
fi
cd "$RASA_PROJECT"
nohup "$RASA_VENV/bin/rasa" run --enable-api -i 127.0.0.1 -p "$RASA_PORT" -m models >"$RASA_PROJECT/server.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 120); do
  if curl -fs -X POST -d '{"text":"你好"}' "http://127.0.0.1:$RASA_PORT/model/parse" >/dev/null 2>&1; then
    echo "rasa server up on 127.0.0.1:$RASA_PORT (pid $(cat "$pidfile"))"; exit 0
  fi
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "rasa server exited; see $RASA_PROJECT/server.log" >&2; exit 1; }
  sleep 1
done
echo "rasa server did not answer within 120 s; see $RASA_PROJECT/server.log" >&2; exit 1
