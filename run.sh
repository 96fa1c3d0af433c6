#!/usr/bin/env bash
# The whole platform on one machine: installs what is missing (once), builds, starts a private
# Redis, the operator (local driver: one code-server process per workspace), the web API (SQLite) and the
# gateway, prints the URL to open, and stops everything on Ctrl-C.
#
#   ./run.sh                  install if needed, build, run
#   ./run.sh --install-only   only install the tools (CI uses this before the end-to-end tests)
#
# Settings: config/run.env (each can be overridden from the environment).
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
data_dir_given=${DATA_DIR+yes}
# shellcheck source=config/run.env
source config/run.env

install_only=false
case "${1:-}" in
  "") ;;
  --install-only) install_only=true ;;
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

absolute() { case "$1" in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
tools=$(absolute "$TOOLS_DIR")
data=$(absolute "$DATA_DIR")

# Colours only on a terminal (CI logs and the tests read plain text).
if [ -t 1 ]; then bold=$'\033[1m' green=$'\033[1;32m' red=$'\033[31m' plain=$'\033[0m'; else bold='' green='' red='' plain=''; fi
say() { printf '%s== %s%s\n' "$bold" "$*" "$plain"; }
fail() { printf '%srun.sh: %s%s\n' "$red" "$*" "$plain" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "need root for: $* (or install it yourself)"
  fi
}

apt_install() {
  say "installing $* (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Runs a long command with its output in a log file and one status line every 10 s (what the status
# function given prints), so progress is visible without thousands of compiler lines; on failure the end
# of the log is shown.
run_logged() {
  local log=$1 status=$2; shift 2
  local started=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10 & wait $! || true
    if kill -0 "$pid" 2>/dev/null; then
      printf '   %4ss  %s\n' "$((SECONDS - started))" "$("$status" "$log")"
    fi
  done
  if ! wait "$pid"; then
    tail -n 40 "$log" >&2
    fail "failed after $((SECONDS - started)) s; whole log: $log"
  fi
  echo "   done in $((SECONDS - started)) s"
}

# Progress of the code-server install: megabytes in place, and the native module being compiled.
code_server_progress() {
  local module
  module=$(grep -o "node_modules/[^ ]*/build'" "$1" | tail -n 1 | sed -e 's#.*node_modules/##' -e "s#/build'##")
  echo "$(du -sm "$tools/code-server" 2>/dev/null | cut -f1) MB${module:+, compiling $module}"
}

# The Aspire dashboard's package for this machine and the program in it.
dashboard_package() {
  case "$(uname -m)" in
    aarch64) echo Aspire.Dashboard.Sdk.linux-arm64 ;;
    *) echo Aspire.Dashboard.Sdk.linux-x64 ;;
  esac
}
dashboard_program() {
  local package
  package=$(dashboard_package)
  echo "$tools/nuget/${package,,}/$ASPIRE_DASHBOARD_VERSION/tools/Aspire.Dashboard"
}

