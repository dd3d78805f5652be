#!/usr/bin/env bash
# Installs tunecheck for the GitHub Action (action.yml) and puts it on PATH
# for the job's later steps (through $GITHUB_PATH).
#
#   TUNECHECK_INSTALL        release (default): the release archive for this
#                            runner, checked against the release's checksums.txt;
#                            go: go install …/cmd/tunecheck@vVERSION (needs Go);
#                            path: the tunecheck already on PATH
#   TUNECHECK_VERSION        the release, e.g. 0.1.0 or v0.1.0
#   TUNECHECK_DOWNLOAD_BASE  where releases live (default
#                            https://github.com/tunecheck/tunecheck/releases/download);
#                            the archive is BASE/vVERSION/tunecheck_VERSION_OS_ARCH.tar.gz
#                            (.zip on Windows) beside BASE/vVERSION/checksums.txt.
#                            A file:// or http:// base serves a mirror or a test.
#   TUNECHECK_BIN_DIR        where the binary goes (default $RUNNER_TEMP/tunecheck-bin)
#   RUNNER_OS, RUNNER_ARCH   as GitHub sets them (Linux/macOS/Windows, X64/ARM64)
set -euo pipefail

die() {
  echo "tunecheck install: $*" >&2
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
    echo "::error title=tunecheck install::$*"
  fi
  exit 1
}

how="${TUNECHECK_INSTALL:-release}"
version="${TUNECHECK_VERSION:-}"
version="${version#v}"
bindir="${TUNECHECK_BIN_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tunecheck-bin}"
exe=""
[[ "${RUNNER_OS:-}" == "Windows" ]] && exe=".exe"

check_version() {
  # A version goes into a URL and a module query: digits, dots and a
  # pre-release or build suffix only.
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
    die "version '${TUNECHECK_VERSION:-}' is not a release version such as 0.1.0 (the action's version input)"
}

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | awk '{print $1}'
  elif command -v shasum >/dev/null; then
    shasum -a 256 "$1" | awk '{print $1}'
  else
    die "neither sha256sum nor shasum is installed, so the download cannot be checked"
  fi
}

fetch() { # URL DEST
  curl -fsSL --retry 3 --retry-delay 2 -o "$2" "$1" || die "could not download $1"
}

case "$how" in
release)
  check_version
  case "${RUNNER_OS:-}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) die "no tunecheck release for RUNNER_OS='${RUNNER_OS:-}'; use install: go" ;;
  esac
  case "${RUNNER_ARCH:-}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) die "no tunecheck release for RUNNER_ARCH='${RUNNER_ARCH:-}'; use install: go" ;;
  esac
  ext=tar.gz
  [[ "$os" == windows ]] && ext=zip
  archive="tunecheck_${version}_${os}_${arch}.${ext}"
  base="${TUNECHECK_DOWNLOAD_BASE:-https://github.com/tunecheck/tunecheck/releases/download}"
  base="${base%/}/v${version}"

  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "tunecheck install: downloading $base/$archive"
  fetch "$base/checksums.txt" "$tmp/checksums.txt"
  fetch "$base/$archive" "$tmp/$archive"
  want="$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/checksums.txt")"
  [[ -n "$want" ]] || die "checksums.txt of v$version has no line for $archive"
  got="$(sha256 "$tmp/$archive")"
  [[ "$got" == "$want" ]] ||
    die "checksum mismatch for $archive: checksums.txt says $want, the download's SHA-256 is $got; not installing it"
  echo "tunecheck install: sha256 $got matches checksums.txt"

  mkdir -p "$tmp/x"
  if [[ "$ext" == zip ]]; then
    if command -v unzip >/dev/null; then
      unzip -q "$tmp/$archive" -d "$tmp/x" || die "could not unpack $archive"
    else
      powershell -NoProfile -Command "Expand-Archive -LiteralPath '$tmp/$archive' -DestinationPath '$tmp/x'" || die "could not unpack $archive"
    fi
  else
    tar -xzf "$tmp/$archive" -C "$tmp/x" || die "could not unpack $archive"
  fi
  bin="$(find "$tmp/x" -type f -name "tunecheck$exe" | head -n 1)"
  [[ -n "$bin" ]] || die "$archive holds no tunecheck$exe"
  mkdir -p "$bindir"
  cp "$bin" "$bindir/tunecheck$exe"
  chmod +x "$bindir/tunecheck$exe"
  ;;
go)
  check_version
  command -v go >/dev/null || die "install: go needs Go on the runner (add actions/setup-go before this action)"
  mkdir -p "$bindir"
  echo "tunecheck install: go install github.com/tunecheck/tunecheck/cmd/tunecheck@v$version"
  GOBIN="$bindir" go install "github.com/tunecheck/tunecheck/cmd/tunecheck@v$version" ||
    die "go install github.com/tunecheck/tunecheck/cmd/tunecheck@v$version failed"
  ;;
path)
  found="$(command -v "tunecheck$exe" || true)"
  [[ -n "$found" ]] || die "install: path, but no tunecheck is on PATH"
  bindir="$(dirname "$found")"
  ;;
*)
  die "install '$how' is not one of release, go, path"
  ;;
esac

[[ -x "$bindir/tunecheck$exe" ]] || die "$bindir/tunecheck$exe was not installed"
if [[ -n "${GITHUB_PATH:-}" ]]; then
  echo "$bindir" >>"$GITHUB_PATH"
fi
"$bindir/tunecheck$exe" version || die "the installed $bindir/tunecheck$exe does not run on this runner"
