# Shared by scripts/start and scripts/test: a Python environment, a RabbitMQ broker, PostgreSQL.
# Idempotent: each step does nothing when what it provides is already there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${HBCLOUD_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
export AMQP_URI=${AMQP_URI:-amqp://guest:guest@127.0.0.1:5672//}
RABBIT_NODE=rabbit@localhost
# eventlet's green DNS imports dnspython: a quarter of a second of every service's and CLI call's
# start-up. A service resolves the broker's and the database's names only when it connects, which
# the system's resolver does as well.
export EVENTLET_NO_GREENDNS=${EVENTLET_NO_GREENDNS:-yes}

say() { printf '[hbcloud] %s\n' "$*" >&2; }

apt_install() {
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_python_env() {
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing Python 3 and venv from Debian's packages"
    apt_install python3 python3-venv python3-pip
  fi
  if [ -x "$PY" ] && cmp -s "$ROOT/requirements.lock" "$VENV/.installed-lock"; then return; fi
  say "creating the Python environment in $VENV"
  python3 -m venv "$VENV"
  if ! "$PY" -m pip install -q -r "$ROOT/requirements.lock" >"$VENV/pip.log" 2>&1; then
    cat "$VENV/pip.log" >&2; say "installing the Python packages failed"; exit 1
  fi
  cp "$ROOT/requirements.lock" "$VENV/.installed-lock"
}

# The CJK font the printed dossier embeds (services/subsidy/dossier.py): Debian's WenQuanYi Micro Hei.
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
ensure_fonts() {
  if [ -f "$CJK_FONT" ]; then return; fi
  say "installing the CJK font fonts-wqy-microhei from Debian's packages"
  apt_install fonts-wqy-microhei
}

amqp_reachable() {
  "$PY" - "$AMQP_URI" <<'PYEOF'
import socket, sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
try:
    socket.create_connection((u.hostname or "127.0.0.1", u.port or 5672), timeout=2).close()
except OSError:
    sys.exit(1)
PYEOF
}

ensure_rabbitmq() {
  if amqp_reachable; then return; fi
  if ! command -v rabbitmq-server >/dev/null; then
    say "no broker at $AMQP_URI: installing rabbitmq-server from Debian's packages"
    apt_install rabbitmq-server
  fi
  say "starting RabbitMQ on loopback"
  mkdir -p /var/log/hbcloud
  RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    setsid rabbitmq-server >/var/log/hbcloud/rabbitmq.log 2>&1 < /dev/null &
  for _ in $(seq 1 90); do
    if rabbitmqctl -n "$RABBIT_NODE" -q await_startup >/dev/null 2>&1 && amqp_reachable; then
      say "RabbitMQ is up"; return
    fi
    sleep 1
  done
  say "RabbitMQ did not start; see /var/log/hbcloud/rabbitmq.log"; exit 1
}

# The installation's token secret: generated once, kept under the data directory (mode 0600) and
# reused on restart; the services read it from there (there is no default secret).
ensure_token_secret() {
  local file=$1
  if [ ! -s "$file" ]; then
    (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' > "$file")
    say "generated a token secret in $file"
  fi
  chmod 600 "$file"
}

# Our own broker user and virtual host, with a generated password, when the broker is ours: RPC
# requests carry tokens and passwords, which guest (a user every broker has) must not read. The URI
# is kept under the data directory (mode 0600), where the services and the CLI find it.
ensure_broker_account() {
  local file=$1 password
  command -v rabbitmqctl >/dev/null && rabbitmqctl -n "$RABBIT_NODE" -q list_vhosts >/dev/null 2>&1 || return 0
  if [ -s "$file" ]; then
    password=$(sed -E 's|^amqp://hbcloud:([^@]*)@.*|\1|' "$file")
  else
    password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  fi
  rabbitmqctl -n "$RABBIT_NODE" -q add_vhost hbcloud >/dev/null 2>&1 || true
  rabbitmqctl -n "$RABBIT_NODE" -q add_user hbcloud "$password" >/dev/null 2>&1 \
    || rabbitmqctl -n "$RABBIT_NODE" -q change_password hbcloud "$password" >/dev/null
  rabbitmqctl -n "$RABBIT_NODE" -q set_permissions -p hbcloud hbcloud '.*' '.*' '.*' >/dev/null
  (umask 077; printf 'amqp://hbcloud:%s@127.0.0.1:5672/hbcloud' "$password" > "$file")
  chmod 600 "$file"
  export AMQP_URI
  AMQP_URI=$(cat "$file")
}

# A private PostgreSQL cluster on loopback for the tests (Debian's package; installed if missing).
PG_PORT=${HBCLOUD_PG_PORT:-54329}
PG_DIR=${HBCLOUD_PG_DIR:-/var/tmp/hbcloud-pg-$PG_PORT}
ensure_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bin" ]; then
    say "installing PostgreSQL from Debian's packages"
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DIR" && chown postgres:postgres "$PG_DIR" && chmod 700 "$PG_DIR"
    su postgres -c "$bin/initdb -D $PG_DIR -A trust -U postgres" >/dev/null
  fi
  if ! su postgres -c "$bin/pg_ctl -D $PG_DIR status" >/dev/null 2>&1; then
    su postgres -c "$bin/pg_ctl -D $PG_DIR -l $PG_DIR/server.log -w -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp' start" >/dev/null
  fi
  export HBCLOUD_TEST_POSTGRES_URL="postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/postgres"
}
