#!/usr/bin/env bash
# Cost of the batch-invariant mode (issue 18): generated tokens/s at 1 and 8 streams, mode off vs on, in alternating
# pairs (the machine is shared: alternation spreads its noise over both). Default model: stories260K from
# $INFERENCE_TEST_MODELS; BENCH_OUTPUT_TOKENS and BENCH_REQUESTS_PER_CLIENT shorten runs on a bigger model.
# Usage: scripts/bench-batch-invariant.sh [pairs] [model.gguf] [streams...]   (after dotnet build -c Release Inference.sln)
#   e.g. BENCH_OUTPUT_TOKENS=48 BENCH_REQUESTS_PER_CLIENT=2 scripts/bench-batch-invariant.sh 1 benchmarks/models/llama3.2-1b-q4_k_m.gguf 8
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-3}"
model="${2:-${INFERENCE_TEST_MODELS:-../shared/models}/stories260K.gguf}"
streams=("${@:3}"); [ ${#streams[@]} -gt 0 ] || streams=(1 8)
output_tokens="${BENCH_OUTPUT_TOKENS:-200}" per_client="${BENCH_REQUESTS_PER_CLIENT:-4}"
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
    --clients "$2" --requests $(( $2 * per_client )) --prompt-tokens 32 --output-tokens "$output_tokens" --temperature 0.8 --warmup 2 \
    --json "$out/$1-$2.json" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['generated_tokens_per_second'],1))" "$out/$1-$2.json"
}
for clients in "${streams[@]}"; do
  for i in $(seq 1 "$pairs"); do
    off=$(run false "$clients"); on=$(run true "$clients")
    echo "streams=$clients pair=$i off=$off on=$on ratio=$(python3 -c "print(round($on/$off,3))")"
  done
done
