#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the source that the npm package
# node-llama-cpp ships (llama/gitRelease.bundle, a git bundle of one llama.cpp
# release), and prints the binary's path on stdout. The binary is cached outside
# the repository, keyed by the package version, so only a fresh machine pays
# for the build (449 s on 2 idle cores, measured):
#
#   ${TUNECHECK_LLAMA_CACHE:-${XDG_CACHE_HOME:-~/.cache}/tunecheck/llama-server}/node-llama-cpp-VERSION-ARCH-CPUKEY/llama-server
#
# Needs npm (to fetch the package from the registry), git, cmake and a C++
# compiler; as root with apt-get, missing cmake/g++/git are installed. With
# --check it only says whether the tools are there (exit 0) or not (exit 3,
# naming them), and builds nothing. With --source DIR it also leaves the
# llama.cpp source tree in DIR (the training script needs its gguf-py writer).
#
# The package is pinned by version and by the registry's sha512 integrity, so
# the source cannot change under us.
set -euo pipefail

NLC_VERSION=3.21.1
NLC_INTEGRITY='sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg=='

cache_root=${TUNECHECK_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tunecheck/llama-server}
# The build is native (-DGGML_NATIVE=ON: the instructions of this CPU), so the
# cache is keyed by the CPU's feature flags too: a cache shared between
# machines (a network home, a CI cache) never hands one CPU's binary to another.
cpu_key() {
	local flags
	flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || sysctl -n machdep.cpu.features machdep.cpu.leaf7_features hw.optional 2>/dev/null || uname -m)
	printf '%s' "$flags" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-12
}
dest=$cache_root/node-llama-cpp-$NLC_VERSION-$(uname -m)-$(cpu_key)
bin=$dest/llama-server

check_only=false
source_out=
while [[ $# -gt 0 ]]; do
	case $1 in
	--check) check_only=true ;;
	--source) source_out=$2; shift ;;
	--print-cache) echo "$bin"; exit 0 ;;
	*) echo "llama-server.sh: unknown argument $1 (use --check, --source DIR or --print-cache)" >&2; exit 2 ;;
	esac
	shift
done

log() { printf 'llama-server.sh: %s\n' "$*" >&2; }

missing_tools() {
	local t
	for t in npm git tar; do command -v "$t" >/dev/null || echo "$t"; done
	if [[ ! -x $bin || -n $source_out ]]; then
		command -v cmake >/dev/null || echo cmake
		command -v c++ >/dev/null || command -v g++ >/dev/null || echo "a C++ compiler (g++)"
	fi
}

if [[ -n $(missing_tools) ]] && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null && ! $check_only; then
	log "installing $(missing_tools | paste -sd' ' -) with apt-get"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ git tar npm >&2 || true
fi
if [[ -n $(missing_tools) ]]; then
	log "cannot build llama-server: missing $(missing_tools | paste -sd, - | sed 's/,/, /g')"
	log "install them (Debian/Ubuntu: sudo apt-get install -y cmake g++ git npm; macOS: brew install cmake node)"
	log "and run again, or point the tests at a llama-server you have: TUNECHECK_LLAMA_SERVER=/path/to/llama-server"
	exit 3
fi
if $check_only; then
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch_source() {
	local into=$1
	log "fetching node-llama-cpp@$NLC_VERSION from the npm registry"
	(cd "$work" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null)
	local tgz=$work/node-llama-cpp-$NLC_VERSION.tgz
	local got
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" 2>/dev/null | base64 -w0 || true)"
	if [[ $got == sha512- ]]; then
		got="sha512-$(python3 -c 'import base64,hashlib,sys;print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$tgz")"
	fi
	if [[ $got != "$NLC_INTEGRITY" ]]; then
		log "node-llama-cpp@$NLC_VERSION does not match its pinned integrity ($got); refusing to build it"
		exit 1
	fi
	tar -xzf "$tgz" -C "$work" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
	log "llama.cpp source bundled by node-llama-cpp (its llama.cpp.info.json tag: $(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "$work/package/llama/llama.cpp.info.json"))"
	rm -rf "$into"
	git clone -q "$work/package/llama/gitRelease.bundle" "$into" 2>/dev/null
}

if [[ -n $source_out && ! -f $source_out/CMakeLists.txt ]]; then
	fetch_source "$source_out"
fi

if [[ -x $bin ]] && "$bin" --version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi

src=${source_out:-$work/llama.cpp}
[[ -f $src/CMakeLists.txt ]] || fetch_source "$src"

jobs=$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)
log "building llama-server with $jobs jobs (cached afterwards in $dest)"
start=$SECONDS
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
	-DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF \
	-DLLAMA_USE_PREBUILT_UI=OFF -DGGML_NATIVE=ON >"$work/cmake.log" 2>&1 ||
	{ tail -40 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "$jobs" >"$work/build.log" 2>&1 ||
	{ tail -60 "$work/build.log" >&2; exit 1; }
mkdir -p "$dest"
cp "$work/build/bin/llama-server" "$dest/llama-server.tmp.$$"
mv "$dest/llama-server.tmp.$$" "$bin"
log "built in $((SECONDS - start)) s: $bin"
echo "$bin"
