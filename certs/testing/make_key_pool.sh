#!/usr/bin/env bash
# Makes the tests' pool of RSA keys at build time: COUNT RSA-2048 private keys
# (PKCS#8 PEM), one after another in OUT (0600). Making an RSA key costs a
# tenth to half a CPU second; the tests need a few hundred across the suite
# and each test process would otherwise make its own (make_certs.h says how
# the pool is used). No key is ever committed.
#   make_key_pool.sh OUT COUNT
set -euo pipefail
out=$1
count=$2
umask 077
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
: > "$tmp"
for ((i = 0; i < count; i++)); do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 >> "$tmp" 2>/dev/null
done
mv "$tmp" "$out"
