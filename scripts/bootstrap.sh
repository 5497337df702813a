#!/usr/bin/env bash
# Sets up a Debian 12 machine for rotor, builds it, then runs one job:
#   scripts/bootstrap.sh quickstart        plan + apply examples/quickstart.toml (local vault)
#   scripts/bootstrap.sh test              the whole test suite through ctest
#   scripts/bootstrap.sh test --sanitize   the same suite built instead with clang
#                                          under ASan + UBSan (build-sanitize/), plus
#                                          the libFuzzer targets' short runs (what CI
#                                          runs; also ROTOR_SANITIZE_PASS=1)
# Idempotent; works as root without prompts (uses sudo otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-}
sanitize=${ROTOR_SANITIZE_PASS:-0}
case "$job" in
  quickstart|test) ;;
  *) echo "usage: $0 quickstart|test [--sanitize]" >&2; exit 64 ;;
esac
if [ "${2:-}" = "--sanitize" ] && [ "$job" = test ]; then
  sanitize=1
elif [ -n "${2:-}" ]; then
  echo "usage: $0 quickstart|test [--sanitize]" >&2; exit 64
fi

# What configuring and building needs (the quickstart stops here), then what
# the tests run: a real docker-registry, python3 for the checks, clang-format
# for the format check, promtool (prometheus) for --metrics-file's files,
# python3-yaml for the CI and Kubernetes examples, file (cpack's
# dpkg-shlibdeps step) for the Debian package, pebble (pebble-challtestsrv,
# the DNS server rotor-emulator mirrors its TXT record sets into).
packages=(
  build-essential cmake pkg-config git ca-certificates python3
  libtomlplusplus-dev libcurl4-openssl-dev rapidjson-dev libssl-dev libabsl-dev
  doctest-dev libcpp-httplib-dev libcli11-dev libvalijson-dev libcrypt-dev openssl
)
[ "$job" = test ] && packages+=(curl docker-registry apache2-utils clang-format prometheus python3-yaml
                                file pebble)
# The sanitizer pass: clang with its sanitizer and libFuzzer runtimes, and
# llvm-symbolizer for readable reports.
[ "$sanitize" = 1 ] && packages+=(clang libclang-rt-14-dev llvm-14)
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
# A fresh build compiles each library's sources in batches (CMake's unity
# builds: the headers they share are compiled once per batch, not once per
# file); test files are compiled one by one (CMakeLists.txt). ROTOR_JOBS
# compile jobs (default: one per core); ROTOR_TEST_JOBS tests at once
# (default: three per core: many tests spend part of their time waiting on a
# server, a deployment or a process).
jobs=${ROTOR_JOBS:-$(nproc)}
test_jobs=${ROTOR_TEST_JOBS:-$(( $(nproc) * 3 ))}
unity=-DCMAKE_UNITY_BUILD=ON
if [ "$sanitize" = 1 ]; then
  # One build, one run of the suite, under AddressSanitizer (leaks included)
  # and UBSan: a sanitizer finds what the plain build's run would, and more.
  # clang, so that the libFuzzer targets (tests/fuzz) share the build; each
  # fuzzer gets a short run (ctest label "fuzz"). -O1 with line tables keeps
  # the build and the tests quick enough for CI while reports still name
  # files and lines.
  build_dir=${ROTOR_SANITIZE_BUILD_DIR:-build-sanitize}
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DROTOR_SANITIZE=ON -DROTOR_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
    -DROTOR_FUZZ_SECONDS="${ROTOR_FUZZ_SECONDS:-20}" $unity ${ROTOR_CMAKE_ARGS:-}
  symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
  [ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  cmake -S . -B "$build_dir" $unity ${ROTOR_CMAKE_ARGS:-}
fi
if [ "$job" = quickstart ]; then
  # Only the binary the quickstart runs.
  cmake --build "$build_dir" -j"$jobs" --target rotor
else
  cmake --build "$build_dir" -j"$jobs"
fi

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
    ctest --test-dir "$build_dir" --output-on-failure -j"$test_jobs"
    ;;
esac
