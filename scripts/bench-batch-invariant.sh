#!/usr/bin/env bash
# Cost of the batch-invariant mode (issue 18): generated tokens/s at 1 and 8 streams, mode off vs on, in alternating
# pairs (the machine is shared: alternation spreads its noise over both). Uses stories260K from $INFERENCE_TEST_MODELS.
# Usage: scripts/bench-batch-invariant.sh [pairs]   (after dotnet build -c Release Inference.sln)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-3}"
model="${INFERENCE_TEST_MODELS:-../shared/models}/stories260K.gguf"
port="${BENCH_PORT:-11499}" threads="${BENCH_THREADS:-2}"
store="$(mktemp -d)" out="$(mktemp -d)" pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$store"' EXIT
run() { # mode clients
  dotnet src/Inference.Server/bin/Release/net10.0/Inference.Server.dll --urls "http://127.0.0.1:$port" \
    "--Inference:ModelsDirectory=$store" "--Inference:Threads=$threads" --Inference:NumParallel=8 \
    "--Inference:BatchInvariant=$1" --Inference:KeepAlive=-1 --Logging:LogLevel:Default=Warning --model "bench=$model" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/api/version" >/dev/null && break; sleep 0.5; done
  dotnet benchmarks/Inference.LoadTool/bin/Release/net10.0/Inference.LoadTool.dll --url "http://127.0.0.1:$port" --model bench \
    --clients "$2" --requests $(( $2 * 4 )) --prompt-tokens 32 --output-tokens 200 --temperature 0.8 --warmup 2 \
    --json "$out/$1-$2.json" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['generated_tokens_per_second'],1))" "$out/$1-$2.json"
}
for clients in 1 8; do
  for i in $(seq 1 "$pairs"); do
    off=$(run false "$clients"); on=$(run true "$clients")
    echo "streams=$clients pair=$i off=$off on=$on ratio=$(python3 -c "print(round($on/$off,3))")"
  done
done
