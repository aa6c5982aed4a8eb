#!/usr/bin/env bash
# Makes sure the GGUF test models exist in $INFERENCE_TEST_MODELS (default: ../shared/models).
# Only when a file is missing is it downloaded from its public source, and its SHA-256 checked.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${INFERENCE_TEST_MODELS:-$root/../shared/models}"

fetch() { # file sha256 url
  local file="$1" sum="$2" url="$3"
  if [ -f "$dir/$file" ]; then return 0; fi
  mkdir -p "$dir"
  echo "fetching $file from $url"
  curl -fL --retry 3 -o "$dir/$file.part" "$url"
  echo "$sum  $dir/$file.part" | sha256sum -c - >/dev/null || { echo "checksum mismatch for $file" >&2; rm -f "$dir/$file.part"; exit 1; }
  mv "$dir/$file.part" "$dir/$file"
}

fetch stories260K.gguf 270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d \
  https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf
fetch llama-2-tiny-random.gguf 81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb \
  https://huggingface.co/aladar/llama-2-tiny-random-GGUF/resolve/main/llama-2-tiny-random.gguf
echo "test models: $dir"
