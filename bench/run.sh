#!/usr/bin/env bash
# One command for the side-by-side benchmark: bash bench/run.sh [--quick] [--rate N] [--out DIR]
# and for the replicas' reliability runs: bash bench/run.sh --faults | --soak [--minutes N] [--quick]
# Installs what it needs from Debian, then runs the harness on core 1; it starts every server on core 0
# itself, on free loopback ports, and stops them by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
[ -f /usr/share/lua/5.1/nginx/redis.lua ] || missing+=(lua-nginx-redis)
[ -f /usr/share/lua/5.1/resty/core.lua ] || missing+=(lua-resty-core)
[ -f /usr/share/lua/5.1/resty/lrucache.lua ] || missing+=(lua-resty-lrucache)
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$(nproc)" -lt 2 ]; then
  echo "bench needs 2 cores: servers on core 0, load generator on core 1" >&2
  exit 2
fi

ulimit -n "$(ulimit -Hn)"
dotnet build bench/Bench -c Release --nologo -v q
exec taskset -c 1 dotnet bench/Bench/bin/Release/net10.0/Bench.dll "$@"
