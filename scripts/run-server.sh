#!/usr/bin/env bash
# Runs the server on 127.0.0.1:11434 (OLLAMA_HOST to change), serving the models in OLLAMA_MODELS
# (default ~/.ollama/models). Extra arguments go to the server, e.g. --model stories=path/to/file.gguf
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec dotnet run --project "$root/src/Inference.Server" -c Release -- "$@"
