#!/usr/bin/env bash
# Build llama-cpp-python once per machine, portably, into a cache outside the checkout, and print
# the wheel's path. Install it with `pip install "$(bash ci/llama-cpp-wheel.sh)"`.
#
# Why: pip compiles llama-cpp-python with GGML_NATIVE=ON (-march=native) by default, so the model's
# greedy text differs between CPUs. -DGGML_NATIVE=OFF builds llama.cpp's portable x86-64 set (AVX,
# AVX2, FMA, F16C, BMI2; no AVX-512), which gives the same bytes on every x86-64 CPU with AVX2.
# pip's own wheel cache ignores CMAKE_ARGS (it could hand back a native wheel), so the build runs
# with --no-cache-dir and the result is kept under a key made of the version and the flags.
#
#   LLAMA_CPP_VERSION   default 0.3.36 (the pin in pyproject.toml)
#   LLAMA_CPP_CMAKE_ARGS  default -DGGML_NATIVE=OFF; LLAMA_CPP_CMAKE_ARGS=-DGGML_NATIVE=ON builds a native one
#   LLAMABOOK_WHEEL_CACHE default ~/.cache/llamabook/wheels
#   PYTHON              the interpreter whose pip builds it (the wheel is py3-none, any CPython 3 can use it)
set -euo pipefail

version=${LLAMA_CPP_VERSION:-0.3.36}
flags=${LLAMA_CPP_CMAKE_ARGS:--DGGML_NATIVE=OFF}
cache=${LLAMABOOK_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llamabook/wheels}
python=${PYTHON:-python3}

# The key names the flags in clear (for a person reading the folder) plus a short hash of them.
slug=$(printf '%s' "$flags" | tr -c 'A-Za-z0-9=_.-' '_' | cut -c1-60)
hash=$(printf '%s|%s' "$version" "$flags" | sha256sum | cut -c1-12)
dir="$cache/llama_cpp_python-$version-$slug-$hash"

wheel=$(ls "$dir"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n1 || true)
if [ -n "$wheel" ]; then
  echo "$wheel"
  exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "llama-cpp-wheel: compiling llama-cpp-python==$version with CMAKE_ARGS='$flags' (8-25 min on 2 cores, once per machine) into $dir" >&2
start=$(date +%s)
CMAKE_ARGS="$flags" "$python" -m pip --disable-pip-version-check -q wheel --no-deps --no-cache-dir \
  --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$version" >&2
printf 'version=%s\ncmake_args=%s\nbuilt=%s\nseconds=%s\ncpu=%s\n' "$version" "$flags" "$(date -u +%FT%TZ)" \
  "$(( $(date +%s) - start ))" "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')" > "$tmp/BUILD-INFO"
# Publish atomically: a concurrent or interrupted build never leaves a half-written cache entry.
rm -rf "$dir.partial" && mv "$tmp" "$dir.partial" && mv -T "$dir.partial" "$dir" 2>/dev/null || rm -rf "$dir.partial"
trap - EXIT
ls "$dir"/llama_cpp_python-"$version"-*.whl | head -n1
