# Sourced by .ci/run: start a private PostgreSQL cluster on 127.0.0.1 and export its URL.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  echo "ci: no PostgreSQL binaries"; return 1
fi
pg_dir=$(mktemp -d /tmp/opdesk-pg.XXXXXX)
chown postgres "$pg_dir" 2>/dev/null || true
pg_port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run_pg "$pg_bin/initdb -D $pg_dir/data -U postgres -A trust >/dev/null" || return 1
run_pg "$pg_bin/pg_ctl -D $pg_dir/data -o '-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1' -l $pg_dir/log -w start >/dev/null" || return 1
run_pg "$pg_bin/createdb -h 127.0.0.1 -p $pg_port -U postgres opdesk_test" || return 1
stop_postgres() { run_pg "$pg_bin/pg_ctl -D $pg_dir/data -m fast stop >/dev/null"; }
export OPERATOR_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/opdesk_test"
echo "ci: PostgreSQL at $OPERATOR_TEST_PG_URL"
