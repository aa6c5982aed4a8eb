#!/usr/bin/env bash
# Runs the server on 127.0.0.1:11434 (OLLAMA_HOST to change), serving the models in OLLAMA_MODELS
# (default ~/.ollama/models). Extra arguments go to the server, e.g. --model stories=path/to/file.gguf
# (a relative path is relative to the directory you run this from).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Build, then start the program itself from the caller's directory (`dotnet run` would move the
# working directory into the project folder and change what relative paths mean).
log="$(mktemp)"
if ! dotnet build "$root/src/Inference.Server" -c Release --nologo >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
exec dotnet "$root/src/Inference.Server/bin/Release/net10.0/Inference.Server.dll" "$@"
