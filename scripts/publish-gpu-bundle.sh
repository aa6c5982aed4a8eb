#!/usr/bin/env bash
# Makes the folder scripts/gpu-check.sh runs from, on a GPU machine with the CUDA toolkit but no .NET SDK
# and no internet. Run it here (where the SDK is); copy the folder and a llama.cpp source there.
#
#   scripts/publish-gpu-bundle.sh [--shared-runtime] [OUT_DIR]          (default: dist/gpu-bundle)
#
# --shared-runtime publishes the three programs framework-dependent instead, beside one .NET runtime copied
# from this SDK into dotnet/ (gpu-check.sh sets DOTNET_ROOT to it): what scripts/pack-gpu-device-run.sh packs,
# since three self-contained files carry three runtimes.
#
#   server/Inference.Server      self-contained single file, compressed, without llama.cpp inside
#                                (-p:InferenceBackend=None: the natives are built there, Inference:NativeLibraryPath)
#   loadtool/Inference.LoadTool  the load tool, the same way (single-stream and 8-stream runs)
#   modelgen/Inference.ModelGen  writes the llama3.2:1b-shaped test model there (random weights, no download)
#   scripts/, src/.../LlamaCppVersion.cs   gpu-check.sh, build-llama-native.sh and the commit it reads
#   models/stories260K.gguf      a test model (counted apart from the size target)
# Prints the sizes and writes them to OUT_DIR/SIZES.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared_runtime=0
if [[ "${1:-}" == --shared-runtime ]]; then shared_runtime=1; shift; fi
out="${1:-$root/dist/gpu-bundle}"
models_dir="${INFERENCE_TEST_MODELS:-$root/../shared/models}"
rid=linux-x64

rm -rf "$out"
mkdir -p "$out/scripts" "$out/src/Inference.Engine/Backend" "$out/models"
publish() { # project folder [extra properties...]
    if [[ $shared_runtime == 1 ]]; then
        dotnet publish "$root/$1" -c Release -r "$rid" --no-self-contained -nologo -v quiet -p:DebugType=none "${@:3}" -o "$out/$2"
    else
        dotnet publish "$root/$1" -c Release -r "$rid" --self-contained -nologo -v quiet \
            -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none "${@:3}" -o "$out/$2"
    fi
}
publish src/Inference.Server server -p:InferenceBackend=None
publish benchmarks/Inference.LoadTool loadtool
publish benchmarks/Inference.ModelGen modelgen

if [[ $shared_runtime == 1 ]]; then
    # The newest installed runtime of the programs' major version (.NET rolls forward to it), with the host and muxer.
    sdk_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
    major="$(dotnet --version | cut -d. -f1)"
    mkdir -p "$out/dotnet/shared"
    cp -a "$sdk_root/dotnet" "$sdk_root/host" "$out/dotnet/"
    for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
        version="$(ls "$sdk_root/shared/$framework" | grep "^$major\." | sort -V | tail -1)"
        mkdir -p "$out/dotnet/shared/$framework"
        cp -a "$sdk_root/shared/$framework/$version" "$out/dotnet/shared/$framework/"
    done
fi
cp "$root/scripts/gpu-check.sh" "$root/scripts/build-llama-native.sh" "$out/scripts/"
cp "$root/src/Inference.Engine/Backend/LlamaCppVersion.cs" "$out/src/Inference.Engine/Backend/"
cp "$models_dir/stories260K.gguf" "$out/models/"

size() { du -sb "$@" | awk '{s += $1} END {printf "%.1f MB (%d bytes)", s / 1e6, s}'; }
{
    echo "server:   $(size "$out/server")"
    echo "loadtool: $(size "$out/loadtool")"
    echo "modelgen: $(size "$out/modelgen")"
    [[ $shared_runtime == 1 ]] && echo "dotnet:   $(size "$out/dotnet")"
    parts=("$out/server" "$out/loadtool" "$out/modelgen" "$out/scripts" "$out/src")
    [[ $shared_runtime == 1 ]] && parts+=("$out/dotnet")
    echo "bundle without test models: $(size "${parts[@]}")"
} | tee "$out/SIZES"
