#!/usr/bin/env bash
# Benchmark suite: prints a markdown report (quoted in the README).
#   bench/run.sh            full run (~10 minutes on 2 cores)
#   BENCH_QUICK=1 bench/run.sh   smaller sizes
# Everything runs on 127.0.0.1: a real docker-registry, the test suite's
# fake registry (added latency, ACR API) and skopeo as the naive peer.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
need=()
for p in docker-registry skopeo wrk sqlite3; do command -v $p >/dev/null || need+=($p); done
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --release --quiet --bin acr-index --example seed --example fake_registry
BIN=$PWD/target/release/acr-index
OUT=${BENCH_OUT:-bench/out}; mkdir -p "$OUT"
work=$(mktemp -d); pids=()
# Servers started inside $(...) run in a subshell: their pids go to a file.
cleanup() {
  for p in "${pids[@]}" $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
QUICK=${BENCH_QUICK:-}
REPOS=$([ -n "$QUICK" ] && echo 100 || echo 300)

now() { date +%s.%N; }
reqs() { "$BIN" --db "$1" runs --format json --limit 1 | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]["requests"]; print(sum(v for k,v in r.items() if k not in ("retries","throttled")), json.dumps({k:v for k,v in r.items() if v and k not in ("retries","throttled")}))'; }
fake() { # args...; prints URL
  local log=$work/fake.$RANDOM
  ./target/release/examples/fake_registry "$@" >"$log" &
  echo $! >>"$work/pids"
  for _ in $(seq 200); do [ -s "$log" ] && break; sleep 0.05; done
  head -1 "$log"
}

echo "# acr-index benchmark"
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr), acr-index $(git rev-parse --short HEAD 2>/dev/null)"

# --- real registry, seeded --------------------------------------------------
port=5077
cat >"$work/reg.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
REG=http://127.0.0.1:$port
./target/release/examples/seed "$REG" --repos "$REPOS" --tags 1 2>/dev/null

echo
echo "## 1. Requests per image ($REPOS images, one tag each)"
echo
echo "| API | run | requests | per image | by kind | minimum the API allows |"
echo "|---|---|---|---|---|---|"
db=$work/v2.db
t0=$(now); "$BIN" -q --db "$db" index --registry "$REG" --concurrency 16; t1=$(now)
read -r n kinds < <(reqs "$db")
echo "| /v2 (distribution) | cold | $n | $(python3 -c "print(round($n/$REPOS,2))") | \`$kinds\` | 1 catalog page + 1 tag list per repo + 1 manifest GET + 1 config GET per image = $((1 + 3*REPOS)) |"
cold_v2_s=$(python3 -c "print($t1-$t0)")
t0=$(now); "$BIN" -q --db "$db" index --registry "$REG" --concurrency 16; t1=$(now)
read -r n kinds < <(reqs "$db")
echo "| /v2 (distribution) | warm | $n | $(python3 -c "print(round($n/$REPOS,2))") | \`$kinds\` | catalog + 1 tag list per repo + 1 HEAD per tag = $((1 + 2*REPOS)) |"
warm_v2_s=$(python3 -c "print($t1-$t0)")
echo
echo "ACR's /acr/v1 API, token requests and warm runs: see Request economy below."
echo
echo "## 2. Throughput versus --concurrency"
echo
N=$([ -n "$QUICK" ] && echo 500 || echo 2000)
LAT=$(fake --images "$N" --repos $((N/10)) --latency-ms 20)
echo "With 20 ms added to every request (fake registry, /v2, $N images in $((N/10)) repositories; ~3 requests per image):"
echo
echo "Requests per image counts only those that carry the 20 ms (storage redirects do not)."
echo
echo "| concurrency | seconds | images/s | requests per image | ideal c/(requests per image x 20 ms) | ratio |"
echo "|---|---|---|---|---|---|"
for c in 1 4 16 64; do
  db=$work/lat$c.db
  t0=$(now); "$BIN" -q --db "$db" index --registry "$LAT" --api v2 --concurrency $c; t1=$(now)
  rpi=$("$BIN" --db "$db" runs --format json --limit 1 | python3 -c "import json,sys; r=json.load(sys.stdin)[0]['requests']; print(sum(v for k,v in r.items() if k not in ('retries','throttled','storage'))/$N)")
  python3 -c "s=$t1-$t0; ips=$N/s; ideal=$c/($rpi*0.020); print(f'| $c | {s:.2f} | {ips:.0f} | {$rpi:.2f} | {ideal:.0f} | {ips/ideal:.2f} |')"
done
echo
echo "At 0 ms against the real distribution registry on loopback ($REPOS images):"
echo
# Cold runs (fresh database each time) at two concurrencies; the median of 5.
for c in 16 32; do
  times=()
  for i in 1 2 3 4 5; do
    rm -f "$work/zero.db"*
    t0=$(now); "$BIN" -q --db "$work/zero.db" index --registry "$REG" --api v2 --concurrency $c >/dev/null; t1=$(now)
    times+=("$(python3 -c "print($t1-$t0)")")
  done
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  python3 -c "print(f'- acr-index cold run, --concurrency $c, median of 5: {$med:.2f} s = {$REPOS/$med:.0f} images/s ({3*$REPOS/$med:.0f} requests/s)')"
  best_ips=$(python3 -c "print(max(${best_ips:-0}, $REPOS/$med))")
