#!/usr/bin/env bash
# pg-test.sh starts a throwaway PostgreSQL cluster for the store tests and prints
# the line to export; `stop` tears it down again.
#
#   eval "$(scripts/pg-test.sh start)"     # sets TUNECHECK_TEST_POSTGRES and TUNECHECK_PG_DIR
#   go test ./internal/store/... ./internal/runner/...
#   scripts/pg-test.sh stop                # uses $TUNECHECK_PG_DIR, or pass the directory
#   scripts/pg-test.sh available           # exit 0 when PostgreSQL's binaries are installed
#
# The cluster listens on 127.0.0.1 on a free port and on a unix socket inside its
# own directory, trusts local connections (it holds nothing but test data) and runs
# as the postgres user, because postgres refuses to run as root.
set -euo pipefail

log() { echo "pg-test: $*" >&2; }

# find_bin prints the directory holding postgres, initdb and pg_ctl: Debian's
# /usr/lib/postgresql/*/bin, else the one on PATH (Homebrew, other distributions).
find_bin() {
	local b
	for b in /usr/lib/postgresql/*/bin; do
		if [[ -x "$b/postgres" ]]; then
			echo "$b"
			return 0
		fi
	done
	if b=$(command -v postgres) && [[ -x "$(dirname "$b")/initdb" && -x "$(dirname "$b")/pg_ctl" ]]; then
		dirname "$b"
		return 0
	fi
	return 1
}

ensure_installed() {
	if find_bin >/dev/null; then
		return 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		log "PostgreSQL is not installed; run: sudo apt-get update && sudo apt-get install -y postgresql"
		exit 1
	fi
	log "installing postgresql with apt-get"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
}

# as_owner runs a command as the cluster owner: postgres when we are root,
# ourselves otherwise.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
	ensure_installed
	local bin dir port user
	bin=$(find_bin)
	dir=$(mktemp -d /tmp/tunecheck-pg.XXXXXX)
	chmod 755 "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres: "$dir"
		user=postgres
	else
		user=$(id -un)
	fi
	port=$(free_port)
	as_owner "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ log "initdb failed, see $dir/initdb.log"; exit 1; }
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >&2 ||
		{ log "server failed to start, see $dir/server.log"; exit 1; }
	as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" tunecheck_test
	echo "$port" >"$dir/port"
	echo "export TUNECHECK_TEST_POSTGRES='postgres://$user@127.0.0.1:$port/tunecheck_test?sslmode=disable'"
	echo "export TUNECHECK_PG_DIR='$dir'"
	log "started PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on port $port"
}

stop() {
	local dir=${1:-${TUNECHECK_PG_DIR:-}}
	if [[ -z "$dir" || ! -d "$dir/data" ]]; then
		log "no cluster directory given: pass the directory start printed, or set TUNECHECK_PG_DIR"
		exit 2
	fi
	local bin
	bin=$(find_bin)
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
	rm -rf "$dir"
	log "stopped and removed $dir"
}

case "${1:-}" in
available) find_bin >/dev/null ;;
start) start ;;
stop) stop "${2:-}" ;;
*)
	echo "usage: $0 start | stop [DIR] | available" >&2
	exit 2
	;;
esac
