#!/usr/bin/env bash
# size-breakdown.sh — what the tunecheck binary is made of, by module.
#
#   scripts/size-breakdown.sh [BINARY] [TOP]
#
# Without BINARY it builds ./cmd/tunecheck the way releases are built
# (CGO_ENABLED=0, -trimpath) but keeps the symbol table, which the breakdown
# needs, then also reports the stripped size (-ldflags='-s -w') that ships.
# Each symbol's size (go tool nm -size) is charged to the longest module path
# in `go version -m BINARY` that prefixes it, else to its package's first path
# element (runtime, net, crypto, …: the standard library). Embedded files and
# static data show under the package that declares them; type descriptors
# (type:*) and other linker-made symbols are charged by the package in their
# name where there is one, else to "(linker)". The figures are symbol bytes,
# which sum to less than the file: section headers, pclntab padding and
# DWARF-free metadata make up the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
top=${2:-15}
bin=${1:-}
if [[ -z "$bin" ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	CGO_ENABLED=0 go build -trimpath -o "$tmp/tunecheck.sym" ./cmd/tunecheck
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/tunecheck" ./cmd/tunecheck
	bin=$tmp/tunecheck.sym
	printf 'stripped static binary: %d bytes (%.1f MB)\n' "$(stat -c %s "$tmp/tunecheck")" "$(echo "$(stat -c %s "$tmp/tunecheck") / 1000000" | bc -l)"
fi
printf 'binary with symbols:    %d bytes\n\n' "$(stat -c %s "$bin")"

go version -m "$bin" | awk '$1 == "mod" || $1 == "dep" || $1 == "=>" { print $2 }' >"${TMPDIR:-/tmp}/size-mods.$$"
# Symbols at or past the first NOBITS section are zero-filled at start-up, not stored.
bss=$(readelf -SW "$bin" | awk '$0 ~ /NOBITS/ { for (i = 1; i <= NF; i++) if ($i == "NOBITS") { print $(i + 1); exit } }')
echo "sections (bytes in the file; .gopclntab is the line/function table, roughly proportional to .text):"
readelf -SW "$bin" | sed 's/^ *\[ *[0-9]*\]//' | awk '$2 == "PROGBITS" && $1 !~ /^\.debug/ { print $1, $5 }' |
	while read -r name hex; do printf '  %-18s %10d\n' "$name" "$((16#$hex))"; done
echo
go tool nm -size "$bin" | awk -v mods="${TMPDIR:-/tmp}/size-mods.$$" -v top="$top" -v bss="$bss" '
BEGIN {
	while ((getline m < mods) > 0) modlist[++nmods] = m
}
function owner(sym,    s, i, best, m, slash, dot) {
	s = sym
	sub(/^type:\.(eq|hash)\./, "", s)
	sub(/^type:/, "", s)
	sub(/^go:itab\./, "", s)
	if (s ~ /^go:/) return "(linker)"
	gsub(/^[\[\]*0-9]+/, "", s)
	sub(/^noalg\./, "", s)
	gsub(/^[\[\]*0-9]+/, "", s)
	best = ""
	for (i = 1; i <= nmods; i++) {
		m = modlist[i]
		if ((s == m || index(s, m ".") == 1 || index(s, m "/") == 1) && length(m) > length(best)) best = m
	}
	if (best != "") return best
	slash = index(s, "/")
	dot = index(s, ".")
	if (s ~ /^[a-z0-9_]+[.\/]/) {
		# Standard library: group by top-level package (net/http → net).
		if (slash > 0 && (dot == 0 || slash < dot)) return "std:" substr(s, 1, slash - 1)
		if (dot > 0) return "std:" substr(s, 1, dot - 1)
	}
	return "(linker)"
}
NF >= 4 {
	# .bss and .noptrbss take no room in the file (FIPS DRBG scratch is 32 MiB of it).
	addr = sprintf("%16s", $1); gsub(/ /, "0", addr)
	if (addr >= bss) next
	size = $2; name = $4
	for (i = 5; i <= NF; i++) name = name " " $i
	o = owner(name)
	bytes[o] += size
	total += size
}
END {
	n = 0
	for (o in bytes) { keys[++n] = o }
	# insertion sort by size, descending (n is a few hundred)
	for (i = 2; i <= n; i++) {
		k = keys[i]; j = i - 1
		while (j > 0 && bytes[keys[j]] < bytes[k]) { keys[j + 1] = keys[j]; j-- }
		keys[j + 1] = k
	}
	printf "%-55s %12s %7s\n", "module (or std: package)", "bytes", "share"
	for (i = 1; i <= n && i <= top; i++)
		printf "%-55s %12d %6.1f%%\n", keys[i], bytes[keys[i]], 100 * bytes[keys[i]] / total
	rest = 0
	for (; i <= n; i++) rest += bytes[keys[i]]
	printf "%-55s %12d %6.1f%%\n", "(everything else)", rest, 100 * rest / total
	printf "%-55s %12d\n", "total symbol bytes", total
}'
rm -f "${TMPDIR:-/tmp}/size-mods.$$"
