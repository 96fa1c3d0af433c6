#!/usr/bin/env bash
# The platform's Secrets, with fresh random values, in the namespace cloud-ide of kubectl's current cluster.
# A Secret that exists is kept as it is: replacing it would change a password under running programs
# (rotations are described in docs/gateway.md, "Operations").
#
#   deploy/secrets.sh            create the Secrets that are missing (and the namespace, if it is)
#   deploy/secrets.sh --print    print all of them as manifests instead, new values each time, for a secret
#                                store of your own (Sealed Secrets, External Secrets, SOPS); nothing is created
#
# workspace-tickets   signing-key        the gateway's and the web API's ticket key (base64, 32 bytes)
# operator-api        token              the bearer token the web API sends the operator
# redis-users         gateway, operator, webapi, admin
#                                        each program's Redis password (one a line: a rotation holds two)
# postgres            password           the database user webapi's password
# webapi-database     connection-string  the web API's Npgsql connection string, with that password
# webapi-mail         password           the SMTP password of the web API's mail account: SMTP_PASSWORD, or a
#                                        placeholder to replace
# gateway-tls         tls.crt, tls.key   the gateway's certificate: self-signed for GATEWAY_DOMAINS (default
#                                        ide.example.com,*.ws.example.com), only so the gateway starts; replace
#                                        it with cert-manager's (docs/kubernetes.md, "TLS at the edge")
set -euo pipefail
cd "$(dirname "$0")"
namespace=cloud-ide

print=false
case "${1:-}" in
  "") ;;
  --print) print=true ;;
  -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

exists() { ! $print && kubectl -n "$namespace" get secret "$1" >/dev/null 2>&1; }

# create NAME KEY=VALUE...: the Secret, unless it exists.
create() {
  local name=$1; shift
  local literals=()
  for pair in "$@"; do literals+=("--from-literal=$pair"); done
  if $print; then
    echo "---"
    kubectl create secret generic "$name" -n "$namespace" "${literals[@]}" --dry-run=client -o yaml
  elif exists "$name"; then
    echo "kept    secret/$name" >&2
  else
    kubectl create secret generic "$name" -n "$namespace" "${literals[@]}" >/dev/null
    echo "created secret/$name" >&2
  fi
}

if ! $print && ! kubectl get namespace "$namespace" >/dev/null 2>&1; then
  kubectl apply -f base/namespaces.yaml >/dev/null
fi

create workspace-tickets "signing-key=$(head -c 32 /dev/urandom | base64 -w0)"
create operator-api "token=$(random_hex 32)"
create redis-users "gateway=$(random_hex 24)" "operator=$(random_hex 24)" "webapi=$(random_hex 24)" "admin=$(random_hex 24)"

# The database password and the connection string that carries it must agree: a kept password is read back.
if exists postgres; then
  password=$(kubectl -n "$namespace" get secret postgres -o jsonpath='{.data.password}' | base64 -d)
else
  password=$(random_hex 24)
  create postgres "password=$password"
fi
create webapi-database "connection-string=Host=postgres.$namespace.svc;Database=webapi;Username=webapi;Password=$password"

# The SMTP password of the web API's mail account (WebApi:Mail:UserName): your provider's, not a random one.
create webapi-mail "password=${SMTP_PASSWORD:-replace-with-your-smtp-password}"

# A placeholder certificate (30 days, EC P-256) in a TLS Secret, as cert-manager writes one.
if exists gateway-tls; then
  echo "kept    secret/gateway-tls" >&2
else
  domains=${GATEWAY_DOMAINS:-ide.example.com,*.ws.example.com}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=${domains%%,*}" \
    -addext "subjectAltName=$(echo "DNS:$domains" | sed 's/,/,DNS:/g')" -addext "extendedKeyUsage=serverAuth" \
    -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
  if $print; then
    echo "---"
    kubectl create secret tls gateway-tls -n "$namespace" --cert="$work/tls.crt" --key="$work/tls.key" --dry-run=client -o yaml
  else
    kubectl create secret tls gateway-tls -n "$namespace" --cert="$work/tls.crt" --key="$work/tls.key" >/dev/null
    echo "created secret/gateway-tls (self-signed for $domains: replace it)" >&2
  fi
fi
