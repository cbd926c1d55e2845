#!/usr/bin/env bash
# A throwaway PostgreSQL server for the trial-store tests: `start DIR` runs initdb into DIR,
# starts the server listening on 127.0.0.1 only, at a free port, and prints the variable the
# tests read (`export LOPPER_TEST_POSTGRES=postgres://…`); `stop DIR` stops it and removes DIR.
# Installs Debian's postgresql package when no server binary is found. As root, the server
# runs as the `postgres` user (initdb refuses root).
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}

bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    bin=$(bindir)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        apt-get install -y --no-install-recommends postgresql >/dev/null \
            || { apt-get update >/dev/null && apt-get install -y --no-install-recommends postgresql >/dev/null; }
        bin=$(bindir)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U lopper --auth=trust --encoding=UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "export LOPPER_TEST_POSTGRES=postgres://lopper@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(bindir)
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
