#!/usr/bin/env bash
# Sets up a Debian 12 machine for rotor, builds it, then runs one job:
#   scripts/bootstrap.sh quickstart   plan + apply examples/quickstart.toml (local vault)
#   scripts/bootstrap.sh test         the whole test suite through ctest
# Idempotent; works as root without prompts (uses sudo otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-}
case "$job" in
  quickstart|test) ;;
  *) echo "usage: $0 quickstart|test" >&2; exit 64 ;;
esac

packages=(
  build-essential cmake pkg-config git ca-certificates
  libtomlplusplus-dev libcurl4-openssl-dev rapidjson-dev libssl-dev libabsl-dev
  doctest-dev libcpp-httplib-dev libcli11-dev libvalijson-dev libcrypt-dev
  openssl curl docker-registry apache2-utils python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${ROTOR_BUILD_DIR:-build}
cmake -S . -B "$build_dir" ${ROTOR_CMAKE_ARGS:-}
cmake --build "$build_dir" -j"${ROTOR_JOBS:-2}"

case "$job" in
  quickstart)
    cd examples
    # The quickstart's inputs, made once and kept: a self-signed registry
    # certificate with its password, and the admin password.
    mkdir -p .quickstart && chmod 700 .quickstart
    if [ ! -f .quickstart/registry.pfx ]; then
      openssl rand -base64 24 > .quickstart/registry-pfx-password.txt
      openssl req -x509 -newkey rsa:2048 -sha256 -days 365 -nodes \
        -subj "/CN=myreg.local.cloudapp.azurestack.external" \
        -addext "subjectAltName=DNS:myreg.local.cloudapp.azurestack.external" \
        -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
        -addext "extendedKeyUsage=serverAuth" \
        -keyout .quickstart/registry.key -out .quickstart/registry.crt 2>/dev/null
      openssl pkcs12 -export -in .quickstart/registry.crt -inkey .quickstart/registry.key \
        -out .quickstart/registry.pfx -passout file:.quickstart/registry-pfx-password.txt
      rm -f .quickstart/registry.key
    fi
    [ -f .quickstart/admin-password.txt ] || openssl rand -base64 18 > .quickstart/admin-password.txt
    chmod 600 .quickstart/*
    REGISTRY_ADMIN_PASSWORD=${REGISTRY_ADMIN_PASSWORD:-$(cat .quickstart/admin-password.txt)}
    export REGISTRY_ADMIN_PASSWORD
    "../$build_dir/rotor" plan -c quickstart.toml
    "../$build_dir/rotor" apply -c quickstart.toml --auto-approve
    ;;
  test)
    ctest --test-dir "$build_dir" --output-on-failure -j"${ROTOR_JOBS:-2}"
    ;;
esac
