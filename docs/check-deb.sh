#!/usr/bin/env bash
# ctest deb_package: `cpack -G DEB` on the build folder (the binaries it
# already holds: cpack builds nothing), then checks what a user gets:
#   - rotor_VERSION_ARCH.deb, whose `dpkg-deb --info` names the package, its
#     version and architecture, and dependencies dpkg-shlibdeps computed
#     (libc6, libcurl, libssl3);
#   - its files: both binaries in /usr/bin, rotor(1), the bash completion
#     and the JSON Schemas;
#   - extracted into a temporary root (dpkg-deb -x), `rotor --version` and
#     `rotor validate` on examples/quickstart.toml run from there.
# usage: check-deb.sh BUILD_DIR VERSION SOURCE_DIR
set -euo pipefail

build=$1 version=$2 source=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/rotor-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

arch=$(dpkg --print-architecture)
deb=$work/rotor_${version}_${arch}.deb
(cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log" >&2
  echo "FAIL: cpack -G DEB in $build (are rotor and rotor-emulator built?)" >&2
  exit 1
}
[ -f "$deb" ] || {
  cat "$work/cpack.log" >&2
  echo "FAIL: cpack made no $(basename "$deb"): $(ls "$work")" >&2
  exit 1
}

# --- the control data
info=$(dpkg-deb --info "$deb")
field() { sed -n "s/^ $1: //p" <<<"$info"; }
[ "$(field Package)" = rotor ] || fail "Package: '$(field Package)', expected rotor"
[ "$(field Version)" = "$version" ] || fail "Version: '$(field Version)', expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: '$(field Architecture)', expected $arch"
depends=$(field Depends)
for lib in libc6 libcurl4 libssl3 libstdc++6; do
  grep -qE "(^|, )${lib//+/\\+}( |,|$)" <<<"$depends" || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
grep -q '(>= ' <<<"$depends" || fail "Depends has no versions, as dpkg-shlibdeps writes: $depends"

# --- the files
contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}')
for f in ./usr/bin/rotor ./usr/bin/rotor-emulator ./usr/share/man/man1/rotor.1 \
         ./usr/share/bash-completion/completions/rotor \
         ./usr/share/rotor/schemas/rotor.schema.json ./usr/share/rotor/schemas/plan.schema.json; do
  grep -qx -- "$f" <<<"$contents" || fail "the package has no $f"
done

# --- run it from a temporary root
root=$work/root
dpkg-deb -x "$deb" "$root"
got=$("$root/usr/bin/rotor" --version)
[ "$got" = "rotor $version" ] || fail "rotor --version printed '$got', expected 'rotor $version'"
"$root/usr/bin/rotor-emulator" --help >/dev/null 2>&1 || fail "rotor-emulator --help failed"

# The quickstart's inputs, as scripts/bootstrap.sh quickstart makes them.
example=$work/example
mkdir -p "$example/.quickstart"
cp "$source/examples/quickstart.toml" "$source/examples/registry-template.json" "$example/"
openssl rand -base64 24 >"$example/.quickstart/registry-pfx-password.txt"
openssl req -x509 -newkey rsa:2048 -sha256 -days 365 -nodes \
  -subj "/CN=myreg.local.cloudapp.azurestack.external" \
  -addext "subjectAltName=DNS:myreg.local.cloudapp.azurestack.external" \
  -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$example/registry.key" -out "$example/registry.crt" 2>/dev/null
openssl pkcs12 -export -in "$example/registry.crt" -inkey "$example/registry.key" \
  -out "$example/.quickstart/registry.pfx" \
  -passout "file:$example/.quickstart/registry-pfx-password.txt"
validated=$(cd "$example" && REGISTRY_ADMIN_PASSWORD=Deb-Check-Admin-1 \
  "$root/usr/bin/rotor" validate -c quickstart.toml 2>&1) ||
  fail "rotor validate -c quickstart.toml from the package failed: $validated"
grep -q "Success! The configuration is valid." <<<"$validated" ||
  fail "rotor validate did not say the configuration is valid: $validated"

if [ "$failures" -ne 0 ]; then
  echo "$failures problem(s) with $(basename "$deb")" >&2
  exit 1
fi
echo "$(basename "$deb"): $(field Installed-Size) KiB installed; Depends: $depends; rotor --version and rotor validate run from the extracted package"
