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
# BENCH_PAIRS (1B model; BENCH_STORIES_PAIRS for stories260K), BENCH_THREADS, BENCH_PARALLEL change the settings; BENCH_SKIP_OPTIONS=1 skips the
# flash-attention / KV-cache-type rows; BENCH_MODELS="1b stories" picks the models; LLAMA_SERVER_REF
# names llama-server's source in the report when --version cannot (a build outside git says "0 (unknown)").
# BENCH_OURS_NATIVES=DIR runs our server and its ceiling on a llama.cpp build of one's own (--Inference:NativeLibraryPath,
# batch-ceiling --natives), e.g. the build llama-server came from (scripts/build-llama-native.sh --with-tools), so that
# both servers run the same library and the table compares the servers alone; its results go to <date>-vs-llama-server-own-natives.
# BENCH_DRY_RUN=1 prints every command it would run (builds, benchmarks, both servers) and starts nothing.
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
ours_natives="${BENCH_OURS_NATIVES:-}"
ours_native_args=() ceiling_native_args=()
if [ -n "$ours_natives" ]; then
  ours_natives="$(cd "$ours_natives" && pwd)"
  ours_native_args=("--Inference:NativeLibraryPath=$ours_natives") ceiling_native_args=(--natives "$ours_natives")
fi
out="$root/benchmarks/results/$(date -u +%Y%m%d)-vs-llama-server${ours_natives:+-own-natives}"
dry="${BENCH_DRY_RUN:-0}"
[ "$dry" = 1 ] && out="$(mktemp -d)/dry-run"
# A run the same day replaces that day's results: no log of an earlier run is left to be read as this one's.
rm -rf "$out"
mkdir -p "$out" "$(dirname "$model_1b")"
started=$(date +%s)
# Runs a command, or only prints it in a dry run (to the script's own output, fd 3, whatever the command's are sent to).
exec 3>&1
run() {
  if [ "$dry" = 1 ]; then { printf '+'; printf ' %q' "$@"; echo; } >&3; else "$@"; fi
}
# The same for a server started in the background (`run_bg cmd... &`): the subshell becomes the command (exec),
# so $! is the server's own pid, which the RSS readings and stop_servers need (a plain `run ... &` left $! naming a
# bash subshell: RSS read as 2 MiB and the servers outlived their kill, answering the next model's runs).
run_bg() {
  if [ "$dry" = 1 ]; then run "$@"; else exec "$@"; fi
}

run dotnet build -c Release Inference.sln -v quiet -nologo >/dev/null
bin() { echo "$root/benchmarks/$1/bin/Release/net10.0/$1.dll"; }
if [ ! -f "$model_1b" ]; then
  run dotnet "$(bin Inference.ModelGen)" --preset llama3.2-1b --quant q4_k_m --out "$model_1b"
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
  [ "$dry" = 1 ] && return 0
  for _ in $(seq 1 240); do curl -sf "$1" >/dev/null && return 0; sleep 0.5; done
  echo "$2 did not become ready ($1)" >&2; exit 1
}
port_free() { # port: refuse to measure a server left over from an earlier run instead of the one just started
  [ "$dry" = 1 ] && return 0
  if curl -s -o /dev/null "http://127.0.0.1:$1/"; then echo "port $1 is already in use: stop what listens there (or set BENCH_PORT)" >&2; exit 1; fi
}
start_ours() { # model log extra-settings...
  local model="$1" log="$2"; shift 2
  port_free "$ours_port"
  run_bg dotnet src/Inference.Server/bin/Release/net10.0/Inference.Server.dll --urls "http://127.0.0.1:$ours_port" \
    "--Inference:ModelsDirectory=$store" "--Inference:Threads=$threads" "--Inference:NumParallel=$parallel" \
    "--Inference:DefaultContextLength=$ctx" --Inference:KeepAlive=-1 --Logging:LogLevel:Default=Warning \
    --Logging:LogLevel:Inference.Engine.Models.ModelManager=Information --model "bench=$model" "${ours_native_args[@]}" "$@" >"$log" 2>&1 &
  ours_pid=$!
  wait_ready "http://127.0.0.1:$ours_port/api/version" "our server"
}
start_theirs() { # model log extra-flags...
  local model="$1" log="$2"; shift 2
  port_free "$theirs_port"
  run_bg "$LLAMA_SERVER" -m "$model" --host 127.0.0.1 --port "$theirs_port" -t "$threads" -tb "$threads" \
    -c $((ctx * parallel)) -np "$parallel" -b 512 -ub 512 --no-webui "$@" >"$log" 2>&1 &
  theirs_pid=$!
  wait_ready "http://127.0.0.1:$theirs_port/health" "llama-server"
}
ours_library="LLamaSharp 0.30.0's bundled llama.cpp"
[ -n "$ours_natives" ] && ours_library="the llama.cpp build in $ours_natives (Inference:NativeLibraryPath)"
settings="ours on $ours_library; $threads threads, context $ctx per sequence, $parallel parallel sequences (ours: --Inference:NumParallel=$parallel; llama-server: -np $parallel -c $((ctx * parallel)) -b 512 -ub 512), greedy (temperature 0, repeat_penalty 1.1 over 64 tokens: our /v1 applies Ollama's defaults, llama-server is sent the same), streaming /v1/completions"

