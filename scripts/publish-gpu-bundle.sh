#!/usr/bin/env bash
# Makes the folder scripts/gpu-check.sh runs from, on a GPU machine with the CUDA toolkit but no .NET SDK
# and no internet. Run it here (where the SDK is); copy the folder and a llama.cpp source there.
#
#   scripts/publish-gpu-bundle.sh [OUT_DIR]          (default: dist/gpu-bundle)
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
out="${1:-$root/dist/gpu-bundle}"
models_dir="${INFERENCE_TEST_MODELS:-$root/../shared/models}"
rid=linux-x64

rm -rf "$out"
mkdir -p "$out/scripts" "$out/src/Inference.Engine/Backend" "$out/models"
publish() { # project folder [extra properties...]
    dotnet publish "$root/$1" -c Release -r "$rid" --self-contained -nologo -v quiet \
        -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none "${@:3}" -o "$out/$2"
}
publish src/Inference.Server server -p:InferenceBackend=None
publish benchmarks/Inference.LoadTool loadtool
publish benchmarks/Inference.ModelGen modelgen

cp "$root/scripts/gpu-check.sh" "$root/scripts/build-llama-native.sh" "$out/scripts/"
cp "$root/src/Inference.Engine/Backend/LlamaCppVersion.cs" "$out/src/Inference.Engine/Backend/"
cp "$models_dir/stories260K.gguf" "$out/models/"

size() { du -sb "$@" | awk '{s += $1} END {printf "%.1f MB (%d bytes)", s / 1e6, s}'; }
{
    echo "server:   $(size "$out/server")"
    echo "loadtool: $(size "$out/loadtool")"
    echo "modelgen: $(size "$out/modelgen")"
    echo "bundle without test models: $(size "$out/server" "$out/loadtool" "$out/modelgen" "$out/scripts" "$out/src")"
} | tee "$out/SIZES"
