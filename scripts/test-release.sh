#!/usr/bin/env bash
# test-release.sh proves the install routes README.md offers; scripts/test.sh
# runs it, and it runs alone too:
#
#   1. release archive: scripts/release.sh builds this machine's archive at a
#      test version; its checksum verifies, it holds the binary, README.md (and
#      LICENSE when there is one), the binary is static and built with
#      -trimpath, and `tunecheck version` prints the version and commit.
#   2. the other release targets (of linux, darwin, windows × amd64, arm64):
#      every package of the command, ours and our dependencies', type-checks
#      from source for that GOOS/GOARCH (scripts/typecheck). A cold cross build
#      costs about as much CPU as the native one, five of them far more than
#      this suite's budget; type-checking catches what breaks a cross build in
#      practice (platform files missing or mistyped) at a fraction of it, and
#      the release workflow builds all six. TUNECHECK_RELEASE_BUILD=all builds
#      and checks all six archives here instead (GitHub's CI does), or name
#      some: TUNECHECK_RELEASE_BUILD=linux/amd64,windows/arm64; this machine's
#      target is always built, and the rest type-checked.
#   3. go install: this module, laid out as a module proxy on disk at the test
#      version (scripts/modproxy), installs with
#      `go install github.com/tunecheck/tunecheck/cmd/tunecheck@VERSION`
#      outside the repository, offline, and `tunecheck version` names VERSION.
#   4. Dockerfile: multi-stage, static (CGO_ENABLED=0), non-root, pinned base
#      images, and clean under a Dockerfile linter (hadolint when installed,
#      else dockerfile-utils from npm; SKIP, loudly, when neither can be had,
#      and a failure in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly version=v0.9.9-test
readonly module=github.com/tunecheck/tunecheck
readonly all="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
readonly dockerfile_utils=dockerfile-utils@0.16.3

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

