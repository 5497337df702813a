#!/usr/bin/env bash
# Checks every example config with Taplo (the TOML engine of editors such as
# Even Better TOML) through its `#:schema` line, as an editor would, and that
# Taplo rejects a config the schema forbids.
#   taplo-check.sh SOURCE_DIR WORK_DIR
# Taplo comes from npm at the version pinned in docs/taplo/package-lock.json,
# installed once into WORK_DIR.
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
cp "$src/docs/taplo/package.json" "$src/docs/taplo/package-lock.json" "$work/"
if ! cmp -s "$src/docs/taplo/package-lock.json" "$work/node_modules/.rotor-package-lock.json"; then
  (cd "$work" && npm ci --no-audit --no-fund --silent)
  cp "$src/docs/taplo/package-lock.json" "$work/node_modules/.rotor-package-lock.json"
fi
taplo="$work/node_modules/.bin/taplo"

cd "$src/examples"
"$taplo" check *.toml

# A typo in a key must be refused through the same #:schema line.
bad=$(mktemp -d)
trap 'rm -rf "$bad"' EXIT
sed 's/^name = "newregkv"/nmae = "newregkv"/' quickstart.toml > "$bad/bad.toml"
sed -i "s|#:schema ../schemas/rotor.schema.json|#:schema $src/schemas/rotor.schema.json|" "$bad/bad.toml"
if "$taplo" check "$bad/bad.toml" >"$bad/out" 2>&1 || ! grep -q "'nmae' was unexpected" "$bad/out"; then
  echo "taplo did not refuse the unknown key nmae:"; cat "$bad/out"; exit 1
fi
echo "taplo: every example validates, and an unknown key is refused"
