#!/bin/sh
# Pulls the models the platform uses into an Ollama server, waiting for the server to answer first.
# Usage: OLLAMA_HOST=http://127.0.0.1:11434 ./ollama/pull-models.sh
set -eu
: "${OLLAMA_HOST:=http://127.0.0.1:11434}"
: "${OLLAMA_CHAT_MODEL:=llama3.2:3b}"
: "${OLLAMA_EMBED_MODEL:=nomic-embed-text}"
export OLLAMA_HOST

tries=0
until ollama list >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 60 ]; then echo "Ollama at $OLLAMA_HOST did not answer" >&2; exit 1; fi
  sleep 2
done

for model in "$OLLAMA_CHAT_MODEL" "$OLLAMA_EMBED_MODEL"; do
  echo "pulling $model"
  ollama pull "$model"
done

# The coach variant bakes in the platform's defaults; bots can still override model settings.
if [ -f "$(dirname "$0")/Modelfile" ]; then
  sed "s|^FROM .*|FROM $OLLAMA_CHAT_MODEL|" "$(dirname "$0")/Modelfile" > /tmp/Modelfile.coach
  ollama create coach -f /tmp/Modelfile.coach
fi
echo "models ready"
