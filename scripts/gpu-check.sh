#!/usr/bin/env bash
# The device check (issue 17), for a machine with an NVIDIA GPU and the CUDA toolkit, without a .NET SDK
# or internet. Runs from the folder scripts/publish-gpu-bundle.sh makes (this script sits in its scripts/):
#
#   scripts/gpu-check.sh (--llama-source DIR | --llama-git URL-or-path | --natives DIR) [options]
#
#   --llama-source / --llama-git   llama.cpp to build with scripts/build-llama-native.sh --backend cuda
#   --natives DIR                  use that build instead of building one
#   --model PATH                   the GGUF to load (default: the llama3.2:1b-shaped Q4_K_M model, written
#                                  once by the bundle's Inference.ModelGen into WORK_DIR)
#   --with-llama-server            also measure llama-server from the same build (needs a --with-tools build)
#   --requests N                   measured requests per single-stream run (default 8; the 8-stream runs send 4N)
#   --output-tokens N              tokens generated per request (default 128)
#   --work DIR                     builds, model, logs (default: ./gpu-check-work)
#   --out PATH                     the JSON report (default: WORK_DIR/gpu-check.json)
#
# It checks, failing with exit code 1 otherwise: the server starts with Inference:NativeLibraryPath and logs
# a CUDA device; the model loads with all layers offloaded (Inference:DefaultGpuLayers=-1) and /api/ps
# reports size_vram > 0. Then the load tool runs 1 and 8 streams (streaming /v1/completions, greedy), and
# the same runs against llama-server when asked, alternating servers so drift hits both.
# GPU_CHECK_ALLOW_CPU=1 runs the same steps on a CPU build (--backend cpu, no CUDA device or size_vram
# asserted): the way the script itself is tested on a machine without a GPU.
# Only 127.0.0.1 is contacted.
set -euo pipefail
bundle="$(cd "$(dirname "$0")/.." && pwd)"
allow_cpu="${GPU_CHECK_ALLOW_CPU:-0}"
llama_args=() natives="" model="" with_llama_server=0 requests=8 output_tokens=128 work="$PWD/gpu-check-work" report=""
die() { echo "gpu-check: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --llama-source) llama_args=(--source "${2:?}"); shift 2 ;;
        --llama-git) llama_args=(--git "${2:?}"); shift 2 ;;
        --natives) natives="${2:?}"; shift 2 ;;
        --model) model="${2:?}"; shift 2 ;;
        --with-llama-server) with_llama_server=1; shift ;;
        --requests) requests="${2:?}"; shift 2 ;;
        --output-tokens) output_tokens="${2:?}"; shift 2 ;;
        --work) work="${2:?}"; shift 2 ;;
        --out) report="${2:?}"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ -n "$natives" || ${#llama_args[@]} -gt 0 ]] || die "give --llama-source DIR, --llama-git URL or --natives DIR"
command -v curl >/dev/null || die "curl is not installed"
server="$bundle/server/Inference.Server" loadtool="$bundle/loadtool/Inference.LoadTool"
# A --shared-runtime bundle's programs are framework-dependent: their runtime is the bundle's dotnet/.
[[ -x "$bundle/dotnet/dotnet" ]] && export DOTNET_ROOT="$bundle/dotnet"
[[ -x "$server" && -x "$loadtool" ]] || die "$bundle is not a bundle from scripts/publish-gpu-bundle.sh (no server/Inference.Server or loadtool/Inference.LoadTool)"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
report="${report:-$work/gpu-check.json}"
if [[ "$allow_cpu" == 1 ]]; then backend=cpu; else backend=cuda; fi
failures=()
fail() { echo "gpu-check: FAILED: $*" >&2; failures+=("$*"); }

# 1. The natives, built here for this GPU.
if [[ -z "$natives" ]]; then
    natives="$work/llama-native-$backend"
    build_flags=(--backend "$backend" --out "$natives" --build-dir "$work/build-$backend")
    [[ $backend == cuda ]] && build_flags+=(--cuda-arch native)
    [[ $with_llama_server == 1 ]] && build_flags+=(--with-tools)
    "$bundle/scripts/build-llama-native.sh" "${llama_args[@]}" "${build_flags[@]}"
fi
natives="$(cd "$natives" && pwd)"
if [[ $with_llama_server == 1 && ! -x "$natives/llama-server" ]]; then die "$natives has no llama-server (build with --with-tools)"; fi

# 2. The model.
if [[ -z "$model" ]]; then
    model="$work/llama3.2-1b-q4_k_m.gguf"
    [[ -f "$model" ]] || "$bundle/modelgen/Inference.ModelGen" --preset llama3.2-1b --quant q4_k_m --out "$model"
fi
[[ -f "$model" ]] || die "no model at $model"

ours_port="${GPU_CHECK_PORT:-11610}" theirs_port=$(( ${GPU_CHECK_PORT:-11610} + 1 ))
parallel=8 ctx=2048
ours_pid="" theirs_pid="" store="$(mktemp -d)"
stop() { for pid in $ours_pid $theirs_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }
trap 'stop; rm -rf "$store"' EXIT
wait_ready() { # url pid name log
    for _ in $(seq 1 600); do
        curl -sf "$1" >/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { tail -20 "$4" >&2; die "$3 exited during start-up (log: $4)"; }
        sleep 0.5
    done
    die "$3 did not become ready ($1; log: $4)"
}

# 3. Our server on the natives, everything offloaded.
ours_log="$work/server.log"
"$server" --urls "http://127.0.0.1:$ours_port" "--Inference:NativeLibraryPath=$natives" "--Inference:Backend=$backend" \
    --Inference:DefaultGpuLayers=-1 "--Inference:ModelsDirectory=$store" --Inference:KeepAlive=-1 \
    "--Inference:NumParallel=$parallel" "--Inference:DefaultContextLength=$ctx" --model "bench=$model" >"$ours_log" 2>&1 &
ours_pid=$!
wait_ready "http://127.0.0.1:$ours_port/api/version" "$ours_pid" "the server" "$ours_log"

device_line="$(grep -m1 'llama.cpp backend: requested' "$ours_log" || true)"
[[ -n "$device_line" ]] || fail "no start-up line 'llama.cpp backend: ...' in $ours_log"
[[ "$device_line" == *"$natives/libllama.so"* ]] || fail "the start-up line does not name $natives/libllama.so"
if [[ $backend == cuda ]]; then
    [[ "$device_line" == *"devices: "*CUDA0* ]] || fail "the start-up line names no CUDA device"
else
    [[ "$device_line" == *"devices: CPU"* ]] || fail "the start-up line names no CPU device"
fi

curl -sf "http://127.0.0.1:$ours_port/api/generate" -d '{"model":"bench","prompt":"Hello","stream":false,"options":{"num_predict":1}}' >/dev/null \
    || fail "the model did not load (log: $ours_log)"
ps_json="$(curl -sf "http://127.0.0.1:$ours_port/api/ps" || echo '{}')"
size_vram="$(grep -oE '"size_vram":[0-9]+' <<<"$ps_json" | head -1 | cut -d: -f2)"
size_vram="${size_vram:-0}"
if [[ $backend == cuda && "$size_vram" -le 0 ]]; then fail "/api/ps reports size_vram $size_vram: nothing was offloaded"; fi

# 4. Throughput: 1 and 8 streams, ours and (when asked) llama-server's, alternating.
start_theirs() {
    "$natives/llama-server" -m "$model" --host 127.0.0.1 --port "$theirs_port" -ngl 999 -np "$parallel" \
        -c $((ctx * parallel)) -b 512 -ub 512 >"$work/llama-server.log" 2>&1 &
    theirs_pid=$!
    wait_ready "http://127.0.0.1:$theirs_port/health" "$theirs_pid" "llama-server" "$work/llama-server.log"
}
load() { # port label clients requests
    "$loadtool" --url "http://127.0.0.1:$1" --model bench --api openai-completions --clients "$3" --requests "$4" \
        --output-tokens "$output_tokens" --prompt-tokens 128 --warmup "$3" --label "$2" --json "$work/$2.json" >&2 \
        || fail "load run $2 reported errors"
}
tokens_per_second() { grep -oE '"generated_tokens_per_second": *[0-9.eE+-]+' "$work/$1.json" | head -1 | sed 's/.*: *//'; }

load "$ours_port" ours-1 1 "$requests"
load "$ours_port" ours-8 8 $((requests * 4))
if [[ $with_llama_server == 1 ]]; then
    kill "$ours_pid"; wait "$ours_pid" 2>/dev/null || true; ours_pid=""   # one server holds the GPU at a time
    start_theirs
    load "$theirs_port" llama-server-1 1 "$requests"
    load "$theirs_port" llama-server-8 8 $((requests * 4))
fi

# 5. The report.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "null" }'; }
ours1="$(tokens_per_second ours-1)" ours8="$(tokens_per_second ours-8)"
json_string() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "$s"; }
{
    printf '{\n  "backend": "%s",\n  "natives": %s,\n  "llama_cpp_commit": %s,\n  "model": %s,\n' \
        "$backend" "$(json_string "$natives")" "$(json_string "$(cat "$natives/LLAMA_CPP_COMMIT" 2>/dev/null || echo unknown)")" "$(json_string "$model")"
    printf '  "gpu": %s,\n' "$(json_string "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)")"
    printf '  "startup_device_line": %s,\n  "size_vram": %s,\n' "$(json_string "$device_line")" "$size_vram"
    printf '  "ours": { "single_stream_tokens_per_second": %s, "eight_streams_tokens_per_second": %s, "batching_gain": %s },\n' \
        "$ours1" "$ours8" "$(ratio "$ours8" "$ours1")"
    if [[ $with_llama_server == 1 ]]; then
        theirs1="$(tokens_per_second llama-server-1)" theirs8="$(tokens_per_second llama-server-8)"
        printf '  "llama_server": { "single_stream_tokens_per_second": %s, "eight_streams_tokens_per_second": %s, "batching_gain": %s },\n' \
            "$theirs1" "$theirs8" "$(ratio "$theirs8" "$theirs1")"
        printf '  "ratio_vs_llama_server": { "single_stream": %s, "eight_streams": %s },\n' "$(ratio "$ours1" "$theirs1")" "$(ratio "$ours8" "$theirs8")"
    fi
    printf '  "runs": "%s",\n  "failures": [' "$work/{ours,llama-server}-{1,8}.json"
    for i in "${!failures[@]}"; do printf '%s%s' "$([[ $i -gt 0 ]] && echo ', ')" "$(json_string "${failures[$i]}")"; done
    printf ']\n}\n'
} >"$report"
cat "$report"
[[ ${#failures[@]} -eq 0 ]] || { echo "gpu-check: ${#failures[@]} check(s) failed" >&2; exit 1; }
echo "gpu-check: passed; report in $report" >&2
