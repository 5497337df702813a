#!/usr/bin/env python3
"""rotor(1) documents every environment variable the product code reads.

Finds the variables read in base/, certs/, engine/, providers/ and cli/ (not
tests): a string literal that names a variable on a line that reads one --
`env.Get("X")`, `getenv("X")`, `DurationFromEnvironment(env, "X")`, the
proxy table `get({"https_proxy", ...})` and ResolveCloudIdentity's
`Field{..., "AZURE_TENANT_ID"}` -- and compares them with the variables
docs/rotor.1 lists under ENVIRONMENT (`.B NAME` or `.BR NAME ...` lines).
Each side must hold the other. Run by ctest (test "env_docs"):

    python3 scripts/check_env_docs.py [ROOT]
"""
import os
import re
import sys

NAME = r'"([A-Z][A-Z0-9_]*|[a-z]+_proxy)"'
READS = re.compile(r'(\.Get\(|getenv\(|Environment\(|get\(\{|Field\{)')
LITERAL = re.compile(NAME)
DOC_ENTRY = re.compile(r'^\.BR?\s+([A-Za-z_][A-Za-z0-9_]*)')
FOLDERS = ("base", "certs", "engine", "providers", "cli")


def is_test_source(path):
    return path.endswith("_test.cc") or "/testing/" in path


def read_in_code(root):
    names = {}
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                path = os.path.relpath(os.path.join(dirpath, name), root)
                if not name.endswith((".cc", ".h")) or is_test_source(path):
                    continue
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        code = line.split("//", 1)[0]
                        if not READS.search(code):
                            continue
                        for literal in LITERAL.findall(code):
                            if literal.isupper() and "_" not in literal and literal not in (
                                    "TERM", "COLUMNS"):
                                continue
                            names.setdefault(literal, f"{path}:{number}")
    return names


def documented(root):
    text = open(os.path.join(root, "docs", "rotor.1"), encoding="utf-8").read()
    section = text.split("\n.SH ENVIRONMENT\n", 1)
    if len(section) != 2:
        return None
    body = section[1].split("\n.SH ", 1)[0]
    names = set()
    for line in body.splitlines():
        if not DOC_ENTRY.match(line):
            continue
        # `.BR a ", " b`: every unquoted word is an entry.
        for word in re.sub(r'"[^"]*"', " ", line).split()[1:]:
            if re.fullmatch(r"[A-Z][A-Z0-9_]*|[a-z]+_proxy", word):
                names.add(word)
    return names


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    code = read_in_code(root)
    docs = documented(root)
    if docs is None:
        print("docs/rotor.1 has no ENVIRONMENT section")
        return 1
    problems = []
    for name, where in sorted(code.items()):
        if name not in docs:
            problems.append(f"{where}: reads {name}, which rotor(1) does not document "
                            "(add it under ENVIRONMENT)")
    for name in sorted(docs - set(code)):
        problems.append(f"docs/rotor.1: documents {name}, which no product code reads")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"env_docs: ok ({len(code)} variables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
