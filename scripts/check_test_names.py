#!/usr/bin/env python3
"""ctest splits test names on ';', which would turn one doctest case into
filters that match nothing (and "pass"): no TEST_CASE name may hold one.
Names split over several string literals are joined first. Run by ctest
(test_case_names_are_ctest_safe)."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
CASE = re.compile(r'TEST_CASE\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
bad = 0
for folder in ("base", "certs", "engine", "providers", "cli", "tests", "bench"):
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for name in files:
            if not name.endswith("_test.cc"):
                continue
            path = os.path.join(dirpath, name)
            text = open(path, encoding="utf-8").read()
            for m in CASE.finditer(text):
                title = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
                if ";" in title:
                    line = text.count("\n", 0, m.start()) + 1
                    print(f"{os.path.relpath(path, root)}:{line}: ';' in test name: {title}")
                    bad += 1
sys.exit(1 if bad else 0)
