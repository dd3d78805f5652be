#!/usr/bin/env bash
# The one test command (README.md, .ci/run): provides what the tests need (a
# throwaway PostgreSQL, Chromium for the HTML report's screenshot and the
# viewer's end-to-end tests, a llama-server built from source for the live
# tests), vets and runs every test, then proves the install routes
# (scripts/test-release.sh). Needs Go; PostgreSQL and Chromium are
# installed with apt-get when they are missing and we are root.
#
# Elsewhere (no root, no apt-get, macOS) it stops and says what to do:
#
#   TUNECHECK_TEST_POSTGRES=postgres://user:pass@host:5432/db ./scripts/test.sh   # your own server
#   TUNECHECK_TEST_POSTGRES=off ./scripts/test.sh     # PostgreSQL tests SKIP (refused when CI=true)
#   TUNECHECK_TEST_BROWSER=/path/to/chromium ./scripts/test.sh
#   TUNECHECK_TEST_BROWSER=off ./scripts/test.sh      # browser tests SKIP (refused when CI=true)
#   TUNECHECK_TEST_RELEASE=off ./scripts/test.sh      # no release/install checks (refused when CI=true)
#   TUNECHECK_LLAMA_SERVER=/path/to/llama-server ./scripts/test.sh   # your own build for the live tests
#   TUNECHECK_LLAMA_SERVER=off ./scripts/test.sh      # live llama-server tests SKIP (refused when CI=true)
#
# The live tests need llama.cpp's llama-server: scripts/llama-server.sh builds it
# (npm, git, cmake, g++; installed with apt-get when root) once and caches it.
set -euo pipefail
cd "$(dirname "$0")/.."

in_ci() { [[ ${CI:-} == true ]]; }
is_root() { [[ $(id -u) -eq 0 ]]; }
can_apt() { is_root && command -v apt-get >/dev/null; }

# skipped collects the loud SKIP lines, printed again after the tests.
skipped=()
skip() {
	local line="SKIP: $*"
	skipped+=("$line")
	printf '\n!!!!! %s\n\n' "$line" >&2
}
cleanup() {
	local rc=$?
	if [[ -n ${TUNECHECK_PG_DIR:-} ]]; then
		scripts/pg-test.sh stop >/dev/null 2>&1 || true
	fi
	[[ -n ${browser_dir:-} ]] && rm -rf "$browser_dir"
	# ${a[@]+...}: an empty array under set -u, in macOS's bash 3.2 too.
	for line in ${skipped[@]+"${skipped[@]}"}; do
		printf '!!!!! %s\n' "$line" >&2
	done
	exit "$rc"
}
trap cleanup EXIT

# --- tools for scripts/test-release.sh -----------------------------------------
release_tools_missing() {
	tar --version 2>/dev/null | grep -q 'GNU tar' || echo "GNU tar"
	local tool
	for tool in git gzip zip unzip sha256sum; do
		command -v "$tool" >/dev/null || echo "$tool"
	done
}
if [[ ${TUNECHECK_TEST_RELEASE:-} != off && -n $(release_tools_missing) ]]; then
	if can_apt; then
		echo "== installing the release checks' tools with apt-get" >&2
		apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y git tar gzip zip unzip coreutils >&2
	else
		cat >&2 <<EOF
test.sh: the release checks (scripts/test-release.sh) need $(release_tools_missing | paste -sd, - | sed 's/,/, /g'),
and apt-get cannot install them here (this needs root and apt-get). Do one of:

  - install them:  sudo apt-get install -y git tar gzip zip unzip coreutils   (Debian, Ubuntu)
                   brew install gnu-tar coreutils, with gnubin first on PATH    (macOS)
  - leave the release checks out (reported as SKIP; refused when CI=true):
      TUNECHECK_TEST_RELEASE=off ./scripts/test.sh
EOF
		exit 2
	fi
fi

# --- PostgreSQL ---------------------------------------------------------------
pg=${TUNECHECK_TEST_POSTGRES:-}
case $pg in
off)
	if in_ci; then
		echo "test.sh: TUNECHECK_TEST_POSTGRES=off is refused in CI (CI=true): CI must test the PostgreSQL store." >&2
		exit 2
	fi
	skip "PostgreSQL store tests are NOT run (TUNECHECK_TEST_POSTGRES=off); the SQLite store is tested alone"
	;;
"")
	if scripts/pg-test.sh available || can_apt; then
		# pg-test.sh prints `export TUNECHECK_TEST_POSTGRES=...` for the cluster it started.
		eval "$(scripts/pg-test.sh start)"
	else
		cat >&2 <<'EOF'
