#!/usr/bin/env bash
# Builds llama.cpp's shared libraries (libllama, libggml*, libmtmd) at exactly the commit LLamaSharp binds,
# for the backend asked, into a directory the server loads with Inference:NativeLibraryPath.
#
#   scripts/build-llama-native.sh (--source DIR | --git URL-or-path | --archive FILE) [--backend cpu|cpu-native|cuda|vulkan|hip]
#                                 [--out DIR] [--with-tools] [--allow-other-commit] [--build-dir DIR]
#                                 [--jobs N] [--cuda-arch LIST] [-- extra cmake arguments]
#
# --source DIR     an existing llama.cpp checkout; refused unless its HEAD is the expected commit.
# --git URL        a git remote or local repository (a bare mirror works) to take the expected commit from.
# --archive FILE   a `git archive` tarball of the expected commit (.tar, .tar.gz or .tar.xz; the commit is read from
#                  the id git writes into it: `git get-tar-commit-id`), as scripts/pack-gpu-device-run.sh makes one.
# --backend        cpu (portable x86-64-v3/AVX2 build, the default), cpu-native (-march=native),
#                  cuda (GGML_CUDA), vulkan (GGML_VULKAN), hip (GGML_HIP; pass the HIP compiler after --).
# --out DIR        where the libraries go (default: ./llama-native, the path the README sets
#                  Inference:NativeLibraryPath to).
# --with-tools     also builds llama-server and llama-batched-bench (the benchmarks compare against them).
# --cuda-arch LIST CMAKE_CUDA_ARCHITECTURES, e.g. "native" or "80;90" (default: llama.cpp's own list).
#
# Nothing is downloaded: the source comes from the path or remote named, FetchContent is disconnected,
# and the parts of llama.cpp that would fetch (prebuilt web UI, BoringSSL, llguidance) are switched off.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version_file="$repo_root/src/Inference.Engine/Backend/LlamaCppVersion.cs"
# The commit is written once, in C#; read it from there.
expected_commit="$(grep -oE 'Commit = "[0-9a-f]{40}"' "$version_file" | grep -oE '[0-9a-f]{40}')" || {
    echo "build-llama-native: no commit found in $version_file" >&2; exit 2; }

source_dir="" git_remote="" archive="" backend="cpu" out_dir="$PWD/llama-native" with_tools=0 allow_other=0
build_dir="" jobs="$(nproc 2>/dev/null || echo 2)" cuda_arch="" extra_cmake=()

die() { echo "build-llama-native: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --source) source_dir="${2:?--source needs a directory}"; shift 2 ;;
        --git) git_remote="${2:?--git needs a URL or path}"; shift 2 ;;
        --archive) archive="${2:?--archive needs a file}"; shift 2 ;;
        --backend) backend="${2:?--backend needs a value}"; shift 2 ;;
        --out) out_dir="${2:?--out needs a directory}"; shift 2 ;;
        --build-dir) build_dir="${2:?--build-dir needs a directory}"; shift 2 ;;
        --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
        --cuda-arch) cuda_arch="${2:?--cuda-arch needs a value}"; shift 2 ;;
        --with-tools) with_tools=1; shift ;;
        --allow-other-commit) allow_other=1; shift ;;
        --) shift; extra_cmake=("$@"); break ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

sources=0
for given in "$source_dir" "$git_remote" "$archive"; do [[ -n "$given" ]] && sources=$((sources + 1)); done
[[ $sources -gt 1 ]] && die "give one of --source, --git and --archive"
[[ $sources -eq 0 ]] && die "give the llama.cpp source: --source DIR, --git URL-or-path or --archive FILE (nothing is downloaded otherwise)"

case "$backend" in
    cpu) backend_flags=(-DGGML_NATIVE=OFF) ;;
    cpu-native) backend_flags=(-DGGML_NATIVE=ON) ;;
    cuda) backend_flags=(-DGGML_NATIVE=OFF -DGGML_CUDA=ON) ;;
    vulkan) backend_flags=(-DGGML_NATIVE=OFF -DGGML_VULKAN=ON) ;;
    hip) backend_flags=(-DGGML_NATIVE=OFF -DGGML_HIP=ON) ;;
    *) die "--backend must be cpu, cpu-native, cuda, vulkan or hip (got '$backend')" ;;
esac
[[ -n "$cuda_arch" ]] && backend_flags+=("-DCMAKE_CUDA_ARCHITECTURES=$cuda_arch")

command -v git >/dev/null || die "git is not installed"
build_dir="${build_dir:-${TMPDIR:-/tmp}/llama-native-build-$backend}"
mkdir -p "$build_dir"

if [[ -n "$git_remote" ]]; then
    # A checkout of our own at the expected commit. A local repository is borrowed through alternates
    # (no copy, and blobs the build never reads need not be present); a remote is fetched by hash,
    # all branches if the remote refuses that.
    source_dir="$build_dir/src"
    # A tree unpacked from an --archive into the same build directory is not a checkout: replaced.
    [[ -d "$source_dir" && ! -d "$source_dir/.git" ]] && rm -rf "$source_dir"
    if [[ ! -d "$source_dir/.git" ]]; then
        if [[ -d "$git_remote" ]]; then
            git clone -q --shared --no-checkout "$git_remote" "$source_dir" || die "could not clone '$git_remote'"
        else
            git init -q "$source_dir"
        fi
    fi
    if ! git -C "$source_dir" cat-file -e "$expected_commit^{commit}" 2>/dev/null; then
        git -C "$source_dir" fetch -q --depth 1 "$git_remote" "$expected_commit" 2>/dev/null \
            || git -C "$source_dir" fetch -q "$git_remote" '+refs/heads/*:refs/remotes/origin/*' \
            || die "could not fetch from '$git_remote'"
    fi
    # The vocabulary test files under models/ are large and unused by the build.
    git -C "$source_dir" sparse-checkout set --no-cone '/*' '!/models/*.gguf'
    git -C "$source_dir" -c advice.detachedHead=false checkout -q --force "$expected_commit" \
        || die "'$git_remote' does not contain llama.cpp commit $expected_commit"