# The bare ceilings of $model ($which, $label), measured before and after its side-by-side runs (suffix "" and
# "-after"): the report takes the mean of the two, so a machine that changed speed in between moves both sides' shares alike.
measure_ceilings() { # file-name suffix
  local suffix="$1" shape npp ntg npl lines try
  echo "== $label: bare llama_decode ceilings${suffix:+ again, after the side-by-side runs} ($(( $(date +%s) - started )) s in)"
  run dotnet "$(bin Inference.Benchmarks)" batch-ceiling --model "$model" --threads "$threads" "${ceiling_native_args[@]}" --json "$out/ceiling-$which$suffix.json" >/dev/null
  ceilings+=(--ceiling "$label=$out/ceiling-$which$suffix.json")
  [ -x "$batched_bench" ] || return 0
  # Each shape in runs of its own, three lines of each: the report takes the median of each (one run of 32
  # steps is a second or two, which one stall of this machine's can cut by a third). On stories260K a run takes
  # about 10 ms, and llama-batched-bench then often exits 0 before its log thread has printed the line (15 of 30
  # runs with 1 sequence here, 7 of 9 with 8): runs are repeated, up to twenty, until three lines came.
  # llama.cpp's log goes to a file.
  : >"$out/batched-bench-$which$suffix.jsonl"
  # Decode: 8-token prompts, 32 steps, 1 and 8 sequences. Prefill: one 512-token prompt (its speed_pp; one step after),
  # what batch-ceiling's prefill_512_tok_s measures on our side.
  for shape in 8:32:1 8:32:8 512:1:1; do
    IFS=: read -r npp ntg npl <<<"$shape"
    lines=0
    for try in $(seq 20); do
      [ "$lines" -ge 3 ] && break
      run "$batched_bench" -m "$model" -c 4096 -b 512 -ub 512 -npp "$npp" -ntg "$ntg" -npl "$npl" -t "$threads" --output-format jsonl \
        2>"$out/batched-bench-$which$suffix-$npp-$npl-$try.log" | grep -o '{.*}' >>"$out/batched-bench-$which$suffix.jsonl" && lines=$((lines + 1))
      [ "$dry" = 1 ] && break
    done
    [ "$lines" -ge 3 ] || [ "$dry" = 1 ] || echo "(llama-batched-bench -npp $npp -npl $npl on $label wrote $lines lines in $try runs: see $out/batched-bench-$which$suffix-$npp-$npl-*.log)"
  done
  ceilings+=(--their-ceiling "$label=$out/batched-bench-$which$suffix.jsonl")
}

reports=() ceilings=()
for which in $which_models; do
  case "$which" in
    1b) model="$model_1b"; label="llama3.2-1b-shaped Q4_K_M"; decode=64; streams_tokens=32; model_pairs="$pairs"; whole_tokens=0 ;;
    # Runs on stories260K take milliseconds, so more pairs and tokens cost little and steady the medians. Its
    # whole-response runs (8 non-streamed requests x 160 tokens, ours /api/generate, llama-server /completion, one
    # after another and all at once) show per-token overhead without the streaming writers.
    stories) model="$models_dir/stories260K.gguf"; label="stories260K"; decode=256; streams_tokens=128; model_pairs="${BENCH_STORIES_PAIRS:-15}"; whole_tokens=160 ;;
    *) echo "unknown model '$which' in BENCH_MODELS" >&2; exit 2 ;;
  esac
  [ -f "$model" ] || [ "$dry" = 1 ] || { echo "missing $model" >&2; exit 2; }
  measure_ceilings ""
  echo "== $label: side by side ($(( $(date +%s) - started )) s in)"
  start_theirs "$model" "$out/llama-server-$which.log"
  start_ours "$model" "$out/server-$which.log"
  run dotnet "$(bin Inference.LoadTool)" versus --ours "http://127.0.0.1:$ours_port" --theirs "http://127.0.0.1:$theirs_port" \
    --ours-pid "$ours_pid" --theirs-pid "$theirs_pid" --tokenize-url "http://127.0.0.1:$theirs_port" \
    --label "$label" --pairs "$model_pairs" --decode-tokens "$decode" --prefill-tokens 512 --stream-tokens "$streams_tokens" \
    --whole-requests 8 --whole-tokens "$whole_tokens" \
    --settings "$settings" --json "$out/versus-$which.json" >/dev/null || echo "(errors: see $out/versus-$which.json)"
  reports+=("$out/versus-$which.json")
  stop_servers
  measure_ceilings "-after"
done

