#!/usr/bin/env bash
# Packs the GPU check (issue 17) so that it travels to a GPU machine that has the CUDA toolkit but no .NET SDK
# and no internet, in a working tree of at most 64 MiB (the device tool's limit): scripts/publish-gpu-bundle.sh's
# self-contained single files are 166 MB for the three programs, since each carries its own .NET runtime.
#
#   scripts/pack-gpu-device-run.sh --llama-git URL-or-path [OUT_DIR]     (default OUT_DIR: dist/device-run)
#
# OUT_DIR then holds
#   bundle.tar.xz      the bundle (scripts/publish-gpu-bundle.sh --shared-runtime: the server, load tool and
#                      ModelGen framework-dependent, beside one .NET runtime copied from this SDK)
#   llama-cpp.tar.xz   `git archive` of the commit LLamaSharp binds, without llama.cpp's docs, models and
#                      other parts the build does not read (build-llama-native.sh --archive checks its commit id)
#   run.sh             what runs there: unpacks the bundle into dist/device-work, builds the CUDA natives with the
#                      tools there (continuing a build cut off before), runs scripts/gpu-check.sh --with-llama-server,
#                      and copies the report and logs to $OUT
# and prints the sizes. Run it there as `bash dist/device-run/run.sh` (the device tool: carry dist/device-run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
llama_git="" out="$root/dist/device-run"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --llama-git) llama_git="${2:?--llama-git needs a URL or path}"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) out="$1"; shift ;;
    esac
done
[[ -n "$llama_git" ]] || { echo "pack-gpu-device-run: give --llama-git URL-or-path (llama.cpp's repository)" >&2; exit 2; }
commit="$(grep -oE 'Commit = "[0-9a-f]{40}"' "$root/src/Inference.Engine/Backend/LlamaCppVersion.cs" | grep -oE '[0-9a-f]{40}')"

rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$root/scripts/publish-gpu-bundle.sh" --shared-runtime "$work/gpu-bundle"
tar -C "$work" -cf - gpu-bundle | xz -T0 -6 >"$out/bundle.tar.xz"

# The commit's tree without what neither the libraries nor llama-server and llama-batched-bench are built from.
llama="$work/llama.git"
if [[ -d "$llama_git" ]]; then llama="$llama_git"; else
    git init -q --bare "$llama"
    git -C "$llama" fetch -q --depth 1 "$llama_git" "$commit"
fi
# tools/ui stays for its CMakeLists.txt (tools/CMakeLists.txt adds it with the server; LLAMA_BUILD_UI=OFF builds no UI),
# without the web app's sources under it. git archive reads excluded blobs' attributes too, and only reports
# (exit 0) the ones a mirror lacks (llama.cpp's models/*.gguf): those messages are dropped, the tree is checked below.
git -C "$llama" archive --format=tar "$commit" -- . \
    ':!docs' ':!models' ':!media' ':!app' ':!benches' ':!pocs' ':!.devops' ':!.github' ':!gguf-py' \
    ':!conversion' ':!requirements' ':!skills' ':!tests' ':!examples' ':(exclude,glob)tools/ui/*/**' \
    2> >(grep -v "for 'models/" >&2) | xz -T0 -6 >"$out/llama-cpp.tar.xz"
listing="$(xz -dc "$out/llama-cpp.tar.xz" | tar -t)"
for needed in CMakeLists.txt include/llama.h src/llama.cpp ggml/CMakeLists.txt ggml/src/ggml-cuda/CMakeLists.txt \
        common/CMakeLists.txt tools/CMakeLists.txt tools/ui/CMakeLists.txt tools/server/CMakeLists.txt tools/batched-bench/CMakeLists.txt; do
    grep -qx "$needed" <<<"$listing" || { echo "pack-gpu-device-run: $needed is missing from llama-cpp.tar.xz" >&2; exit 1; }
done

cat >"$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: bash dist/device-run/run.sh [gpu-check.sh options...]; results go to $OUT (or ./gpu-check-out).
# The work folder (default dist/device-work, beside this folder, so that carrying this folder again does not
# replace it) keeps the llama.cpp build: a second run continues a build a time limit cut off, and skips one
# that finished. DEVICE_RUN_NATIVES=DIR uses a build made elsewhere (with GPU_CHECK_ALLOW_CPU=1, the rehearsal
# on a CPU machine).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
results="${OUT:-$PWD/gpu-check-out}"
work="${DEVICE_RUN_WORK:-$here/../device-work}"
mkdir -p "$results" "$work"
work="$(cd "$work" && pwd)"
tar -C "$work" -xJf "$here/bundle.tar.xz" || { echo "run.sh: could not unpack the bundle" >&2; exit 2; }
bundle="$work/gpu-bundle"
natives="${DEVICE_RUN_NATIVES:-$work/natives}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$results/nvidia-smi.csv" 2>&1
start=$(date +%s)
if [[ -f "$natives/LLAMA_CPP_COMMIT" ]]; then
    echo "natives: $natives, built before ($(cat "$natives/LLAMA_CPP_BACKEND" 2>/dev/null))" | tee "$results/build.log"
else
    "$bundle/scripts/build-llama-native.sh" --archive "$here/llama-cpp.tar.xz" --backend cuda --cuda-arch native --with-tools \
        --build-dir "$work/build" --out "$natives" >"$results/build.log" 2>&1
    built=$?
    echo "natives built: exit $built, $(( $(date +%s) - start )) s" | tee -a "$results/build.log"
    if [[ $built -ne 0 ]]; then tail -n 30 "$results/build.log"; exit "$built"; fi
fi
(cd "$work" && "$bundle/scripts/gpu-check.sh" --natives "$natives" --with-llama-server \
    --work "$work/check" --out "$results/gpu-check.json" "$@") >"$results/gpu-check.log" 2>&1
code=$?
echo "gpu-check: exit $code, $(( $(date +%s) - start )) s in all" | tee -a "$results/gpu-check.log"
cp "$work"/check/*.log "$work"/check/*-[18].json "$results/" 2>/dev/null
tail -n 30 "$results/gpu-check.log"
exit $code
RUN
chmod +x "$out/run.sh"

du -b "$out"/* | awk '{printf "%-40s %6.1f MB\n", $2, $1 / 1e6; s += $1} END {printf "%-40s %6.1f MB (the device tool carries at most 64 MiB = 67.1 MB, the working tree included)\n", "together", s / 1e6}'
