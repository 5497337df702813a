#!/bin/bash
# The README's "On an emulated Azure Stack Hub stamp" lines, run as written
# (only /tmp/rotor-try, the two ports and build/ are moved to a temporary
# folder, free ports and this build), then the seed's four procedures on the
# registry rotor init adopted, each proven by rotor verify against the real
# docker-registry the emulated VM restarts:
#   1. an updated password for an existing user,
#   2. a new username and password (the old login must stop working),
#   3. a new certificate under the existing secret name,
#   4. a new certificate under a new secret name.
# No secret value may appear in anything rotor prints.
#
#   try_stamp_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
tmp=$(mktemp -d)
try="$tmp/try"
log="$tmp/rotor-output.log"

cleanup() {
  if [[ -f $try/pid ]]; then
    local pid
    pid=$(cat "$try/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
arm_port=$(free_port)
registry_port=$(free_port)

# The README's lines, at most five.
block=$(sed -n '/<!-- try-stamp:begin/,/<!-- try-stamp:end/p' "$src/README.md" | sed -n 's/^    //p')
count=$(grep -c . <<<"$block")
if ((count == 0 || count > 5)); then
  echo "FAIL: the README's try-stamp block has $count commands (1 to 5 expected)"
  exit 1
fi
block=${block//\/tmp\/rotor-try/$try}
block=${block//8443/$arm_port}
block=${block//5443/$registry_port}
block=${block//build\//$build/}

cd "$src"
echo "== the README's lines"
while IFS= read -r line; do
  echo "\$ ${line:0:120}..."
  eval "$line" >>"$log" 2>&1 || {
    status=$?
    cat "$log"
    echo "FAIL: exit $status from: $line"
    exit 1
  }
done <<<"$block"
grep -q "Apply complete!" "$log" || { cat "$log"; echo "FAIL: no 'Apply complete!'"; exit 1; }
grep -q "1 redeployed" "$log" || { cat "$log"; echo "FAIL: the rotation did not redeploy"; exit 1; }

config="$try/rotor.toml"
rotor() { "$build/rotor" "$@" >>"$log" 2>&1; }
expect() {  # expect DESCRIPTION COMMAND...: the command succeeds
  local what=$1
  shift
  if ! "$@"; then
    tail -60 "$log"
    echo "FAIL: $what"
    exit 1
  fi
}

# The variables seed.env set (the README's subshell-free lines sourced it).
. "$try/seed.env"
secrets=("$REGISTRY_USER_ADMIN_PASSWORD" "$REGISTRY_USER_CI_PASSWORD" "$REGISTRY_PFX_PASSWORD"
  "$REGISTRY_SPN_CLIENT_SECRET")

echo "== 1. an updated password for an existing user"
export REGISTRY_USER_ADMIN_PASSWORD
REGISTRY_USER_ADMIN_PASSWORD=$(openssl rand -hex 16)
OLD_ADMIN=${secrets[0]}
export OLD_ADMIN
secrets+=("$REGISTRY_USER_ADMIN_PASSWORD")
expect "apply of a new admin password" rotor apply -c "$config" --auto-approve --verify
expect "the old admin password is refused" rotor verify -c "$config" --expect-rejected admin=OLD_ADMIN

echo "== 2. a new username and password"
export REGISTRY_USER_CI2_PASSWORD OLD_CI=$REGISTRY_USER_CI_PASSWORD
REGISTRY_USER_CI2_PASSWORD=$(openssl rand -hex 16)
secrets+=("$REGISTRY_USER_CI2_PASSWORD")
sed -i 's/^name = "ci"$/name = "ci2"/; s/REGISTRY_USER_CI_PASSWORD/REGISTRY_USER_CI2_PASSWORD/' "$config"
expect "apply of the renamed user" rotor apply -c "$config" --auto-approve --verify
expect "the old user is refused" rotor verify -c "$config" --expect-rejected ci=OLD_CI

echo "== 3. a new certificate under the existing secret name"
host=myreg.local.cloudapp.localhost
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$try/new-ca.pem" -days 365 \
  -subj /CN=rotor-try-ca 2>/dev/null
issue() {  # issue NAME: NAME.pfx for the registry host, by the new CA
  openssl req -newkey rsa:2048 -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.csr" \
    -subj "/CN=$host" 2>/dev/null
  openssl x509 -req -in "$tmp/$1.csr" -CA "$try/new-ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 365 -out "$tmp/$1.pem" -extfile <(printf '%s\n' \
      "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
      "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth") 2>/dev/null
  openssl pkcs12 -export -in "$tmp/$1.pem" -inkey "$tmp/$1.key" -certfile "$try/new-ca.pem" \
    -out "$try/$1.pfx" -passout env:REGISTRY_PFX_PASSWORD
}
issue renewed
sed -i 's/^pfx = .*/pfx = "renewed.pfx"/; s/registry-ca\.pem/new-ca.pem/' "$config"
expect "apply of the renewed certificate" rotor apply -c "$config" --auto-approve --verify

echo "== 4. a new certificate under a new secret name"
issue second
sed -i 's/^secret_name = .*/secret_name = "containersecret2"/; s/^pfx = .*/pfx = "second.pfx"/' \
  "$config"
expect "apply of the certificate under a new name" rotor apply -c "$config" --auto-approve --verify

echo "== converged"
expect "plan says No changes" rotor plan -c "$config" --detailed-exitcode

for secret in "${secrets[@]}"; do
  if grep -qF -- "$secret" "$log"; then
    echo "FAIL: a secret value appears in rotor's output"
    exit 1
  fi
done
echo "PASS"
