#!/usr/bin/env bash
# Pulls the catalog's models (models/catalog.json: llama3.2:1b for SQL, codellama:7b for code) through
# the running server's /api/pull, printing its progress. The server must be able to reach the registry.
#   OLLAMA_HOST=127.0.0.1:11434 scripts/pull-models.sh [model ...]
set -euo pipefail
host="${OLLAMA_HOST:-127.0.0.1:11434}"
case "$host" in http://*|https://*) url="$host" ;; *) url="http://$host" ;; esac
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(llama3.2:1b codellama:7b)
for model in "${models[@]}"; do
  echo "== $model"
  curl -sfN "$url/api/pull" -d "{\"model\":\"$model\"}" | while IFS= read -r line; do
    printf '%s\n' "$line"
    case "$line" in *'"error"'*) exit 1 ;; esac
  done
done