fi

archive_commit=""
if [[ -n "$archive" ]]; then
    [[ -f "$archive" ]] || die "no archive at '$archive'"
    case "$archive" in
        *.tar.xz) unpack=(xz -dc) ;;
        *.tar.gz|*.tgz) unpack=(gzip -dc) ;;
        *.tar) unpack=(cat) ;;
        *) die "'$archive' is not a .tar, .tar.gz or .tar.xz file" ;;
    esac
    # git get-tar-commit-id reads the first header and stops: the unpacker's SIGPIPE is not a failure.
    archive_commit="$( ("${unpack[@]}" "$archive" 2>/dev/null || true) | git get-tar-commit-id)" \
        || die "'$archive' carries no commit id (make it with git archive from a commit, not a tree)"
    source_dir="$build_dir/src"
    # Unpacked once per commit: unpacking again would give every file a new time and rebuild everything, where a
    # build cut off (a time limit on a device) should continue.
    if [[ "$(cat "$source_dir/.archive-commit" 2>/dev/null)" != "$archive_commit" ]]; then
        rm -rf "$source_dir" && mkdir -p "$source_dir"
        "${unpack[@]}" "$archive" | tar -x -C "$source_dir"
        printf '%s\n' "$archive_commit" >"$source_dir/.archive-commit"
    fi
    # ggml embeds `git rev-parse --short HEAD` of its source as ggml_commit(), which the server checks before
    # loading the build; an unpacked archive has no .git, so ggml is given a stand-in git that answers with the
    # archive's commit (and "clean" to diff-index), and llama.cpp's build info the same commit.
    short_commit="${archive_commit:0:8}"
    stand_in_git="$build_dir/git-answering-$short_commit"
    printf '#!/bin/sh\n[ "$1" = rev-parse ] && echo %s\nexit 0\n' "$short_commit" >"$stand_in_git"
    chmod +x "$stand_in_git"
    extra_cmake=("-DGIT_EXE=$stand_in_git" "-DLLAMA_BUILD_COMMIT=$short_commit" "${extra_cmake[@]}")
else
    # CMake keeps both in its cache: a build directory an --archive build used before must not go on naming
    # that archive's commit for a checkout.
    extra_cmake=("-DGIT_EXE=$(command -v git)" -ULLAMA_BUILD_COMMIT "${extra_cmake[@]}")
fi

[[ -f "$source_dir/CMakeLists.txt" && -f "$source_dir/include/llama.h" ]] \
    || die "'$source_dir' is not a llama.cpp source tree (no CMakeLists.txt / include/llama.h)"
actual_commit="${archive_commit:-$(git -C "$source_dir" rev-parse HEAD 2>/dev/null || echo unknown)}"
if [[ "$actual_commit" != "$expected_commit" ]]; then
    if [[ $allow_other -eq 0 ]]; then
        die "'${archive:-$source_dir}' is at llama.cpp commit $actual_commit, but LLamaSharp 0.30.0 binds $expected_commit; check out that commit, or pass --allow-other-commit for a build the server will refuse to load"
    fi
    echo "build-llama-native: warning: building commit $actual_commit instead of $expected_commit (--allow-other-commit)" >&2
fi

command -v cmake >/dev/null || die "cmake is not installed"
targets=(llama mtmd)
if [[ $with_tools -eq 1 ]]; then
    tool_flags=(-DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON)
    targets+=(llama-server llama-batched-bench)
else
    tool_flags=(-DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_MTMD=ON)
fi

cmake_build="$build_dir/build"
echo "build-llama-native: llama.cpp $actual_commit, backend $backend, into $out_dir"
# $ORIGIN as the run path: the libraries and tools find each other wherever the directory is copied.
cmake -S "$source_dir" -B "$cmake_build" -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_LLGUIDANCE=OFF \
    -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON '-DCMAKE_INSTALL_RPATH=$ORIGIN' \
    "${tool_flags[@]}" "${backend_flags[@]}" "${extra_cmake[@]}"
cmake --build "$cmake_build" --config Release -j "$jobs" --target "${targets[@]}"

# llama.cpp puts every shared library and executable in build/bin.
bin="$cmake_build/bin"
mkdir -p "$out_dir"
shopt -s nullglob
# libllama, libggml*, libmtmd; with the tools also the libraries they link (libllama-common, libllama-server-impl).
libs=("$bin"/lib*.so*)
[[ ${#libs[@]} -gt 0 ]] || die "the build produced no shared libraries in $bin"
cp -a "${libs[@]}" "$out_dir/"
if [[ $with_tools -eq 1 ]]; then
    cp -a "$bin/llama-server" "$bin/llama-batched-bench" "$out_dir/"
fi
printf '%s\n' "$actual_commit" > "$out_dir/LLAMA_CPP_COMMIT"
printf '%s\n' "$backend" > "$out_dir/LLAMA_CPP_BACKEND"
echo "build-llama-native: done; set Inference:NativeLibraryPath=$out_dir"
ls -l "$out_dir"
