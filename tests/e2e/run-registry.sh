#!/bin/bash
# The registry VM's docker-registry, for rotor-emulator's --registry-cmd:
#
#   rotor-emulator ... --registry-dir DIR --registry-cmd "bash run-registry.sh PORT"
#
# The emulator (re)starts this after each successful registry deployment with
# REGISTRY_DIR, REGISTRY_CERT (<THUMBPRINT>.crt: leaf, then chain),
# REGISTRY_KEY (<THUMBPRINT>.prv) and REGISTRY_HTPASSWD (bcrypt) in the
# environment, and stops it (SIGTERM to its process group) on the next
# deployment and when it stops. This writes a registry config from them and
# execs Debian's docker-registry with TLS and htpasswd auth on
# 127.0.0.1:PORT, so the process the emulator holds is the registry itself.
# Its pid goes to $REGISTRY_DIR/registry.pid for the tests' last-resort cleanup.
set -euo pipefail

port=${1:?usage: run-registry.sh PORT}
: "${REGISTRY_DIR:?}" "${REGISTRY_CERT:?}" "${REGISTRY_KEY:?}" "${REGISTRY_HTPASSWD:?}"

config="$REGISTRY_DIR/registry-config.yml"
mkdir -p "$REGISTRY_DIR/data"
cat > "$config" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: "$REGISTRY_DIR/data"
http:
  addr: "127.0.0.1:$port"
  secret: rotor-e2e-not-a-secret
  tls:
    certificate: "$REGISTRY_CERT"
    key: "$REGISTRY_KEY"
auth:
  htpasswd:
    realm: rotor-e2e
    path: "$REGISTRY_HTPASSWD"
YAML
echo $$ > "$REGISTRY_DIR/registry.pid"
exec docker-registry serve "$config"