done
python3 -c "print(f'- the first cold run above (section 1) took {$cold_v2_s:.2f} s; the warm run {$warm_v2_s:.2f} s')"
# The registry's ceiling for the same request mix: every tag list, manifest
# GET and config GET of the cold run, round-robin, from wrk.
sqlite3 "$work/v2.db" "SELECT '/v2/' || repository || '/tags/list' || char(10) || '/v2/' || repository || '/manifests/' || tag || char(10) || '/v2/' || repository || '/blobs/' || m.config_digest FROM current_tags c JOIN manifests m ON m.digest = c.digest" >"$work/paths"
cat >"$work/mix.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Accept"] = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"})
end
LUA
rps=$(PATHS=$work/paths wrk -t2 -c16 -d5s -s "$work/mix.lua" "$REG" 2>/dev/null | awk '/Requests\/sec/{print $2}')
python3 -c "r=float('$rps'); a=$best_ips; c=r/3; print(f'- the registry own ceiling for the same mix (wrk -t2 -c16 -d5s over every tag list, manifest and config GET of the run): {r:.0f} requests/s = {c:.0f} images/s; acr-index reaches {a/c*100:.0f}% of it')"

echo
echo "## 3. Against a naive peer (skopeo list-tags + inspect --config per tag)"
echo
SUB=50
t0=$(now)
for r in $(seq 0 $((SUB-1))); do
  repo=$(printf 'bench/svc%04d' "$r")
  skopeo list-tags --tls-verify=false "docker://127.0.0.1:$port/$repo" >/dev/null
  skopeo inspect --config --tls-verify=false "docker://127.0.0.1:$port/$repo:v0" >/dev/null
done
t1=$(now)
t2=$(now); "$BIN" -q --db "$work/sub.db" index --registry "$REG" --repo 'bench/svc00[0-4]?' --concurrency 16; t3=$(now)
t4=$(now); "$BIN" -q --db "$work/sub.db" index --registry "$REG" --repo 'bench/svc00[0-4]?' --concurrency 16; t5=$(now)
python3 -c "sk=$t1-$t0; a=$t3-$t2; w=$t5-$t4; print(f'| tool | {$SUB} images | ratio |\n|---|---|---|\n| skopeo loop | {sk:.2f} s | 1x |\n| acr-index cold | {a:.2f} s | {sk/a:.0f}x faster |\n| acr-index warm | {w:.2f} s | {sk/w:.0f}x faster |')"

echo
echo "## 4. Peak memory (fake registry, 0 ms)"
echo
echo "| images | seconds | images/s | peak RSS |"
echo "|---|---|---|---|"
for n in 10000 50000; do
  [ -n "$QUICK" ] && [ $n = 50000 ] && continue
  U=$(fake --images $n --repos $((n/20)))
  db=$work/mem$n.db
  t0=$(now)
  /usr/bin/time -f %M -o "$work/rss" "$BIN" -q --db "$db" index --registry "$U" --api v2 --concurrency 32
  t1=$(now)
  python3 -c "s=$t1-$t0; print(f'| $n | {s:.1f} | {$n/s:.0f} | {int(open(\"$work/rss\").read().split()[-1])/1024:.0f} MiB |')"
done

if [ -f examples/gen_db.rs ]; then
  echo
  echo "## 5. SQLite: ingest and query on 1,000,000 labels"
  echo
  cargo build --release --quiet --example gen_db
  t0=$(now); ./target/release/examples/gen_db "$work/big.db" >"$work/gen.txt" 2>&1; t1=$(now)
  python3 -c "s=$t1-$t0; print(f'- ingest through the store write path: 100,000 images with 1,000,000 labels in {s:.1f} s = {1e6/s:,.0f} labels/s; database {__import__(\"os\").path.getsize(\"$work/big.db\")/2**20:.0f} MiB')"
  sha=$(sed -n 's/^commit=//p' "$work/gen.txt")
  digest=$(sed -n 's/^digest=//p' "$work/gen.txt")
  config=$(sed -n 's/^config=//p' "$work/gen.txt")
  set -f
  for q in "query --format json --label sourceversion=$sha" "query --format json --label sourceversion=${sha:0:8}*" "show $digest" "show $config"; do
    t0=$(now); for _ in $(seq 20); do "$BIN" --db "$work/big.db" $q >/dev/null; done; t1=$(now)
    python3 -c "print(f'- \`acr-index {\"$q\"[:60]}\`: {($t1-$t0)/20*1000:.1f} ms per call (process start included, mean of 20)')"
  done
  bench/serve.sh "$work/big.db" "$work/gen.txt"
fi

# Request economy against the ACR fake (tokens, ABAC, throttling, in-flight).
ECON_NO_BUILD=1 BENCH_QUICK=$QUICK bench/economy.sh
