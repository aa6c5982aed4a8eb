#!/usr/bin/env bash
# Side by side against llama.cpp's llama-server (issue 11): the same GGUF, threads, context per
# sequence, parallel slots and greedy sampling on both, streaming POST /v1/completions on both,
# runs alternating between the servers; one markdown table per model (report.md) plus JSON in
# benchmarks/results/<date>-vs-llama-server/. Only 127.0.0.1 is contacted.
#
#   LLAMA_SERVER=/path/to/llama-server scripts/bench-vs-llama-server.sh
#
# Models: a llama3.2:1b-shaped Q4_K_M GGUF with random weights (generated once, as scripts/bench.sh
# does) and stories260K ($INFERENCE_TEST_MODELS, default ../shared/models). Ceilings: the
# batch-ceiling benchmark (bare llama_decode of 1 and 8 sequences, LLamaSharp's llama.cpp) and
# llama-batched-bench next to $LLAMA_SERVER when it is there (llama-server's llama.cpp).
# BENCH_PAIRS, BENCH_THREADS, BENCH_PARALLEL change the settings; BENCH_SKIP_OPTIONS=1 skips the
# flash-attention / KV-cache-type rows; BENCH_MODELS="1b stories" picks the models; LLAMA_SERVER_REF
# names llama-server's source in the report when --version cannot (a build outside git says "0 (unknown)").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
: "${LLAMA_SERVER:?set LLAMA_SERVER to a llama-server binary (README: Performance says how to build one)}"
[ -x "$LLAMA_SERVER" ] || { echo "LLAMA_SERVER=$LLAMA_SERVER is not an executable" >&2; exit 2; }
threads="${BENCH_THREADS:-$(nproc)}"
pairs="${BENCH_PAIRS:-3}"
parallel="${BENCH_PARALLEL:-16}"
ctx=2048
ours_port="${BENCH_PORT:-11510}"
theirs_port=$((ours_port + 1))
models_dir="${INFERENCE_TEST_MODELS:-$root/../shared/models}"
model_1b="${BENCH_MODEL:-$root/benchmarks/models/llama3.2-1b-q4_k_m.gguf}"
which_models="${BENCH_MODELS:-1b stories}"
out="$root/benchmarks/results/$(date -u +%Y%m%d)-vs-llama-server"
mkdir -p "$out" "$(dirname "$model_1b")"
started=$(date +%s)

dotnet build -c Release Inference.sln -v quiet -nologo >/dev/null
bin() { echo "$root/benchmarks/$1/bin/Release/net10.0/$1.dll"; }
if [ ! -f "$model_1b" ]; then
  dotnet "$(bin Inference.ModelGen)" --preset llama3.2-1b --quant q4_k_m --out "$model_1b"
fi
batched_bench="$(dirname "$LLAMA_SERVER")/llama-batched-bench"

store="$(mktemp -d)"
ours_pid="" theirs_pid=""
stop_servers() {
  for pid in $ours_pid $theirs_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  ours_pid="" theirs_pid=""
}
trap 'stop_servers; rm -rf "$store"' EXIT
wait_ready() { # url name
  for _ in $(seq 1 240); do curl -sf "$1" >/dev/null && return 0; sleep 0.5; done
  echo "$2 did not become ready ($1)" >&2; exit 1
}
start_ours() { # model log extra-settings...
  local model="$1" log="$2"; shift 2
  dotnet src/Inference.Server/bin/Release/net10.0/Inference.Server.dll --urls "http://127.0.0.1:$ours_port" \
    "--Inference:ModelsDirectory=$store" "--Inference:Threads=$threads" "--Inference:NumParallel=$parallel" \
    "--Inference:DefaultContextLength=$ctx" --Inference:KeepAlive=-1 --Logging:LogLevel:Default=Warning \
    --Logging:LogLevel:Inference.Engine.Models.ModelManager=Information --model "bench=$model" "$@" >"$log" 2>&1 &
  ours_pid=$!
  wait_ready "http://127.0.0.1:$ours_port/api/version" "our server"
}
start_theirs() { # model log extra-flags...
  local model="$1" log="$2"; shift 2
  "$LLAMA_SERVER" -m "$model" --host 127.0.0.1 --port "$theirs_port" -t "$threads" -tb "$threads" \
    -c $((ctx * parallel)) -np "$parallel" -b 512 -ub 512 --no-webui "$@" >"$log" 2>&1 &
  theirs_pid=$!
  wait_ready "http://127.0.0.1:$theirs_port/health" "llama-server"
}
settings="$threads threads, context $ctx per sequence, $parallel parallel sequences (ours: --Inference:NumParallel=$parallel; llama-server: -np $parallel -c $((ctx * parallel)) -b 512 -ub 512), greedy (temperature 0, repeat_penalty 1.1 over 64 tokens: our /v1 applies Ollama's defaults, llama-server is sent the same), streaming /v1/completions"

