#!/usr/bin/env bash
# Records the database byte streams the protocol tests replay (Tests/Fixtures/<protocol>/),
# from real servers and clients: Debian's postgresql, mariadb-server and redis-server, their
# command-line clients and benchmarks, and psycopg, PyMySQL and redis-py in a virtual
# environment. Each client talks through hack/capture-relay.py, a relay that writes what each
# side sent, one file per connection (NAME-001.txt, NAME-002.txt, …). Run as root: hack/record-db-fixtures.sh [postgresql] [mysql] [redis]
# It starts the servers it needs and stops those it started. Re-recording changes timings and
# some bytes (salts, ids); the tests assert what the clients did, which stays the same.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts=$root/hack/db-fixtures
venv=/opt/periscope/venv-dev
protocols=("$@")
[ ${#protocols[@]} -gt 0 ] || protocols=(postgresql mysql redis)

packages=(postgresql mariadb-server mariadb-client redis-server redis-tools python3-venv)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! "$venv/bin/python" -c "import psycopg, pymysql, redis" 2>/dev/null; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check psycopg PyMySQL redis
fi

relay_pid=
cleanups=()
cleanup() {
  [ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null || true
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[$i]}" || true; done
}
trap cleanup EXIT

# record DIRECTORY NAME LISTEN UPSTREAM COMMENT -- COMMAND...: runs COMMAND against the relay and
# leaves one DIRECTORY/NAME-NNN.txt per connection it made, COMMENT in each file's header.
record() {
  local directory=$1 name=$2 listen=$3 upstream=$4 comment=$5
  shift 6
  local scratch
  scratch=$(mktemp -d)
  python3 "$root/hack/capture-relay.py" --listen "$listen" --upstream "127.0.0.1:$upstream" --out "$scratch" --prefix "$name" \
    >/tmp/capture-relay.log 2>&1 &
  relay_pid=$!
  for _ in $(seq 50); do ss -ltn "sport = :$listen" | grep -q LISTEN && break; sleep 0.1; done
  "$@" || echo "record: $name: the client failed (expected when it records an error)" >&2
  sleep 0.3
  kill -TERM "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" || true
  relay_pid=
  mkdir -p "$directory"
  rm -f "$directory/$name"-[0-9][0-9][0-9].txt
  local number=0 file
  for file in $(ls "$scratch" | sort); do
    number=$((number + 1))
    { head -1 "$scratch/$file"; echo "# $comment"; tail -n +2 "$scratch/$file"; } \
      >"$directory/$(printf '%s-%03d.txt' "$name" "$number")"
  done
  rm -rf "$scratch"
  echo "record: $name: $number connections" >&2
}

record_postgresql() {
  local out=$root/Tests/Fixtures/postgresql
  if ! pg_lsclusters -h | grep -q "^15 *main .*online"; then
    pg_ctlcluster 15 main start
    cleanups+=("pg_ctlcluster 15 main stop")
  fi
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'periscope'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE ROLE periscope LOGIN PASSWORD 'periscope'\""
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'shop'\"" | grep -q 1 ||
    su postgres -c "psql -qc 'CREATE DATABASE shop OWNER periscope'"
  export PGPASSWORD=periscope
  PGSSLMODE=disable pgbench -h 127.0.0.1 -U periscope -i -s 1 -q shop >/dev/null 2>&1

  # The server has ssl = off: psql's SSLRequest is refused ('N'), then it speaks in clear.
  record "$out" psql-simple 15432 5432 "psql -f hack/db-fixtures/psql-simple.sql (SSLRequest refused)" -- \
    psql -h 127.0.0.1 -p 15432 -U periscope -d shop -q -f "$scripts/psql-simple.sql"
  record "$out" pgbench-select-only 15432 5432 "pgbench -S -n -t 5 (simple protocol)" -- \
    env PGSSLMODE=disable pgbench -h 127.0.0.1 -p 15432 -U periscope -S -n -t 5 shop
  record "$out" pgbench-prepared 15432 5432 "pgbench -S -n -t 5 -M prepared" -- \
    env PGSSLMODE=disable pgbench -h 127.0.0.1 -p 15432 -U periscope -S -n -t 5 -M prepared shop
  record "$out" psycopg-extended 15432 5432 "hack/db-fixtures/psycopg-extended.py (psycopg $("$venv/bin/python" -c 'import psycopg; print(psycopg.__version__)'))" -- \
    "$venv/bin/python" "$scripts/psycopg-extended.py" 15432
  # An accepted SSLRequest: the rest of the session is TLS.
  local data=/var/lib/postgresql/15/main
  if [ ! -f "$data/periscope-test.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
      -keyout "$data/periscope-test.key" -out "$data/periscope-test.crt" 2>/dev/null
    chown postgres: "$data"/periscope-test.*
    chmod 600 "$data/periscope-test.key"
  fi
  su postgres -c "psql -q -c \"ALTER SYSTEM SET ssl_cert_file = '$data/periscope-test.crt'\" \
    -c \"ALTER SYSTEM SET ssl_key_file = '$data/periscope-test.key'\" -c 'ALTER SYSTEM SET ssl = on' \
    -c 'SELECT pg_reload_conf()'" >/dev/null
  sleep 0.5
  record "$out" psql-ssl-accepted 15432 5432 "psql sslmode=require -c 'SELECT 1'" -- \
    psql "host=127.0.0.1 port=15432 user=periscope dbname=shop sslmode=require" -qc "SELECT 1"
  su postgres -c "psql -qc 'ALTER SYSTEM RESET ssl' -c 'ALTER SYSTEM RESET ssl_cert_file' -c 'ALTER SYSTEM RESET ssl_key_file' -c 'SELECT pg_reload_conf()'" >/dev/null
}

record_mysql() {
  local out=$root/Tests/Fixtures/mysql
  if ! mariadb -e "SELECT 1" >/dev/null 2>&1; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    service mariadb start >/dev/null
    cleanups+=("service mariadb stop >/dev/null")
  fi
  mariadb -e "CREATE DATABASE IF NOT EXISTS shop; CREATE DATABASE IF NOT EXISTS audit;
    CREATE USER IF NOT EXISTS 'periscope'@'127.0.0.1' IDENTIFIED BY 'periscope';
    GRANT ALL ON shop.* TO 'periscope'@'127.0.0.1'; GRANT ALL ON audit.* TO 'periscope'@'127.0.0.1';"
  record "$out" pymysql-commands 13306 3306 "hack/db-fixtures/pymysql-commands.py (PyMySQL $("$venv/bin/python" -c 'import pymysql; print(pymysql.__version__)'))" -- \
    "$venv/bin/python" "$scripts/pymysql-commands.py" 13306
  record "$out" mysql-prepared 13306 3306 "hack/db-fixtures/mysql-prepared.py (COM_STMT_* over PyMySQL)" -- \
    "$venv/bin/python" "$scripts/mysql-prepared.py" 13306
  record "$out" mariadb-cli 13306 3306 "mariadb -f < hack/db-fixtures/mariadb-cli.sql ($(mariadb --version | cut -d, -f1))" -- \
    sh -c "mariadb -h 127.0.0.1 -P 13306 -u periscope -pperiscope -f shop < '$scripts/mariadb-cli.sql'"
}

record_redis() {
  local out=$root/Tests/Fixtures/redis
  if ! redis-cli -p 6379 PING >/dev/null 2>&1; then
    redis-server --port 6379 --save '' --appendonly no --daemonize yes --logfile /tmp/redis-fixtures.log
    sleep 0.5
    cleanups+=("redis-cli -p 6379 shutdown nosave >/dev/null")
  fi
  redis-cli -p 6379 flushall >/dev/null
  record "$out" redis-cli 16379 6379 "redis-cli < hack/db-fixtures/redis-cli.txt ($(redis-cli --version))" -- \
    sh -c "redis-cli -p 16379 < '$scripts/redis-cli.txt'"
  record "$out" redis-cli-resp3 16379 6379 "redis-cli -3 (HELLO 3, RESP3 replies)" -- \
    sh -c "printf 'HGETALL user:1\nSMEMBERS none\nZADD z 1.5 a\nZSCORE z a\nEXISTS user:1\nGET nothing\nINCR user:1\n' | redis-cli -3 -p 16379"
  record "$out" redis-benchmark 16379 6379 "redis-benchmark -n 12 -c 2 -P 3 -t set,get" -- \
    redis-benchmark -p 16379 -n 12 -c 2 -P 3 -t set,get -q
  record "$out" redis-py-resp2 16379 6379 "hack/db-fixtures/redis-py.py 2 (redis-py $("$venv/bin/python" -c 'import redis; print(redis.__version__)'))" -- \
    "$venv/bin/python" "$scripts/redis-py.py" 16379 2
  record "$out" redis-py-resp3 16379 6379 "hack/db-fixtures/redis-py.py 3" -- \
    "$venv/bin/python" "$scripts/redis-py.py" 16379 3
}

for protocol in "${protocols[@]}"; do
  "record_$protocol"
done