options_args=()
if [ "${BENCH_SKIP_OPTIONS:-0}" != 1 ] && [[ " $which_models " == *" 1b "* ]]; then
  echo "== flash attention and KV cache types, 1 parallel sequence ($(( $(date +%s) - started )) s in)"
  options_md="$out/options.md"
  {
    echo "### Flash attention and KV cache type (llama3.2-1b-shaped Q4_K_M, 1 parallel sequence, 2 requests x 64 tokens after a warm-up)"
    echo
    echo "Ours: --Inference:FlashAttention / --Inference:KvCacheType (OLLAMA_FLASH_ATTENTION / OLLAMA_KV_CACHE_TYPE); llama-server: -fa / -ctk -ctv with -np 1 -c $ctx."
    echo "KV MiB is what each server's log reports it allocated: ours holds $ctx cells for each of 1 running + 4 cached sequences (Inference:PrefixCacheSequences), llama-server $ctx for its one slot."
    echo
    echo "| flash attention | KV cache | ours tok/s | llama-server tok/s | ratio | ours KV MiB | llama-server KV MiB | ours RSS MiB | llama-server RSS MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
  } >"$options_md"
  rss_mib() { awk '/^VmRSS:/{printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
  tok_s() { sed -n 's/.*"generated_tokens_per_second": \([0-9.]*\).*/\1/p' "$1" 2>/dev/null || echo 0; }
  option_load() { # url label
    run dotnet "$(bin Inference.LoadTool)" --url "$1" --model bench --api openai-completions \
      --requests 2 --warmup 1 --prompt-tokens 32 --output-tokens 64 --label "$2" --json "$out/$2.json" >/dev/null \
      || echo "($2: errors, see $out/$2.json)" # llama-server can fail on its own output (#27543): keep the row
  }
  saved_parallel="$parallel"; parallel=1
  run_ours_option() {
    start_ours "$model_1b" "$out/server-options-$fa-$kv.log" "--Inference:FlashAttention=$fa" "--Inference:KvCacheType=$kv"
    option_load "http://127.0.0.1:$ours_port" "options-ours-$fa-$kv"
    ours_rss=$(rss_mib "$ours_pid")
    stop_servers
  }
  run_theirs_option() { # -lv 4: llama.cpp's KV cache line is logged at that verbosity (a few lines per request)
    start_theirs "$model_1b" "$out/llama-server-options-$fa-$kv.log" -fa "$fa" -ctk "$kv" -ctv "$kv" -lv 4
    option_load "http://127.0.0.1:$theirs_port" "options-theirs-$fa-$kv"
    theirs_rss=$(rss_mib "$theirs_pid")
    stop_servers
  }
  row=0
  for option in off:f16 on:f16 on:q8_0 on:q4_0; do
    fa="${option%%:*}" kv="${option##*:}"
    # Alternate which server goes first from row to row, as the side-by-side runs do.
    if [ $((row++ % 2)) = 0 ]; then run_ours_option; run_theirs_option; else run_theirs_option; run_ours_option; fi
    ours_tok=$(tok_s "$out/options-ours-$fa-$kv.json") theirs_tok=$(tok_s "$out/options-theirs-$fa-$kv.json")
    ours_kv=$(sed -n 's/.*(KV cache [a-z0-9_]* \([0-9.]*\) MiB.*/\1/p' "$out/server-options-$fa-$kv.log" 2>/dev/null | head -1)
    theirs_kv=$(sed -n 's/.*llama_kv_cache: size = *\([0-9.]*\) MiB.*/\1/p' "$out/llama-server-options-$fa-$kv.log" 2>/dev/null | head -1)
    printf '| %s | %s | %.1f | %.1f | %.2f | %s | %s | %s | %s |\n' "$fa" "$kv" "$ours_tok" "$theirs_tok" \
      "$(echo "$ours_tok $theirs_tok" | awk '{print ($2 > 0 ? $1 / $2 : 0)}')" "${ours_kv:-?}" "${theirs_kv:-?}" "$ours_rss" "$theirs_rss" >>"$options_md"
  done
  parallel="$saved_parallel"
  options_args=(--options "$options_md")
fi

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1) (CPU family $(lscpu | sed -n 's/^CPU family: *//p' | head -1))"
avx512=$(grep -q avx512f /proc/cpuinfo && echo "AVX-512" || echo "no AVX-512")
their_version="${LLAMA_SERVER_REF:-$("$LLAMA_SERVER" --version 2>&1 | grep -m1 version || echo "unknown version")}"
header="Side by side with llama-server ($their_version) on $cpu, $(nproc) cores, $avx512, $(free -g | awk '/^Mem:/{print $2}') GiB; $(date -u +%Y-%m-%d); scripts/bench-vs-llama-server.sh finished in $(( $(date +%s) - started )) s."
run dotnet "$(bin Inference.LoadTool)" versus-report --out "$out/report.md" --header "$header" "${ceilings[@]}" "${options_args[@]}" "${reports[@]}"
echo "results: $out"
