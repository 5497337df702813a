#!/usr/bin/env bash
# ctest install_layout: `cmake --install BUILD --prefix P` into a fresh
# prefix, then checks what a user gets:
#   - P/bin/rotor and P/bin/rotor-emulator, and `rotor --version`;
#   - rotor(1) in P/MANDIR/man1: renders without warnings (man -l, else
#     groff, else only its .TH header is checked), names this version, and
#     documents every command and option, those of the contract and every
#     one the installed binary's --help lists;
#   - bash completion in P/DATADIR/bash-completion/completions/rotor: loads,
#     completes the commands, each command's options and fixed values.
# usage: check-install.sh BUILD_DIR VERSION MANDIR DATADIR
set -euo pipefail

build=$1 version=$2 mandir=$3 datadir=$4
prefix=$(mktemp -d "${TMPDIR:-/tmp}/rotor-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1 || {
  cat "$prefix.log" >&2
  rm -f "$prefix.log"
  echo "FAIL: cmake --install $build --prefix $prefix (are rotor and rotor-emulator built?)" >&2
  exit 1
}
rm -f "$prefix.log"

man_page=$prefix/$mandir/man1/rotor.1
completion=$prefix/$datadir/bash-completion/completions/rotor
for f in bin/rotor bin/rotor-emulator; do
  [ -x "$prefix/$f" ] || fail "$f is not installed (or not executable)"
done
for f in "$man_page" "$completion" "$prefix/$datadir/rotor/schemas/rotor.schema.json" \
         "$prefix/$datadir/rotor/schemas/plan.schema.json"; do
  [ -f "$f" ] || fail "${f#"$prefix"/} is not installed"
done
[ "$failures" -eq 0 ] || exit 1

# --- the binaries
got=$("$prefix/bin/rotor" --version)
[ "$got" = "rotor $version" ] || fail "rotor --version printed '$got', expected 'rotor $version'"
"$prefix/bin/rotor-emulator" --help >/dev/null 2>&1 || fail "rotor-emulator --help failed"

# --- the man page
grep -q "^\.TH ROTOR 1 .*\"rotor $version\"" "$man_page" ||
  fail "rotor.1: the .TH line does not name rotor $version: $(grep '^\.TH' "$man_page" || echo none)"
if command -v man >/dev/null 2>&1 && man --version >/dev/null 2>&1; then
  renderer="man -l"
  rendered=$(MANWIDTH=80 man --warnings -l "$man_page" 2>"$prefix/render.err") ||
    fail "man -l rotor.1 failed"
elif command -v groff >/dev/null 2>&1; then
  renderer="groff -man"
  rendered=$(groff -man -Tutf8 -ww "$man_page" 2>"$prefix/render.err") ||
    fail "groff -man rotor.1 failed"
else
  renderer=""
  rendered=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$man_page")
  : >"$prefix/render.err"
fi
if [ -s "$prefix/render.err" ]; then
  fail "$renderer warns about rotor.1:"
  cat "$prefix/render.err" >&2
elif [ -n "$renderer" ]; then
  echo "rotor.1 renders with $renderer"
fi
if [ -n "$renderer" ]; then
  # Rendered text; man may print hyphens as U+2010 and bold with overstrikes.
  rendered=$(printf '%s\n' "$rendered" | sed $'s/.\b//g; s/\xe2\x80\x90/-/g')
  for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES; do
    grep -q "^$section" <<<"$rendered" || fail "$renderer: rotor.1 has no $section section"
  done
fi

# --- what must be documented: the contract, and whatever the binary has.
commands="plan apply rollback show validate verify drift init"
options="-c --config --json -o --out --detailed-exitcode --auto-approve --replace --parallelism
         --log-level --quiet --log-format --target --no-color --version --help
         --vault --resource-group --deployment --arm-endpoint --tenant-id
         --subscription-id --ca-bundle --client-id --to"
help=$("$prefix/bin/rotor" --help)
binary_commands=$(printf '%s\n' "$help" |
  sed -n '/^Subcommands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$binary_commands" ] || fail "found no commands in rotor --help"
binary_options=$(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]+' || true)
for cmd in $binary_commands; do
  binary_options+=" $("$prefix/bin/rotor" "$cmd" --help | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' |
    tr -d ' ,' || true)"
done
man_text=$(sed 's/\\-/-/g' "$man_page")
for cmd in $(printf '%s\n' $commands $binary_commands | sort -u); do
  grep -qE "^\.B $cmd\$" <<<"$man_text" || fail "rotor.1 documents no command '$cmd' (.B $cmd)"
  grep -qw -- "$cmd" "$completion" || fail "the bash completion does not know command '$cmd'"
done
for opt in $(printf '%s\n' $options $binary_options | sort -u); do
  grep -qE -- "(^|[ \"])$opt([ \"]|\$)" <<<"$man_text" || fail "rotor.1 does not document option $opt"
  [ "$opt" = --version ] || [ "$opt" = --help ] || grep -qE -- "(^|[ \"])$opt([ \"]|\$)" "$completion" ||
    fail "the bash completion does not know option $opt"
done

# --- the completion, in a clean bash
complete_words() {
  # complete_words WORD... : the completions for the last WORD.
  bash --norc --noprofile -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _rotor
    printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@"
}
bash --norc --noprofile -c 'source "$1" && complete -p rotor' _ "$completion" >/dev/null ||
  fail "sourcing the completion does not register it for rotor"
expect() {
  # expect "EXPECTED..." WORD... : completing the last WORD offers each of EXPECTED.
  local want=$1 got w
  shift
  got=$(complete_words "$@")
  for w in $want; do
    grep -qx -- "$w" <<<"$got" || fail "completing '$*' does not offer $w (got: $(echo $got))"
  done
}
expect_not() {
  local unwanted=$1 got w
  shift
  got=$(complete_words "$@")
  for w in $unwanted; do
    if grep -qx -- "$w" <<<"$got"; then fail "completing '$*' offers $w"; fi
  done
}
expect "$commands --version --help" rotor ""
expect "plan" rotor pl
expect_not "apply" rotor pl
expect "--config --json --out --detailed-exitcode --target --parallelism --log-level --log-format --quiet" \
  rotor plan --
expect_not "--auto-approve --vault" rotor plan --
expect "--auto-approve --verify --replace --config" rotor apply --
expect "--replace" rotor plan --re
expect "--to --auto-approve --out --config --json" rotor rollback --
expect "--expect-rejected --json" rotor verify --
expect "--json --target" rotor drift -c x.toml --
expect "--vault --resource-group --deployment --out --arm-endpoint --tenant-id --subscription-id --ca-bundle --client-id" \
  rotor init --
expect "text json" rotor plan --log-format ""
expect "error warn info debug" rotor plan --log-level ""
expect "latest" rotor init --deployment ""

if [ "$failures" -ne 0 ]; then
  echo "$failures problem(s): update docs/rotor.1 and docs/rotor.bash-completion" >&2
  exit 1
fi
echo "installed into a temporary prefix: bin/rotor ($version), bin/rotor-emulator, man1/rotor.1, bash completion, schemas"
