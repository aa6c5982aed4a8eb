#!/usr/bin/env bash
# The whole performance comparison on this machine, written to benchmarks/results/<date>/ and a
# markdown table (report.md) with the issue's targets. Every run talks to 127.0.0.1 only.
#  1. a llama3.2:1b-shaped Q4_K_M GGUF with random weights (generated once, ~0.8 GB, git-ignored)
#  2. single-stream decode: LLamaSharp's StatelessExecutor vs our scheduler (one process, interleaved),
#     and bare llama_decode step times for 1..16 sequences (the most batching can gain on this machine)
#  3. the server with batching: 1/2/4/8/16 concurrent streams; cold vs warm 1,000-token prefix TTFT;
#     inter-token latency of 4 running streams while a 2,000-token prompt is admitted
#  4. the same 8-stream load with batching disabled (NumParallel=1: one request at a time)
#  5. the admission test again with prefill pacing off (PrefillLatencyFactor=0)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads="${BENCH_THREADS:-$(nproc)}"
port="${BENCH_PORT:-11500}"
model="${BENCH_MODEL:-$root/benchmarks/models/llama3.2-1b-q4_k_m.gguf}"
out="$root/benchmarks/results/$(date -u +%Y%m%d-%H%M)"
mkdir -p "$out" "$(dirname "$model")"

dotnet build -c Release Inference.sln -v quiet -nologo >/dev/null
bin() { echo "$root/benchmarks/$1/bin/Release/net10.0/$1.dll"; }
if [ ! -f "$model" ]; then
  dotnet "$(bin Inference.ModelGen)" --preset llama3.2-1b --quant q4_k_m --out "$model"
fi

echo "== decode baseline (StatelessExecutor vs scheduler), $threads threads"
dotnet "$(bin Inference.Benchmarks)" decode-baseline --model "$model" --tokens 64 --threads "$threads" --json "$out/decode-baseline.json"

echo "== batch ceiling (bare llama_decode with 1..16 sequences)"
dotnet "$(bin Inference.Benchmarks)" batch-ceiling --model "$model" --threads "$threads" --json "$out/batch-ceiling.json"

store="$(mktemp -d)"
server_pid=""
start_server() { # extra settings...
  stop_server
  dotnet src/Inference.Server/bin/Release/net10.0/Inference.Server.dll --urls "http://127.0.0.1:$port" \
    "--Inference:ModelsDirectory=$store" "--Inference:Threads=$threads" --Inference:DefaultContextLength=2304 \
    --Inference:KeepAlive=-1 --Logging:LogLevel:Default=Warning --model "bench=$model" "$@" >"$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/api/version" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$port/api/generate" -d '{"model":"bench"}' >/dev/null # load it
}
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
trap 'stop_server; rm -rf "$store"' EXIT
load() { # name args...
  local name="$1"; shift
  echo "== $name"
  dotnet "$(bin Inference.LoadTool)" --url "http://127.0.0.1:$port" --model bench --label "$name" --json "$out/$name.json" "$@"
}
admission() { # name: 4 streams generate while one 2,000-token prompt is admitted
  load "$1" --clients 4 --requests 4 --prompt-tokens 16 --output-tokens 160 &
  local streams=$!
  sleep 8
  load "$1-long-prompt" --clients 1 --requests 1 --prompt-tokens 2000 --output-tokens 1 --seed 99 >/dev/null
  wait "$streams"
}

start_server --Inference:NumParallel=16
for c in 1 2 4 8 16; do
  load "streams-$c" --clients "$c" --requests $(( c == 1 ? 2 : c )) --prompt-tokens 32 --output-tokens 128 --warmup 1
done
load prefix-cold --clients 1 --requests 2 --prompt-tokens 1020 --shared-prefix-tokens 1000 --shared-prefix-share 0 --output-tokens 4
load prefix-warm --clients 1 --requests 3 --prompt-tokens 1020 --shared-prefix-tokens 1000 --shared-prefix-share 1 --output-tokens 4 --warmup 1
admission admission-paced

start_server --Inference:NumParallel=1
load serial-8 --clients 8 --requests 8 --prompt-tokens 32 --output-tokens 128 --warmup 1

start_server --Inference:NumParallel=16 --Inference:PrefillLatencyFactor=0
admission admission-unpaced
stop_server

dotnet "$(bin Inference.Benchmarks)" report "$out" "$out/report.md"
echo "results: $out"
