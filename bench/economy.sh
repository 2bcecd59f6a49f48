#!/usr/bin/env bash
# Request economy against the ACR fake (tests/it/support/fake_acr_economy*.rs
# served by examples/fake_registry --acr): token and total requests per run,
# a throttled registry, in-flight utilisation. Prints markdown; run.sh calls
# it, and it runs alone too:
#   bench/economy.sh                 (BENCH_QUICK=1 for smaller sizes)
# Request figures are the fake's own counts (what the registry saw), not
# acr-index's: 401 challenges and 429 answers included, the storage hop of
# blob GETs shown apart (it is not a registry request).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${ECON_NO_BUILD:-}" ] || cargo build --release --quiet --bin acr-index --example fake_registry
BIN=$PWD/target/release/acr-index
work=$(mktemp -d)
cleanup() {
  for p in $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
QUICK=${BENCH_QUICK:-}
now() { date +%s.%N; }
fake() { # args...; sets URL and RT
  local log=$work/fake.$RANDOM
  : >"$log"
  ./target/release/examples/fake_registry --acr "$@" >"$log" &
  echo $! >>"$work/pids"
  # Generating thousands of images takes a while on a busy machine.
  for _ in $(seq 6000); do [ "$(wc -l <"$log")" -ge 2 ] && break; sleep 0.1; done
  [ "$(wc -l <"$log")" -ge 2 ] || { echo "fake registry did not start" >&2; exit 1; }
  URL=$(sed -n 1p "$log"); RT=$(sed -n 2p "$log")
}
stats() { curl -fs "$URL/_fake/stats"; }
reset() { curl -fs -X POST "$URL/_fake/reset" >/dev/null; }
index() { # db, extra args...
  local db=$1; shift
  ACR_INDEX_REFRESH_TOKEN=$RT "$BIN" -q --db "$db" index --registry "$URL" --api acr "$@" || true
}
failures() { "$BIN" --db "$1" runs --format json --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["failures"])'; }

echo
echo "## Request economy (ACR fake: /acr/v1 listings, ACR's token flow, 1 s read throttle)"
echo
echo "Machine: $(nproc) cores, $(uname -sr); acr-index $(git rev-parse --short HEAD 2>/dev/null)."

# --- (1) token and total requests per run ------------------------------------
REPOS=$([ -n "$QUICK" ] && echo 100 || echo 300)
TAGS=3
IMAGES=$((REPOS * TAGS))
echo
echo "### Requests per run ($REPOS repositories, $IMAGES images, $TAGS tags each; --concurrency 16)"
echo
# ABAC batches: as many names as keep the token's Authorization header under
# nginx's 8 KiB line (src/registry/auth/scopes.rs): 52 names like bench/svcNNNN.
BATCH=52
echo "Minimum: cold = listing pages ($(( (REPOS + 99) / 100 )) catalog + $REPOS tag pages) + $IMAGES manifest GETs + $IMAGES config GETs + $IMAGES referrers listings (one per new manifest) = $(( (REPOS + 99) / 100 + REPOS + 3 * IMAGES )); warm = $(( (REPOS + 99) / 100 )) catalog pages + $REPOS repository lookups = $(( (REPOS + 99) / 100 + REPOS )), no manifest, blob or referrers request. Plus token requests: 1 where the wildcard is honoured; with ABAC one per batch of as many repositories as keep the token's header under 8 KiB ($BATCH of these names), cold 1 for the catalog + $(( (REPOS + BATCH - 1) / BATCH )), later runs $(( (REPOS + BATCH - 1) / BATCH )) (the store knows the repositories, and the catalog's request names the first batch). ACR credentials get their token without a 401 first (the 401 column)."
echo
echo "| registry | run | token requests | 401 | registry requests (all kinds) | minimum without tokens and the 401 | by kind | storage hops | failed items |"
echo "|---|---|---|---|---|---|---|---|---|"
for mode in normal abac; do
  fake --images "$IMAGES" --repos "$REPOS" $([ $mode = abac ] && echo --abac)
  db=$work/econ-$mode.db
  for run in cold second warm; do
    reset
    index "$db" --concurrency 16
    min=$([ $run = cold ] && echo $(( (REPOS + 99) / 100 + REPOS + 3 * IMAGES )) || echo $(( (REPOS + 99) / 100 + REPOS )))
    [ $run = second ] && min="$min (+ $REPOS lookups allowed)"
    stats | python3 -c "
import json,sys
s=json.load(sys.stdin); r=s['requests']; st=r.get('storage',0)
reg=sum(v for k,v in r.items() if k!='storage')
kinds=', '.join(f'{k} {v}' for k,v in sorted(r.items()) if k!='storage')
print(f\"| {'ACR' if '$mode'=='normal' else 'ACR with ABAC'} | $run | {r.get('token',0)} | {s['unauthorized']} | {reg} | $min | {kinds} | {st} | $(failures "$db") |\")"
  done
done

# --- (2) a throttled registry --------------------------------------------------
R=50
TREPOS=$([ -n "$QUICK" ] && echo 100 || echo 200)
TIMAGES=$((TREPOS * 4))
echo
echo "### Throttled registry: at most $R requests in any second (token requests included), 429 with Retry-After: 1 above it ($TREPOS repositories, $TIMAGES images, cold runs, --concurrency 16)"
echo
echo "| flags | wall s | admitted requests / R | wall / (requests / R) | 429 answers | share of 429 | failed items | peak in flight |"
echo "|---|---|---|---|---|---|---|---|"
fake --images "$TIMAGES" --repos "$TREPOS" --throttle-rps $R
for flags in "" "--max-rps $R"; do
  reset
  db=$work/thr$RANDOM.db
  t0=$(now); index "$db" --concurrency 16 $flags; t1=$(now)
  stats | python3 -c "
import json,sys
s=json.load(sys.stdin); r=s['requests']
reg=sum(v for k,v in r.items() if k!='storage'); th=s['throttled']; ok=reg-th
wall=$t1-$t0; ideal=ok/$R
print(f\"| {'$flags' or '(none)'} | {wall:.1f} | {ideal:.1f} | {wall/ideal:.3f} | {th} | {100*th/reg:.2f}% | $(failures "$db") | {s['peak_in_flight']} |\")"
done

# --- (3) in-flight utilisation -----------------------------------------------
UIMAGES=$([ -n "$QUICK" ] && echo 2000 || echo 4000)
echo
echo "### In-flight utilisation at 20 ms per request ($((UIMAGES / 10)) repositories, $UIMAGES images, cold runs)"
echo
echo "Utilisation = the sum of request times at the registry (token and storage requests included) over the time from the run's first request to its last answer. The fake's timeline (mean requests in flight per 100 ms) shows where the rest goes: the first 100 ms (token, then the first catalog page, one after the other) and the middle of the run."
echo
echo "| --concurrency | requests | wall s | utilisation (requests in flight) | share of --concurrency | first 100 ms | median 100 ms | peak in flight |"
echo "|---|---|---|---|---|---|---|---|"
fake --images "$UIMAGES" --repos $((UIMAGES / 10)) --latency-ms 20
for c in 4 16 64; do
  reset
  index "$work/util$c.db" --concurrency $c
  stats | python3 -c "
import json,sys
s=json.load(sys.stdin); n=sum(s['requests'].values()); u=s['busy_seconds']/s['span_seconds']
t=s['timeline']; mid=sorted(t)[len(t)//2] if t else 0
print(f\"| $c | {n} | {s['span_seconds']:.2f} | {u:.2f} | {u/$c:.2f} | {t[0] if t else 0:.1f} | {mid:.1f} | {s['peak_in_flight']} |\")"
done
