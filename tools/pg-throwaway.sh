#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the test suite.
#
#   tools/pg-throwaway.sh start DIR   # prints the connection URL on stdout
#   tools/pg-throwaway.sh stop DIR
#
# The cluster lives in DIR, listens on 127.0.0.1 on a free port and is owned by
# the postgres user when this runs as root, because PostgreSQL refuses to run as
# root. The server binaries come from `pg_config --bindir`; when PostgreSQL is
# missing and this runs as root on Debian, it is installed with apt-get.
set -euo pipefail

action=${1:?usage: pg-throwaway.sh start|stop DIR}
dir=${2:?usage: pg-throwaway.sh start|stop DIR}

find_bindir() {
    local bindir=""
    if command -v pg_config >/dev/null 2>&1; then
        bindir=$(pg_config --bindir)
    fi
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        # Debian's pg_config may come from libpq-dev and name a folder without
        # the server; look for the newest installed server instead.
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    echo "$bindir"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    bindir=$(find_bindir)
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "PostgreSQL server not found: installing it with apt-get" >&2
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
            bindir=$(find_bindir)
        fi
    fi
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "PostgreSQL server not found: install it (Debian: apt-get install postgresql)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        # initdb runs as postgres, which must be able to reach DIR through
        # every parent folder (mktemp -d creates folders with mode 0700).
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "cluster folder $dir is not writable by the postgres user:" \
                "let others enter each parent folder (chmod o+x PARENT)" >&2
            exit 1
        fi
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C >"$dir/initdb.log" 2>&1; then
        echo "initdb failed for $dir/data:" >&2
        cat "$dir/initdb.log" >&2
        exit 1
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=50" start >&2; then
        echo "PostgreSQL failed to start; its log follows ($dir/server.log):" >&2
        cat "$dir/server.log" >&2
        exit 1
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    bindir=$(find_bindir)
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg-throwaway.sh start|stop DIR" >&2
    exit 2
    ;;
esac