install_tools() {
  command -v dotnet >/dev/null 2>&1 || fail "the .NET 10 SDK is needed (dotnet on PATH): https://dot.net"

  # Debian packages: Redis; a C++ tool chain, Python and Kerberos headers for code-server's native
  # modules (node-gyp compiles one from source); npm only to fetch the Node 24 package.
  local packages=()
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || packages+=(build-essential)
  command -v python3 >/dev/null 2>&1 || packages+=(python3)
  [ -e /usr/include/gssapi/gssapi.h ] || packages+=(libkrb5-dev)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
  # The local mail sink (when no SMTP server of your own is given), on Debian's Python: the one apt installs
  # modules for, whatever python3 comes first on PATH (pyenv, a venv).
  /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || packages+=(python3-aiosmtpd)
  if ((${#packages[@]})); then apt_install "${packages[@]}"; fi

  mkdir -p "$tools/logs" "$tools/bin"
  # Both downloads are cached in the tools folder, so a clean re-install does not fetch them again.
  export npm_config_cache="$tools/npm-cache" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

  local node_dir="$tools/node"
  if [ ! -e "$node_dir/.installed-$NODE_VERSION" ]; then
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64) arch=arm64 ;;
      *) fail "no Node $NODE_VERSION package for $(uname -m)" ;;
    esac
    say "installing Node $NODE_VERSION into $node_dir (npm package node-linux-$arch, once)"
    rm -rf "$node_dir" "$tools/tmp" && mkdir -p "$node_dir" "$tools/tmp"
    (cd "$tools/tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null) || fail "npm pack node-linux-$arch@$NODE_VERSION failed"
    tar -xzf "$tools/tmp/node-linux-$arch-$NODE_VERSION.tgz" -C "$node_dir" --strip-components=1
    rm -rf "$tools/tmp"
    "$node_dir/bin/node" --version >/dev/null || fail "the Node package does not run here"
    touch "$node_dir/.installed-$NODE_VERSION"
  fi

  local cs_dir="$tools/code-server"
  if [ ! -e "$cs_dir/.installed-$CODE_SERVER_VERSION" ]; then
    say "installing code-server $CODE_SERVER_VERSION into $cs_dir (about 3 minutes and 630 MB, once)"
    rm -rf "$cs_dir"
    # npm and node-gyp must see Node 24 (its headers build the native modules), not the machine's node.
    run_logged "$tools/logs/code-server-install.log" code_server_progress \
      env PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
      npm install -g --prefix "$cs_dir" "code-server@$CODE_SERVER_VERSION" --foreground-scripts
    touch "$cs_dir/.installed-$CODE_SERVER_VERSION"
  fi

  if [ "$DASHBOARD" = true ] && [ ! -x "$(dashboard_program)" ]; then
    say "installing the Aspire dashboard $ASPIRE_DASHBOARD_VERSION into $tools/nuget (NuGet package $(dashboard_package), about 125 MB, once)"
    # A throw-away project outside the repository (its Directory.*.props pin the platform's own packages)
    # whose only job is to download the package; its folder tools/ is the dashboard, a self-contained program.
    local restore
    restore=$(mktemp -d)
    cat >"$restore/dashboard.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$(dashboard_package)" Version="[$ASPIRE_DASHBOARD_VERSION]" /></ItemGroup>
</Project>
PROJECT
    dotnet restore "$restore/dashboard.csproj" --packages "$tools/nuget" >"$tools/logs/dashboard-install.log" 2>&1 \
      || { rm -rf "$restore"; tail -n 20 "$tools/logs/dashboard-install.log" >&2; fail "could not download $(dashboard_package) $ASPIRE_DASHBOARD_VERSION (DASHBOARD=false ./run.sh runs without it)"; }
    rm -rf "$restore"
    chmod +x "$(dashboard_program)"
  fi

  # The operator starts this: code-server on the Node it was built for, whatever node PATH has.
  cat >"$tools/bin/code-server" <<'EOF'
#!/bin/sh
# Written by run.sh: code-server on the Node 24 installed beside it (the machine's node may be older).
tools=$(dirname "$(dirname "$(readlink -f "$0")")")
exec "$tools/node/bin/node" "$tools/code-server/lib/node_modules/code-server/out/node/entry.js" "$@"
EOF
  chmod +x "$tools/bin/code-server"
  # (Not `code-server --version`: that writes ~/.config/code-server/config.yaml.)
  say "tools ready: code-server $("$tools/node/bin/node" -p "require('$cs_dir/lib/node_modules/code-server/package.json').version") on Node $("$tools/node/bin/node" --version)"
}

install_tools
$install_only && exit 0

# --- data folder -------------------------------------------------------------------------------------
# Everything the programs write is theirs alone (keys, database, logs, Redis's snapshot); the workspaces'
# folders are handed to their users by the operator.
umask 077
isolated=false
if [ "$(id -u)" -eq 0 ]; then
  isolated=true
  # Before this version root's data lived in its home, which no workspace user can pass through: moved once.
  earlier=${XDG_DATA_HOME:-$HOME/.local/share}/cloud-ide
  if [ -z "$data_dir_given" ] && [ ! -e "$data" ] && [ -d "$earlier" ]; then
    say "moving the data folder from $earlier to $data (editors now run as users of their own)"
    mkdir -p "$(dirname "$data")" && mv "$earlier" "$data"
  fi
fi
mkdir -p "$data/logs" "$data/redis" "$data/workspaces"
if $isolated; then
  # Each workspace's user passes through to its own folder and lists nothing on the way.
  chmod 711 "$data" "$data/workspaces"
  chmod 700 "$data/logs" "$data/redis"
  dir=$(dirname "$tools/bin/code-server")
  while [ "$dir" != / ]; do
    [ -e "$dir" ] && [ "$(( 0$(stat -c %a "$dir") & 1 ))" -eq 0 ] \
      && fail "editors run as users of their own and cannot reach code-server in $tools: $dir lets no other user through. Move the clone, or install the tools elsewhere: TOOLS_DIR=/opt/cloud-ide/tools ./run.sh"
    dir=$(dirname "$dir")
  done
fi

# --- build -------------------------------------------------------------------------------------------
say "building (Release)"
for project in Gateway Operator WebApi; do
  if ! dotnet build "src/$project/$project.csproj" -c Release -nologo >"$data/logs/build.log" 2>&1; then
    grep -E "error|Error" "$data/logs/build.log" | tail -n 20 >&2
    fail "build of src/$project failed; log: $data/logs/build.log"
  fi
done
bin() { echo "$root/src/$1/bin/Release/net10.0/$1.dll"; }

# --- start -------------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_settings=(GATEWAY_PORT WEBAPI_PORT OPERATOR_PORT REDIS_PORT)
[ -z "$SMTP_HOST" ] && port_settings+=(MAIL_SINK_PORT)
[ "$DASHBOARD" = true ] && port_settings+=(DASHBOARD_PORT DASHBOARD_OTLP_PORT)
for setting in "${port_settings[@]}"; do
  port_free "${!setting}" || fail "port ${!setting} is in use; choose another: $setting=<port> ./run.sh (or config/run.env)"
done

# One signing key for the web API's tickets and the gateway, and one token for the operator's API,
# kept so that sessions survive a restart. Given through the environment: command lines are public.
secret() {
  local file="$data/$1"
  [ -s "$file" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$file")
  cat "$file"
}
# The same in hex, for what travels in a URL, a header or Redis's ACL file (base64's '+', '/' and '=' would not).
hex_secret() {
  local file="$data/$1"
  [ -s "$file" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
  cat "$file"
}
signing_key=$(secret signing-key)
operator_token=$(secret operator-token)
redis="127.0.0.1:$REDIS_PORT"

# Each program signs in to Redis as its own user with only its own rights (config/redis-users.acl), as in
# Kubernetes: one password file per user, generated once, and the ACL file Redis loads rendered from them
# (hashed) by the same script the Redis pod runs.
mkdir -p "$data/redis-users" && chmod 700 "$data/redis-users"
for user in gateway operator webapi admin; do
  hex_secret "redis-users/$user" >/dev/null
done
(umask 077 && sh deploy/base/redis/redis-acl.sh render config/redis-users.acl "$data/redis-users" >"$data/redis/users.acl")

started=()  # "pid name" of everything we started, in start order
stop_all() {
  trap - INT TERM EXIT
  ((${#started[@]})) || return 0
  say "stopping"
  local i pid name
  # Reverse order: the gateway first (no new traffic), the operator before Redis (it stops the editors
  # and removes their routes). SIGTERM by PID: background jobs of a script ignore SIGINT.
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    read -r pid name <<<"${started[i]}"
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "   $name did not stop in 15 s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    echo "   $name stopped"
  done
  started=()
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# start NAME COMMAND...: output to $data/logs/NAME.log. setsid keeps Ctrl-C (SIGINT to the terminal's
# process group) from reaching it, so the order of stop_all holds; it execs in place (a background job
# is no group leader), so $! is the program's own PID.
start() {
  local name=$1; shift
  setsid "$@" >>"$data/logs/$name.log" 2>&1 </dev/null &
  started+=("$! $name")
}

# The HTTP status of GET <path> on a loopback port, or nothing (bash's /dev/tcp: no curl needed).
http_status() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    read -r -t 2 _ status _ <&3 && echo "$status"
  ) 2>/dev/null
}

# Waits until a port accepts connections (and, for HTTP, the path answers 200), or the process died.
wait_ready() {
  local name=$1 port=$2 path=${3:-} pid=${started[${#started[@]} - 1]%% *}
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$data/logs/$name.log" >&2; fail "$name exited at start; log: $data/logs/$name.log"; }
    if [ -z "$path" ]; then
      port_free "$port" || return 0
    elif [ "$(http_status "$port" "$path")" = 200 ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "$name did not become ready in 60 s; log: $data/logs/$name.log"
}

say "starting Redis on $redis"
start redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$data/redis" --save 60 1 --appendonly no --protected-mode yes \
  --aclfile "$data/redis/users.acl"
wait_ready redis "$REDIS_PORT"

# The dashboard first, so that the programs' first spans and logs have somewhere to go. Its three keys are
# files under DATA_DIR, given through the environment.
telemetry=()
if [ "$DASHBOARD" = true ]; then
  dashboard_token=$(hex_secret dashboard-token)
  otlp_key=$(hex_secret dashboard-otlp-key)
  say "starting the Aspire dashboard on http://127.0.0.1:$DASHBOARD_PORT (OTLP/HTTP on 127.0.0.1:$DASHBOARD_OTLP_PORT)"
  start dashboard env \
    ASPNETCORE_URLS="http://127.0.0.1:$DASHBOARD_PORT" \
    ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$DASHBOARD_OTLP_PORT" \
    Dashboard__Frontend__AuthMode=BrowserToken \
    Dashboard__Frontend__BrowserToken="$dashboard_token" \
    Dashboard__Otlp__AuthMode=ApiKey \
    Dashboard__Otlp__PrimaryApiKey="$otlp_key" \
    Dashboard__Api__AuthMode=ApiKey \
    Dashboard__Api__PrimaryApiKey="$(hex_secret dashboard-api-key)" \
    "$(dashboard_program)"
  wait_ready dashboard "$DASHBOARD_PORT"
  # Each program exports there (<Program>:Telemetry); the key goes in the environment, not the command line.
  telemetry=(Telemetry__OtlpEndpoint="http://127.0.0.1:$DASHBOARD_OTLP_PORT" Telemetry__Headers="x-otlp-api-key=$otlp_key")
fi
# NAME__Telemetry__... for one program: its section's copy of the settings above.
telemetry_for() { local setting; for setting in "${telemetry[@]}"; do echo "$1__$setting"; done; }

say "starting the operator on 127.0.0.1:$OPERATOR_PORT"
start operator env \
  Operator__Api__Token="$operator_token" \
  $(telemetry_for Operator) \
  dotnet "$(bin Operator)" --ConfigFile="$root/config/operator.json" \
  --Urls="http://127.0.0.1:$OPERATOR_PORT" \
  --Operator:Driver=Local \
  --Operator:Redis:Configuration="$redis" \
  --Operator:Redis:User=operator \
  --Operator:Redis:PasswordFile="$data/redis-users/operator" \
  --Operator:Local:DataDirectory="$data/workspaces" \
  --Operator:Local:CodeServer="$tools/bin/code-server" \
  --Operator:EditorSettingsFile="$(if [ -n "$EDITOR_SETTINGS" ]; then absolute "$EDITOR_SETTINGS"; fi)"
wait_ready operator "$OPERATOR_PORT" /healthz
if $isolated; then
  say "each workspace's editor runs as a user of its own (cide<uid>): its terminal reaches its own folder only"
else
  printf '%s   every editor runs as %s, like the platform: a workspace terminal can read what you can (the keys in\n   %s included). Fine for yourself; for others, run ./run.sh as root to give each workspace its own user.%s\n' \
    "$red" "$(id -un)" "$data" "$plain"
fi

# The page's address as users reach it: the gateway's (the links in mails point there).
host=$GATEWAY_ADDRESS
[ "$host" = 0.0.0.0 ] && host=$(hostname -I 2>/dev/null | cut -d' ' -f1)
page_scheme=http
[ -n "$TLS_CERT_FILE$TLS_KEY_FILE" ] && page_scheme=https
page="$page_scheme://$host:$GATEWAY_PORT/"
[ -n "$WORKSPACE_DOMAIN" ] && page="$page_scheme://$WORKSPACE_DOMAIN/"

# Mail: an SMTP server of your own, or the local sink. The sink is a real SMTP server (the web API speaks to
# it as to a provider's), so what a user reads is what the platform sent; it prints to this terminal, where the
# person who ran run.sh looks, rather than into a log file nobody opens.
mail_settings=(--WebApi:Accounts:RequireVerifiedEmail="$VERIFY_EMAIL" --WebApi:Mail:From="$MAIL_FROM")
if [ -n "$SMTP_HOST" ]; then
  mail_settings+=(--WebApi:Mail:Host="$SMTP_HOST" --WebApi:Mail:Port="$SMTP_PORT" --WebApi:Mail:Security="$SMTP_SECURITY"
    --WebApi:Mail:UserName="$SMTP_USER" --WebApi:Mail:PasswordFile="$(if [ -n "$SMTP_PASSWORD_FILE" ]; then absolute "$SMTP_PASSWORD_FILE"; fi)")
else
  mkdir -p "$data/mail"
  say "starting a local mail sink on 127.0.0.1:$MAIL_SINK_PORT (mails are printed here and kept in $data/mail/)"
  setsid /usr/bin/python3 -u -c '
import email, email.policy, os, signal, sys, threading
from aiosmtpd.controller import Controller

class Sink:
    def __init__(self, folder):
        self.folder, self.count = folder, len(os.listdir(folder))

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        with open(os.path.join(self.folder, f"{self.count:05d}.eml"), "wb") as kept:
            kept.write(envelope.content)
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = mail.get_body(("plain",))
        links = [line.strip() for line in (body.get_content() if body else "").splitlines() if "://" in line and "#" in line]
        to, subject = ", ".join(envelope.rcpt_tos), mail["subject"]
        print(f"   mail to {to}: {subject}", *links, sep="\n     ", flush=True)
        return "250 kept"

controller = Controller(Sink(sys.argv[1]), hostname="127.0.0.1", port=int(sys.argv[2]))
controller.start()
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
threading.Event().wait()
' "$data/mail" "$MAIL_SINK_PORT" 2>>"$data/logs/mail-sink.log" </dev/null &
  started+=("$! mail-sink")
  wait_ready mail-sink "$MAIL_SINK_PORT"
  mail_settings+=(--WebApi:Mail:Host=127.0.0.1 --WebApi:Mail:Port="$MAIL_SINK_PORT" --WebApi:Mail:Security=None)
fi

say "starting the web API on 127.0.0.1:$WEBAPI_PORT"
start webapi env \
  WebApi__Tickets__SigningKey="$signing_key" \
  $(telemetry_for WebApi) \
  WebApi__Operator__Token="$operator_token" \
  WebApi__WorkspacesOnOneMachine=true \
  dotnet "$(bin WebApi)" --ConfigFile="$root/config/webapi.json" \
  --Urls="http://127.0.0.1:$WEBAPI_PORT" \
  --WebApi:DataDirectory="$data" \
  --WebApi:Database:Provider=Sqlite \
  --WebApi:Database:ConnectionString="Data Source=$data/webapi.db" \
  --WebApi:Operator:Url="http://127.0.0.1:$OPERATOR_PORT" \
  --WebApi:Tickets:GatewayUrl= \
  --WebApi:Tickets:WorkspaceDomain="$WORKSPACE_DOMAIN" \
  --WebApi:CatalogFile="$root/config/catalog.json" \
  --WebApi:TrustedProxies:0=127.0.0.1 \
  --WebApi:Redis:Configuration="$redis" \
  --WebApi:Redis:User=webapi \
  --WebApi:Redis:PasswordFile="$data/redis-users/webapi" \
  --WebApi:PublicUrl="$page" \
  "${mail_settings[@]}"
wait_ready webapi "$WEBAPI_PORT" /healthz

# The gateway serves the page (static route to the web API) and the editors: by path, /ws/<sid>/, on the
# page's own origin, or each on its own origin under WORKSPACE_DOMAIN (then the log-in page is named in
# full, since a workspace's origin is another one).
scheme=http
listen=(--urls="http://$GATEWAY_ADDRESS:$GATEWAY_PORT")
if [ -n "$TLS_CERT_FILE$TLS_KEY_FILE" ]; then
  [ -r "$TLS_CERT_FILE" ] && [ -r "$TLS_KEY_FILE" ] || fail "TLS_CERT_FILE and TLS_KEY_FILE must both name readable PEM files"
  scheme=https
  listen=(
    --Gateway:Endpoints:Https="$GATEWAY_ADDRESS:$GATEWAY_PORT"
    --Gateway:Tls:Certificates:0:CertificateFile="$(absolute "$TLS_CERT_FILE")"
    --Gateway:Tls:Certificates:0:KeyFile="$(absolute "$TLS_KEY_FILE")"
  )
fi
login_url=/
[ -n "$WORKSPACE_DOMAIN" ] && login_url="$scheme://$WORKSPACE_DOMAIN/"
platform_hosts=$PLATFORM_HOSTS
if [ -z "$platform_hosts" ]; then
  platform_hosts="localhost,127.0.0.1,${WORKSPACE_DOMAIN%%:*}"
  if [ "$GATEWAY_ADDRESS" = 0.0.0.0 ]; then
    platform_hosts+=",$(hostname -I 2>/dev/null | tr ' ' ','),$(hostname),$(hostname -f 2>/dev/null)"
  else
    platform_hosts+=",$GATEWAY_ADDRESS"
  fi
fi
hosts=()
IFS=, read -ra names <<<"$platform_hosts"
for name in "${names[@]}"; do
  [ -n "$name" ] && hosts+=(--Gateway:Routes:PlatformHosts:${#hosts[@]}="$name")
done
say "starting the gateway on $scheme://$GATEWAY_ADDRESS:$GATEWAY_PORT"
start gateway env \
  Gateway__Auth__SigningKey="$signing_key" \
  $(telemetry_for Gateway) \
  dotnet "$(bin Gateway)" --ConfigFile="$root/config/gateway.json" \
  "${listen[@]}" "${hosts[@]}" \
  --Gateway:Redis:Configuration="$redis" \
  --Gateway:Redis:User=gateway \
  --Gateway:Redis:PasswordFile="$data/redis-users/gateway" \
  --Gateway:Routes:WorkspaceDomain="$WORKSPACE_DOMAIN" \
  --Gateway:Routes:UnixSocketDirectory="$data/workspaces" \
  --Gateway:Auth:Mode=Ticket \
  --Gateway:Auth:LoginUrl="$login_url" \
  --Gateway:StaticRoutes:web:PathPrefix=/ \
  --Gateway:StaticRoutes:web:Destination="http://127.0.0.1:$WEBAPI_PORT"
# Over HTTPS the port accepting is the sign (bash cannot speak TLS); the gateway binds it once started.
if [ "$scheme" = https ]; then wait_ready gateway "$GATEWAY_PORT"; else wait_ready gateway "$GATEWAY_PORT" /healthz; fi

printf '\n  %sOpen %s%s   (register, create a workspace, Open)\n' "$green" "$page" "$plain"
if [ "$DASHBOARD" = true ]; then
  printf '  telemetry (traces, metrics, logs of the three programs): http://127.0.0.1:%s/login?t=%s\n' "$DASHBOARD_PORT" "$dashboard_token"
fi
printf '  logs: %s/logs/   data: %s   Ctrl-C stops everything\n' "$data" "$data"
if [ -z "$SMTP_HOST" ]; then
  printf '  mail (verification codes, password-reset links) is not delivered: it is printed here and kept in %s/mail/\n' "$data"
fi
echo

# Runs until Ctrl-C, or until one of the programs exits by itself: then the others are stopped too.
set +e
wait -n
status=$?
for entry in "${started[@]}"; do
  pid=${entry%% *}
  if ! kill -0 "$pid" 2>/dev/null; then
    name=${entry#* }
    tail -n 20 "$data/logs/$name.log" >&2
    echo "run.sh: $name exited ($status); log: $data/logs/$name.log" >&2
  fi
done
exit 1
