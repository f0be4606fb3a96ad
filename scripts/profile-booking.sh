#!/usr/bin/env bash
# Flame graph of the booking path under load: the load benchmark's closed loop of bookings,
# sampled by perf with DWARF call stacks, folded and drawn by inferno. Each stack starts
# with its thread's name, so the API (`tt-api`), each context's worker (`tt-w-booking`,
# `tt-w-inventory`, ...) and the load itself (`tokio-runtime-w`, `bench-load`) are separate
# towers in one picture.
#
#   scripts/profile-booking.sh [seconds] [clients]     (defaults 20 s, 16 clients)
#
# Writes target/profile/booking-closed-loop.{svg,folded} and prints the heaviest functions
# of each part. perf needs kernel.perf_event_paranoid <= 2 (the default), for the user's
# own processes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECONDS_PER_RUN="${1:-20}"
CLIENTS="${2:-16}"
INFERNO_VERSION=0.12.8
OUT="$ROOT/target/profile"
mkdir -p "$OUT"

step "Checking perf and inferno"
command -v perf >/dev/null || apt_install linux-perf
if [ ! -x "$TOOLS/inferno/bin/inferno-flamegraph" ]; then
  note "installing inferno $INFERNO_VERSION into .tools/inferno"
  cargo install --quiet --locked --root "$TOOLS/inferno" "inferno@$INFERNO_VERSION"
fi

step "Building the load benchmark (profiling profile: release with line tables)"
cargo build --quiet --profile profiling -p tests --bin bench-load

step "Recording ${SECONDS_PER_RUN} s of closed-loop bookings, ${CLIENTS} clients"
# The benchmark warms up for a few seconds first; sample only the measured window.
"$ROOT/target/profiling/bench-load" "$SECONDS_PER_RUN" "$CLIENTS" 20 closed booking >"$OUT/bench.txt" 2>&1 &
bench=$!
trap 'kill "$bench" 2>/dev/null || true' EXIT
# Sample the measured window only, not the platform's start or the warm-up.
until grep -q "^warmed up" "$OUT/bench.txt"; do
  kill -0 "$bench" 2>/dev/null || die "the benchmark stopped early: see $OUT/bench.txt"
  sleep 0.5
done
perf record --quiet -F 199 --call-graph dwarf,16384 -p "$bench" -o "$OUT/perf.data" -- sleep "$((SECONDS_PER_RUN - 2))"
wait "$bench" || die "the benchmark failed: see $OUT/bench.txt"
trap - EXIT
[ -s "$OUT/perf.data" ] || die "perf recorded nothing (is kernel.perf_event_paranoid above 2?)"

step "Folding and drawing"
perf script -i "$OUT/perf.data" 2>/dev/null | "$TOOLS/inferno/bin/inferno-collapse-perf" >"$OUT/booking-closed-loop.folded"
"$TOOLS/inferno/bin/inferno-flamegraph" --title "Closed-loop bookings, ${CLIENTS} clients" \
  <"$OUT/booking-closed-loop.folded" >"$OUT/booking-closed-loop.svg"
sed -n '/^closed loop/,/by part/p' "$OUT/bench.txt"

step "Heaviest functions by part (self time, % of the part's samples)"
python3 - "$OUT/booking-closed-loop.folded" <<'EOF'
import collections, sys
parts = collections.defaultdict(collections.Counter)
totals = collections.Counter()
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip().rpartition(" ")
    frames = stack.split(";")
    part = frames[0] if frames[0].startswith(("tt-", "workflow-proces")) else "the load and the rest"
    parts[part][frames[-1]] += int(count)
    totals[part] += int(count)
for part, total in totals.most_common():
    # perf's cpu-clock weighs each sample by its period in nanoseconds.
    print(f"{part}: {total / 1e6:.0f} ms of CPU sampled")
    for function, n in parts[part].most_common(8):
        print(f"  {100 * n / total:5.1f} %  {function[:110]}")
EOF
note "flame graph: $OUT/booking-closed-loop.svg"