step() { printf '== release: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

host="$(go env GOHOSTOS)/$(go env GOHOSTARCH)"
[[ " $all " == *" $host "* ]] || fail "this machine ($host) is none of the release targets ($all)"
case ${TUNECHECK_RELEASE_BUILD:-} in
all) extra=$all ;;
*) extra=${TUNECHECK_RELEASE_BUILD:-} ;;
esac
build=("$host")
others=()
for t in ${extra//,/ }; do
	[[ " $all " == *" $t "* ]] || fail "TUNECHECK_RELEASE_BUILD names $t, which is none of the release targets ($all)"
done
for t in $all; do
	if [[ $t == "$host" ]]; then
		continue
	elif [[ " ${extra//,/ } " == *" $t "* ]]; then
		build+=("$t")
	else
		others+=("$t")
	fi
done
commit=$(git rev-parse HEAD)
[[ -z $(git status --porcelain --untracked-files=no) ]] || commit="$commit-dirty"

# --- 1 and 2: release archives -------------------------------------------------
step "scripts/release.sh --version $version --targets $(IFS=,; echo "${build[*]}")"
scripts/release.sh --version "$version" --targets "$(IFS=,; echo "${build[*]}")" --dist "$work/dist"

(cd "$work/dist" && sha256sum --strict -c checksums.txt) || fail "checksums.txt does not verify the archives"
[[ $(wc -l <"$work/dist/checksums.txt") -eq ${#build[@]} ]] || fail "checksums.txt lists $(wc -l <"$work/dist/checksums.txt") archives, want ${#build[@]}"

want_files() {
	local bin=$1
	{
		echo "$bin"
		echo README.md
		if [[ -f LICENSE ]]; then echo LICENSE; fi
	} | LC_ALL=C sort
}
for t in "${build[@]}"; do
	os=${t%/*} arch=${t#*/}
	name="tunecheck_${version#v}_${os}_${arch}"
	if [[ $os == windows ]]; then
		got=$(unzip -Z1 "$work/dist/$name.zip" | LC_ALL=C sort)
		want=$(want_files tunecheck.exe)
	else
		got=$(tar -tzf "$work/dist/$name.tar.gz" | LC_ALL=C sort)
		want=$(want_files tunecheck)
	fi
	[[ $got == "$want" ]] || fail "$name holds [$(tr '\n' ' ' <<<"$got")], want [$(tr '\n' ' ' <<<"$want")]"
done

hostname="tunecheck_${version#v}_${host%/*}_${host#*/}"
mkdir "$work/unpacked"
tar -xzf "$work/dist/$hostname.tar.gz" -C "$work/unpacked"
bin="$work/unpacked/tunecheck"
info=$(go version -m "$bin")
for setting in "CGO_ENABLED=0" "-trimpath=true"; do
	grep -qF "build	$setting" <<<"$info" || fail "$hostname's binary was not built with $setting:
$info"
done
got=$("$bin" version)
want="tunecheck $version (commit $commit, $(go env GOVERSION) $host)"
[[ $got == "$want" ]] || fail "the archive's tunecheck version printed
  $got
want
  $want"
step "$hostname.tar.gz: checksum, contents, static, -trimpath; $got"

if [[ ${#others[@]} -gt 0 ]]; then
	step "type-check for ${others[*]}"
	go run ./scripts/typecheck "${others[@]}"
fi

# --- 3: go install from a module proxy -----------------------------------------
step "go install $module/cmd/tunecheck@$version from a module proxy directory"
go run ./scripts/modproxy -version "$version" -out "$work/proxy"
mkdir "$work/elsewhere"
# Outside the repository and any workspace, with a module cache of its own (so
# the test version never lands in yours), dependencies from your module cache's
# download directory, nothing from the network. -trimpath and CGO_ENABLED=0, as
# the release build above, let the build cache serve the dependencies.
(
	cd "$work/elsewhere"
	env GOWORK=off GOFLAGS="-trimpath" CGO_ENABLED=0 GOTOOLCHAIN=local GOSUMDB=off GONOSUMDB= GOPRIVATE= GONOPROXY= \
		GOPROXY="file://$work/proxy,file://$(go env GOMODCACHE)/cache/download" \
		GOMODCACHE="$work/modcache" GOBIN="$work/gobin" \
		go install "$module/cmd/tunecheck@$version" 2>"$work/install.log"
) || fail "go install $module/cmd/tunecheck@$version failed:
$(grep -v '^go: downloading' "$work/install.log")"
got=$("$work/gobin/tunecheck" version)
[[ $got == "tunecheck $version "* ]] || fail "the go-installed tunecheck version printed
  $got
want it to start with
  tunecheck $version"
info=$(go version -m "$work/gobin/tunecheck")
grep -qE "^	mod	$module	$version	" <<<"$info" || fail "the go-installed binary's build info does not name $module $version:
$info"
step "go install: $got"

# --- 4: Dockerfile ---------------------------------------------------------------
step "Dockerfile"
froms=$(grep -cE '^FROM ' Dockerfile)
[[ $froms -ge 2 ]] || fail "Dockerfile: want a multi-stage build (a build stage and a final stage), found $froms FROM lines"
grep -qE '^RUN CGO_ENABLED=0 ' Dockerfile || fail "Dockerfile: the build stage must build with CGO_ENABLED=0 (a static binary)"
while read -r image; do
	case $image in
	*@sha256:*) ;;
	*:latest | *:*latest*) fail "Dockerfile: base image $image is not pinned (latest)" ;;
	*:*) ;;
	*) fail "Dockerfile: base image $image has no tag" ;;
	esac
done < <(grep -E '^FROM ' Dockerfile | sed -E 's/^FROM (--platform=[^ ]+ )?//; s/ .*//')
last_user=$(grep -E '^USER ' Dockerfile | tail -1 | awk '{print $2}')
case ${last_user%%:*} in
"" | root | 0) fail "Dockerfile: the final stage must run as a non-root USER (found '${last_user:-none}')" ;;
esac

if command -v hadolint >/dev/null; then
	hadolint Dockerfile || fail "hadolint has findings on Dockerfile"
	step "hadolint: clean"
else
	lint=""
	if command -v npm >/dev/null; then
		tools="${XDG_CACHE_HOME:-$HOME/.cache}/tunecheck-tools"
		lint="$tools/node_modules/.bin/dockerfile-utils"
		if [[ ! -x $lint ]]; then
			npm install --silent --no-audit --no-fund --prefix "$tools" "$dockerfile_utils" >&2 || lint=""
		fi
	fi
	if [[ -n $lint && -x $lint ]]; then
		out=$("$lint" lint Dockerfile 2>&1) && rc=0 || rc=$?
		[[ $rc -eq 0 && -z $out ]] || fail "$dockerfile_utils has findings on Dockerfile:
$out"
		step "$dockerfile_utils lint: clean"
	elif [[ ${CI:-} == true ]]; then
		fail "no Dockerfile linter: install hadolint, or npm so that $dockerfile_utils can be installed"
	else
		printf '\n!!!!! SKIP: Dockerfile not linted: neither hadolint nor npm (for %s) is installed\n\n' "$dockerfile_utils" >&2
	fi
fi
step "all install routes check out"
