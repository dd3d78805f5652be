#!/usr/bin/env bash
# release.sh builds the release archives and their checksums into a dist directory.
#
#   scripts/release.sh --version v1.2.3                        # all six targets into dist/
#   scripts/release.sh --version v1.2.3 --targets linux/amd64,darwin/arm64 --dist /tmp/d
#
# Each target gets one archive, named so that scripts and the GitHub Action can
# compute it:
#
#   tunecheck_<version without the v>_<os>_<arch>.tar.gz   (.zip for windows)
#
# holding, at its top level, the binary (tunecheck, or tunecheck.exe), README.md
# and LICENSE when the repository has one. checksums.txt beside them lists every
# archive in `sha256sum` format, so `sha256sum -c --ignore-missing checksums.txt`
# verifies a download. Binaries are static (CGO_ENABLED=0), built with -trimpath
# and carry the version and commit through -ldflags, which `tunecheck version`
# prints. Archives of the same commit are byte-identical: files are sorted, owned
# by 0:0 and dated at the commit's time.
#
# This is what a GoReleaser config would do; GoReleaser itself is not used
# because no approved release of it is served to this project. Needs Go, git,
# GNU tar, gzip, zip and sha256sum (a CI runner or a Debian machine has them).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly all_targets="linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64"
readonly pkg=github.com/tunecheck/tunecheck

die() {
	echo "release.sh: $*" >&2
	exit 2
}

usage() {
	cat >&2 <<EOF
usage: $0 [--version vX.Y.Z] [--targets os/arch,...] [--dist DIR]
  --version  the version to stamp and name the archives by (default: git describe --tags --match 'v*')
  --targets  comma-separated GOOS/GOARCH pairs (default: $all_targets)
  --dist     output directory, emptied first (default: dist)
EOF
	exit 2
}

version=""
targets=$all_targets
dist=dist
while [[ $# -gt 0 ]]; do
	case $1 in
	--version) version=${2:?--version needs a value}; shift 2 ;;
	--version=*) version=${1#*=}; shift ;;
	--targets) targets=${2:?--targets needs a value}; shift 2 ;;
	--targets=*) targets=${1#*=}; shift ;;
	--dist) dist=${2:?--dist needs a value}; shift 2 ;;
	--dist=*) dist=${1#*=}; shift ;;
	-h | --help) usage ;;
	*) echo "release.sh: unknown argument $1" >&2; usage ;;
	esac
done

if [[ -z $version ]]; then
	version=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) ||
		die "no version given and no v* tag to describe: pass --version vX.Y.Z"
fi
# A semantic version with a leading v, as Go modules and the archive names use.
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
	die "--version $version is not a version like v1.2.3 or v1.2.3-rc.1"

commit=$(git rev-parse HEAD 2>/dev/null) || die "not a git checkout: the commit to stamp is unknown"
if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	commit="$commit-dirty"
fi
# Archive entries are dated at the commit, so a rebuild gives the same bytes.
epoch=$(git log -1 --format=%ct HEAD)

IFS=, read -r -a want <<<"$targets"
[[ ${#want[@]} -gt 0 ]] || die "--targets is empty"
for t in "${want[@]}"; do
	[[ ",$all_targets," == *",$t,"* ]] || die "unknown target $t: pick from $all_targets"
done

for tool in go tar gzip zip sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (on macOS: brew install gnu-tar and put gtar first on PATH as tar)"

rm -rf "$dist"
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

extras=(README.md)
if [[ -f LICENSE ]]; then extras+=(LICENSE); fi

ldflags="-s -w -X $pkg/internal/cli.Version=$version -X $pkg/internal/cli.Commit=$commit"
archives=()
for t in "${want[@]}"; do
	goos=${t%/*}
	goarch=${t#*/}
	name="tunecheck_${version#v}_${goos}_${goarch}"
	bin=tunecheck
	[[ $goos == windows ]] && bin=tunecheck.exe
	dir="$stage/$name"
	mkdir -p "$dir"
	echo "release.sh: building $t" >&2
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "$ldflags" -o "$dir/$bin" ./cmd/tunecheck
	cp "${extras[@]}" "$dir/"
	files=("$bin" "${extras[@]}")
	IFS=$'\n' read -r -d '' -a files < <(printf '%s\n' "${files[@]}" | LC_ALL=C sort) || true
	touch -d "@$epoch" "${files[@]/#/$dir/}"
	if [[ $goos == windows ]]; then
		archive=$name.zip
		(cd "$dir" && TZ=UTC zip -q -X "$dist/$archive" "${files[@]}")
	else
		archive=$name.tar.gz
		tar -C "$dir" --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
			-cf - "${files[@]}" | gzip -n -9 >"$dist/$archive"
	fi
	archives+=("$archive")
done

(cd "$dist" && printf '%s\n' "${archives[@]}" | LC_ALL=C sort | xargs sha256sum >checksums.txt)
echo "release.sh: $version ($commit) -> $dist" >&2
(cd "$dist" && ls -l "${archives[@]}" checksums.txt) >&2
