#!/usr/bin/env bash
# One short libFuzzer run, as ctest's fuzz_<target> tests do it:
#   run_fuzzer.sh FUZZER SEED_DIR ARTIFACT_DIR SECONDS [pfx|certificate_secret|pem_chain]
# The committed seeds are copied to a scratch corpus (the repository is
# never written). For the PFX targets, PKCS#12 files with throwaway keys
# are made here with openssl (no private key is committed): with and
# without a MAC, encrypted and not, AES and (when OpenSSL has it) RC2-40;
# certificate_secret gets them wrapped as Key Vault secret values;
# pem_chain gets the certificates as PEM chains (LF and CRLF), and one
# with a private key block after the leaf.
# A crash, leak, UB report or a run over 10 s on one input fails the test;
# the input is left in ARTIFACT_DIR (replay: FUZZER ARTIFACT_DIR/crash-...).
set -euo pipefail
fuzzer=$1 seeds=$2 artifacts=$3 seconds=$4 kind=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
cp "$seeds"/* "$work/corpus/" 2>/dev/null || true

make_pfx_seeds() {
  local dir=$work/gen
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=fuzz.localhost" -addext "subjectAltName=DNS:fuzz.localhost" \
    -keyout "$dir/ec.key" -out "$dir/ec.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:1024 -nodes -days 30 -subj "/CN=fuzz-ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -new -newkey rsa:1024 -nodes -subj "/CN=fuzz-leaf" \
    -keyout "$dir/leaf.key" -out "$dir/leaf.csr" 2>/dev/null
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 30 -out "$dir/leaf.crt" 2>/dev/null
  if [ "$kind" = pem_chain ]; then
    cat "$dir/leaf.crt" "$dir/ca.crt" > "$work/corpus/gen-chain"
    sed 's/$/\r/' "$work/corpus/gen-chain" > "$work/corpus/gen-chain-crlf"
    cp "$dir/ec.crt" "$work/corpus/gen-single"
    # A private key where a certificate belongs (never committed).
    cat "$dir/leaf.crt" "$dir/ec.key" > "$work/corpus/gen-key-block"
    rm -rf "$dir"
    return
  fi
  local p=(-passout pass:fuzz)
  openssl pkcs12 -export -in "$dir/ec.crt" -inkey "$dir/ec.key" "${p[@]}" \
    -iter 1 -maciter -out "$dir/ec-aes.pfx"
  openssl pkcs12 -export -in "$dir/ec.crt" -inkey "$dir/ec.key" "${p[@]}" -nomac \
    -iter 1 -out "$dir/ec-nomac.pfx"
  openssl pkcs12 -export -in "$dir/ec.crt" -inkey "$dir/ec.key" -passout pass: -nomac \
    -keypbe NONE -certpbe NONE -out "$dir/ec-plain.pfx"
  openssl pkcs12 -export -in "$dir/leaf.crt" -inkey "$dir/leaf.key" -certfile "$dir/ca.crt" \
    "${p[@]}" -nomac -keypbe NONE -certpbe NONE -out "$dir/rsa-chain-plain.pfx"
  openssl pkcs12 -export -legacy -in "$dir/ec.crt" -inkey "$dir/ec.key" "${p[@]}" \
    -out "$dir/ec-legacy.pfx" 2>/dev/null || true
  for f in "$dir"/*.pfx; do
    local name=gen-$(basename "$f" .pfx)
    if [ "$kind" = pfx ]; then
      cp "$f" "$work/corpus/$name"
    else
      local data
      data=$(base64 -w0 "$f")
      printf '{"data":"%s","dataType":"pfx","password":"fuzz"}' "$data" | base64 -w0 \
        > "$work/corpus/$name-wrapped"
      printf '%s' "$data" > "$work/corpus/$name-raw"
    fi
  done
  rm -rf "$dir"
}
case "$kind" in
  pfx|certificate_secret|pem_chain) make_pfx_seeds ;;
esac

# detect_leaks is on by default; abort_on_error gives a usable exit status.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus"
