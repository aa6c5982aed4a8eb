#!/usr/bin/env bash
# Replicas sharing one Redis behind nginx (Debian's), 1, 2 and 3 of them on this machine: throughput
# of a rate-limited /ai route and the accuracy of the per-user limits across replicas
# (LoadTool "limits": admissions over the limit must be 0, and nobody refused before their limit).
# On a machine with few cores throughput cannot scale; the check is the shared state under load.
# Everything listens on 127.0.0.1 only. Results: benchmarks/results/replicas-<date>/ and a table on stdout.
#   BENCH_REQUESTS (2400) requests from BENCH_USERS (20) users, BENCH_CLIENTS (16) at a time, limit BENCH_LIMIT (50)/user/hour.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
requests="${BENCH_REQUESTS:-2400}" users="${BENCH_USERS:-20}" clients="${BENCH_CLIENTS:-16}" limit="${BENCH_LIMIT:-50}"
models="${INFERENCE_TEST_MODELS:-$root/../shared/models}"
out="$root/benchmarks/results/replicas-$(date -u +%Y%m%d-%H%M)"
mkdir -p "$out"
command -v nginx >/dev/null && command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light jq >/dev/null; }

[ -n "${SKIP_BUILD:-}" ] || dotnet build -c Release Inference.sln -v quiet -nologo >/dev/null
server_dll="$root/src/Inference.Server/bin/Release/net10.0/Inference.Server.dll"
load_dll="$root/benchmarks/Inference.LoadTool/bin/Release/net10.0/Inference.LoadTool.dll"

source scripts/redis-test.sh
key="bench-signing-key-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
pids=() dirs=() nginx_dir=""
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
  if [ -n "$nginx_dir" ] && [ -f "$nginx_dir/nginx.pid" ]; then kill "$(cat "$nginx_dir/nginx.pid")" 2>/dev/null || true; sleep 0.2; fi
  for d in "${dirs[@]}"; do rm -rf "$d"; done
  dirs=()
}
trap 'stop_all; redis_test_stop' EXIT
redis_test_start

summary="| replicas | requests | seconds | requests/s | admitted | over-limit admissions | refused before limit | statuses |"
summary+=$'\n|---|---|---|---|---|---|---|---|'
for n in 1 2 3; do
  upstream=""
  for i in $(seq 1 "$n"); do
    port="$(redis_test_free_port)"
    store="$(mktemp -d /tmp/inference-bench-store.XXXXXX)"; dirs+=("$store")
    dotnet "$server_dll" --urls "http://127.0.0.1:$port" "--Inference:ModelsDirectory=$store" --Logging:LogLevel:Default=Warning \
      --model "stories=$models/stories260K.gguf" --Inference:Threads=1 \
      --Platform:Auth:Issuer=https://bench.local --Platform:Auth:Audience=bench "--Platform:Auth:SigningKey=$key" \
      "--Platform:Redis:ConnectionString=$INFERENCE_TEST_REDIS" "--Platform:RateLimits:GenerationPerHour=$limit" \
      >"$out/replica-$n-$i.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
    curl -sf "http://127.0.0.1:$port/api/generate" -d '{"model":"stories"}' >/dev/null # load the model before the clock starts
    upstream+="    server 127.0.0.1:$port;"$'\n'
  done
  nginx_dir="$(mktemp -d /tmp/inference-bench-nginx.XXXXXX)"; dirs+=("$nginx_dir")
  lb_port="$(redis_test_free_port)"
  cat >"$nginx_dir/nginx.conf" <<CONF
worker_processes 1;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $nginx_dir/body; proxy_temp_path $nginx_dir/proxy;
  fastcgi_temp_path $nginx_dir/fastcgi; uwsgi_temp_path $nginx_dir/uwsgi; scgi_temp_path $nginx_dir/scgi;
  upstream replicas {
$upstream    keepalive 32;
  }
  server {
    listen 127.0.0.1:$lb_port;
    location / { proxy_pass http://replicas; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$host; }
  }
}
CONF
  nginx -c "$nginx_dir/nginx.conf" -p "$nginx_dir" -e "$nginx_dir/error.log"
  sleep 0.3
  echo "== $n replica(s) behind nginx on 127.0.0.1:$lb_port" >&2
  status=0
  dotnet "$load_dll" limits --url "http://127.0.0.1:$lb_port" --signing-key "$key" --issuer https://bench.local --audience bench \
    --limit "$limit" --users "$users" --requests "$requests" --clients "$clients" --user-prefix "bench-$n-$RANDOM$RANDOM" \
    --json "$out/replicas-$n.json" || status=$?
  row="$(jq -r --arg n "$n" '"| \($n) | \(.requests) | \(.seconds) | \(.requests_per_second) | \(.admitted) | \(.over_limit_admissions) | \(.wrongly_refused) | \(.statuses | to_entries | map("\(.key): \(.value)") | join(", ")) |"' "$out/replicas-$n.json")"
  summary+=$'\n'"$row"
  [ "$status" -eq 0 ] || echo "limits check FAILED with $n replica(s)" >&2
  stop_all
  nginx_dir=""
done
echo "$summary" | tee "$out/report.md"
