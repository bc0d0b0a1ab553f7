#!/usr/bin/env bash
# Starts the real servers the pack tests talk to, on loopback only. On the
# node-svc machines PostgreSQL, MariaDB and Redis usually already run; this
# only installs and starts what is missing. nginx is never started with its
# default site: the tests start their own instance on a loopback port.
set -euo pipefail
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v ping >/dev/null || need+=(iputils-ping)
command -v traceroute >/dev/null || need+=(traceroute)
command -v prometheus >/dev/null || need+=(prometheus)
command -v psql >/dev/null || need+=(postgresql)
command -v mariadb >/dev/null || need+=(mariadb-server mariadb-client)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nats-server >/dev/null || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian's nginx package starts the default site on 0.0.0.0:80 when it can; stop it.
  nginx -s quit 2>/dev/null || true
fi
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 3306; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
fi
if ! up 6379; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /tmp --logfile /tmp/redis-ci.log || true
fi
# Multi-hub tests (hub/test/cluster, test/e2e/multi-hub): NATS with JetStream, loopback only, its own store folder.
if ! up 4222; then
  mkdir -p /tmp/nats-ci
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- -a 127.0.0.1 -p 4222 -js -sd /tmp/nats-ci -l /tmp/nats-ci/nats.log || true
fi
for port in 5432 3306 6379 4222; do
  for _ in $(seq 1 50); do up "$port" && break; sleep 0.2; done
  up "$port" && echo "service on 127.0.0.1:$port: up" || echo "service on 127.0.0.1:$port: NOT up"
done

# The agent runs as the OS user 'sonde'; give it the least-privilege database
# accounts the pack READMEs document (pg_monitor; PROCESS + replica/binlog monitor).
psql -h 127.0.0.1 -U postgres -d postgres -qtAc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='sonde') THEN CREATE ROLE sonde LOGIN; END IF; END\$\$; GRANT pg_monitor TO sonde;" >/dev/null 2>&1 \
  || psql -U postgres -d postgres -qtAc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='sonde') THEN CREATE ROLE sonde LOGIN; END IF; END\$\$; GRANT pg_monitor TO sonde;" >/dev/null 2>&1 \
  || echo "could not create the PostgreSQL role sonde"
mariadb -uroot -e "CREATE USER IF NOT EXISTS 'sonde'@'127.0.0.1'; CREATE USER IF NOT EXISTS 'sonde'@'localhost'; GRANT PROCESS, REPLICA MONITOR, BINLOG MONITOR ON *.* TO 'sonde'@'127.0.0.1'; GRANT PROCESS, REPLICA MONITOR, BINLOG MONITOR ON *.* TO 'sonde'@'localhost';" 2>/dev/null \
  || echo "could not create the MariaDB account sonde"

# The pack sandbox's mount namespace (pack-sdk/src/sandbox/isolation.ts): without bubblewrap it degrades to
# unshare and the escape tests that need a minimal filesystem view are skipped.
if ! command -v bwrap >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; } || echo "could not install bubblewrap"
fi

# Dashboard browser tests (test/e2e/dashboard.test.ts): Debian's Chromium, driven by playwright-core.
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