reports=() ceilings=()
for which in $which_models; do
  case "$which" in
    1b) model="$model_1b"; label="llama3.2-1b-shaped Q4_K_M"; decode=64; prefill=512; streams_tokens=32 ;;
    stories) model="$models_dir/stories260K.gguf"; label="stories260K"; decode=128; prefill=512; streams_tokens=128 ;;
    *) echo "unknown model '$which' in BENCH_MODELS" >&2; exit 2 ;;
  esac
  [ -f "$model" ] || { echo "missing $model" >&2; exit 2; }
  echo "== $label: bare llama_decode ceilings"
  dotnet "$(bin Inference.Benchmarks)" batch-ceiling --model "$model" --threads "$threads" --json "$out/ceiling-$which.json" >/dev/null
  ceilings+=(--ceiling "$label=$out/ceiling-$which.json")
  if [ -x "$batched_bench" ]; then
    "$batched_bench" -m "$model" -c 4096 -b 512 -ub 512 -npp 8 -ntg 16 -npl 1,8 -t "$threads" --output-format jsonl \
      2>/dev/null | grep '^{' >"$out/batched-bench-$which.jsonl"
    ceilings+=(--their-ceiling "$label=$out/batched-bench-$which.jsonl")
  fi

  echo "== $label: side by side"
  start_theirs "$model" "$out/llama-server-$which.log"
  start_ours "$model" "$out/server-$which.log"
  dotnet "$(bin Inference.LoadTool)" versus --ours "http://127.0.0.1:$ours_port" --theirs "http://127.0.0.1:$theirs_port" \
    --ours-pid "$ours_pid" --theirs-pid "$theirs_pid" --tokenize-url "http://127.0.0.1:$theirs_port" \
    --label "$label" --pairs "$pairs" --decode-tokens "$decode" --prefill-tokens "$prefill" --stream-tokens "$streams_tokens" \
    --settings "$settings" --json "$out/versus-$which.json" >/dev/null || echo "(errors: see $out/versus-$which.json)"
  reports+=("$out/versus-$which.json")
  stop_servers
done

options_args=()
if [ "${BENCH_SKIP_OPTIONS:-0}" != 1 ] && [[ " $which_models " == *" 1b "* ]]; then
  echo "== flash attention and KV cache types (our server, $model_1b)"
  options_md="$out/options.md"
  {
    echo "### Flash attention and KV cache type (our server, llama3.2-1b-shaped Q4_K_M, NumParallel 1)"
    echo
    echo "| flash attention | KV cache | decode tok/s (1 stream, 64 tokens) | KV cache (MiB, 5 sequences x $ctx) |"
    echo "|---|---|---|---|"
  } >"$options_md"
  for option in off:f16 on:f16 on:q8_0 on:q4_0; do
    fa="${option%%:*}" kv="${option##*:}"
    saved_parallel="$parallel"; parallel=1
    start_ours "$model_1b" "$out/server-options-$fa-$kv.log" "--Inference:FlashAttention=$fa" "--Inference:KvCacheType=$kv"
    parallel="$saved_parallel"
    dotnet "$(bin Inference.LoadTool)" --url "http://127.0.0.1:$ours_port" --model bench --api openai-completions \
      --requests 2 --warmup 1 --prompt-tokens 32 --output-tokens 64 --label "options-$fa-$kv" --json "$out/options-$fa-$kv.json" >/dev/null
    tok_s=$(sed -n 's/.*"generated_tokens_per_second": \([0-9.]*\).*/\1/p' "$out/options-$fa-$kv.json")
    kv_mib=$(sed -n 's/.*KV cache \([0-9.]*\) MiB.*/\1/p' "$out/server-options-$fa-$kv.log" | head -1)
    printf '| %s | %s | %.1f | %s |\n' "$fa" "$kv" "$tok_s" "${kv_mib:-?}" >>"$options_md"
    stop_servers
  done
  options_args=(--options "$options_md")
fi

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
avx512=$(grep -q avx512f /proc/cpuinfo && echo "AVX-512" || echo "no AVX-512")
their_version="${LLAMA_SERVER_REF:-$("$LLAMA_SERVER" --version 2>&1 | grep -m1 version || echo "unknown version")}"
header="Side by side with llama-server ($their_version) on $cpu, $(nproc) cores, $avx512, $(free -g | awk '/^Mem:/{print $2}') GiB; $(date -u +%Y-%m-%d); scripts/bench-vs-llama-server.sh finished in $(( $(date +%s) - started )) s."
dotnet "$(bin Inference.LoadTool)" versus-report --out "$out/report.md" --header "$header" "${ceilings[@]}" "${options_args[@]}" "${reports[@]}"
echo "results: $out"