test.sh: the tests need PostgreSQL, and none can be started here: no PostgreSQL
binaries (initdb, pg_ctl, postgres in /usr/lib/postgresql/*/bin or on PATH), and
apt-get cannot install them (this needs root and apt-get). Do one of:

  - point the tests at a server you have (they create and drop their own schemas
    in that database):
      TUNECHECK_TEST_POSTGRES=postgres://user:pass@host:5432/db ./scripts/test.sh
  - install PostgreSQL, and this script starts a throwaway cluster itself:
      sudo apt-get install -y postgresql      (Debian, Ubuntu)
      brew install postgresql@17              (macOS; put its bin directory on PATH)
  - skip the PostgreSQL tests (reported as SKIP; refused when CI=true):
      TUNECHECK_TEST_POSTGRES=off ./scripts/test.sh
EOF
		exit 2
	fi
	;;
postgres://* | postgresql://*) ;;
*)
	echo "test.sh: TUNECHECK_TEST_POSTGRES must be a postgres://user:pass@host:5432/db URL or off, not \"$pg\"" >&2
	exit 2
	;;
esac

# --- Chromium -----------------------------------------------------------------
# have_chromium: an executable chromium or chromium-browser on PATH, as the tests look it up.
have_chromium() {
	local name path
	for name in chromium chromium-browser; do
		if path=$(command -v "$name") && [[ -f $path && -x $path ]]; then
			return 0
		fi
	done
	return 1
}
browser=${TUNECHECK_TEST_BROWSER:-}
case $browser in
off)
	if in_ci; then
		echo "test.sh: TUNECHECK_TEST_BROWSER=off is refused in CI (CI=true): CI must run the browser tests." >&2
		exit 2
	fi
	skip "browser tests (HTML report screenshot, viewer end-to-end) are NOT run unless chromium is on PATH (TUNECHECK_TEST_BROWSER=off)"
	;;
"")
	if ! have_chromium; then
		if can_apt; then
			echo "== installing chromium with apt-get" >&2
			apt-get update >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
		else
			cat >&2 <<'EOF'
test.sh: the browser tests need Chromium (a `chromium` or `chromium-browser` on
PATH), and apt-get cannot install it here (this needs root and apt-get). Do one of:

  - install it:  sudo apt-get install -y chromium   (Debian, Ubuntu)
                 brew install --cask chromium        (macOS)
  - name the binary (any Chromium or Chrome):
      TUNECHECK_TEST_BROWSER=/Applications/Chromium.app/Contents/MacOS/Chromium ./scripts/test.sh
  - skip the browser tests (reported as SKIP; refused when CI=true):
      TUNECHECK_TEST_BROWSER=off ./scripts/test.sh
EOF
			exit 2
		fi
	fi
	export TUNECHECK_REQUIRE_BROWSER=1
	;;
*)
	[[ -x $browser ]] || { echo "test.sh: TUNECHECK_TEST_BROWSER=$browser is not an executable file" >&2; exit 2; }
	# The tests look chromium up on PATH.
	browser_dir=$(mktemp -d)
	ln -s "$browser" "$browser_dir/chromium"
	export PATH="$browser_dir:$PATH"
	export TUNECHECK_REQUIRE_BROWSER=1
	;;
esac

# --- llama-server (the live tests against a real inference server) --------------
# scripts/llama-server.sh builds llama.cpp's llama-server from the source that
# the npm package node-llama-cpp ships (7.5 min on 2 idle cores, once: the binary is
# cached outside the repository) and prints its path; the live tests
# (internal/livetest, cmd/tunecheck/live_test.go) start it with the tiny models
# committed in examples/live-tiny/models.
llama=${TUNECHECK_LLAMA_SERVER:-}
case $llama in
off)
	if in_ci; then
		echo "test.sh: TUNECHECK_LLAMA_SERVER=off is refused in CI (CI=true): CI must run the live llama-server tests." >&2
		exit 2
	fi
	skip "live llama-server tests are NOT run (TUNECHECK_LLAMA_SERVER=off)"
	;;
"")
	if scripts/llama-server.sh --check 2>/dev/null || can_apt; then
		echo "== llama-server for the live tests (scripts/llama-server.sh; built once, then cached)" >&2
		llama=$(scripts/llama-server.sh)
		export TUNECHECK_LLAMA_SERVER=$llama
	else
		if in_ci; then
			echo "test.sh: the live tests need llama-server, and it cannot be built here:" >&2
			scripts/llama-server.sh --check || true
			exit 2
		fi
		skip "live llama-server tests are NOT run: the build toolchain is absent ($(scripts/llama-server.sh --check 2>&1 | head -1 | sed 's/^llama-server.sh: //')); install it, or set TUNECHECK_LLAMA_SERVER=/path/to/llama-server"
		export TUNECHECK_LLAMA_SERVER=off
	fi
	;;
*)
	[[ -x $llama ]] || { echo "test.sh: TUNECHECK_LLAMA_SERVER=$llama is not an executable file" >&2; exit 2; }
	;;
esac

echo "== go vet"
go vet ./...

# Before the tests, so that go test's summary closes the output.
if [[ ${TUNECHECK_TEST_RELEASE:-} == off ]]; then
	if in_ci; then
		echo "test.sh: TUNECHECK_TEST_RELEASE=off is refused in CI (CI=true)." >&2
		exit 2
	fi
	skip "release archives, go install and Dockerfile checks are NOT run (TUNECHECK_TEST_RELEASE=off)"
else
	echo "== release and install routes (scripts/test-release.sh)"
	scripts/test-release.sh
	# cmd/tunecheck's TestBinarySize: the stripped static binary stays under
	# 40 MB and the modules dropped for size stay out (issue 15).
	export TUNECHECK_SIZE_CHECK=1
fi

echo "== go test"
go test -count=1 -timeout 20m ./...
