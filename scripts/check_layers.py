#!/usr/bin/env python3
"""Checks rotor's layers (docs/DESIGN.md, "Layers") on the source tree.

    base <- certs <- engine (model <- config, refresh, diff, render, apply,
    verify) <- providers <- cli

Every product source file (not *_test.cc, not a testing/ folder, not
tests/ or bench/) may include only the folders its layer allows; engine and
provider headers carry no third-party type but Abseil's; a folder's
internal headers stay in it; only providers/http includes curl; no product
target links a test library. Prints each violation as file:line and exits 1
when there is one. Run by ctest (test "layers") and by hand:

    python3 scripts/check_layers.py [SOURCE_DIR]
"""
import os
import re
import sys

# Folder -> the folders (prefixes) its product sources may include, besides
# itself. Abseil and the C++/C standard library are always allowed; other
# third-party headers are listed per folder.
ALLOWED = {
    "base": {"rotor": [], "third_party": ["openssl/", "rapidjson/", "crypt.h"]},
    "certs": {"rotor": ["base/"], "third_party": ["openssl/", "rapidjson/"]},
    "engine/model": {"rotor": ["base/", "certs/"], "third_party": []},
    "engine/template": {"rotor": ["base/", "engine/model/"], "third_party": ["rapidjson/"]},
    "engine/config": {
        "rotor": ["base/", "certs/", "engine/model/", "engine/template/"],
        "third_party": ["toml++/", "rapidjson/", "valijson/", "openssl/"],
    },
    "engine/refresh": {
        "rotor": ["base/", "certs/", "engine/model/", "engine/template/"],
        "third_party": [],
    },
    "engine/diff": {"rotor": ["base/", "engine/model/"], "third_party": []},
    "engine/render": {"rotor": ["base/", "engine/model/"], "third_party": ["rapidjson/"]},
    "engine/apply": {
        "rotor": ["base/", "certs/", "engine/model/", "engine/refresh/", "engine/template/"],
        "third_party": [],
    },
    "engine/verify": {
        "rotor": ["base/", "certs/", "engine/model/"],
        "third_party": ["rapidjson/"],
    },
    "providers/http": {"rotor": ["base/"], "third_party": ["curl/", "openssl/", "rapidjson/"]},
    "providers/auth": {
        "rotor": ["base/", "certs/", "engine/model/", "providers/http/"],
        "third_party": ["openssl/", "rapidjson/"],
    },
    "providers/keyvault": {
        "rotor": ["base/", "engine/model/", "providers/http/", "providers/auth/"],
        "third_party": ["openssl/", "rapidjson/"],
    },
    "providers/arm": {
        "rotor": ["base/", "engine/model/", "providers/http/", "providers/auth/"],
        "third_party": ["openssl/", "rapidjson/"],
    },
    "providers/acme": {
        "rotor": ["base/", "engine/model/", "providers/http/"],
        "third_party": ["openssl/", "rapidjson/"],
    },
    "providers/local": {
        "rotor": ["base/", "certs/", "engine/model/"],
        "third_party": ["openssl/", "rapidjson/", "crypt.h"],
    },
    "providers/registry": {
        "rotor": ["base/", "engine/model/", "providers/http/"],
        "third_party": ["openssl/"],
    },
    "providers/issuer_command": {"rotor": ["base/", "certs/", "engine/model/"], "third_party": []},
    "cli": {
        "rotor": ["base/", "certs/", "engine/", "providers/"],
        "third_party": ["CLI/", "rapidjson/"],
    },
}

# Headers that expose a third-party type, for their own folder only.
INTERNAL_HEADERS = {
    "certs/openssl_util.h": "certs/",
    "certs/pfx_internal.h": "certs/",
    "providers/arm/arm_json_internal.h": "providers/arm/",
    "providers/local/json_internal.h": "providers/local/",
    "providers/http/curl_transfer.h": "providers/http/",
    "engine/diff/deployment_plan.h": "engine/diff/",
    "engine/diff/vm_logins.h": "engine/diff/",
    "engine/diff/publishes.h": "engine/diff/",
    "engine/config/config_schema.h": "engine/config/",
    "engine/config/diagnostics.h": "engine/config/",
    "engine/config/schema_explainer.h": "engine/config/",
    "engine/config/schema_nodes.h": "engine/config/",
    "engine/config/toml_to_json.h": "engine/config/",
    "engine/config/toml_tree.h": "engine/config/",
    "engine/config/value_source_parser.h": "engine/config/",
}

# Test libraries no product target may link.
TEST_LIBRARIES = re.compile(
    r"\b(rotor_testing|rotor_\w+_testing|rotor_fakes|rotor_e2e_support|doctest::doctest)\b")
PRODUCT_TARGET = re.compile(r"add_(library|executable)\((rotor(_[a-z]+)*)\b")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
STANDARD_HEADER = re.compile(r"^[a-z_0-9]+(\.h)?$|^(sys|arpa|netinet|net|linux)/")


def layer_of(path):
    best = None
    for folder in ALLOWED:
        if path.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def is_test_source(path):
    return (path.endswith("_test.cc") or "/testing/" in path or path.startswith("tests/")
            or path.startswith("bench/"))


def check_file(root, path, problems):
    layer = layer_of(path)
    if layer is None:
        return
    rules = ALLOWED[layer]
    header = path.endswith(".h")
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            included = match.group(2)
            where = f"{path}:{number}"
            if included.startswith("absl/") or STANDARD_HEADER.match(included):
                continue
            rotor_folders = ("base/", "certs/", "engine/", "providers/", "cli/", "tests/",
                             "bench/")
            if included.startswith(rotor_folders):
                if included.startswith(("tests/", "bench/")):
                    problems.append(f"{where}: product code includes test code {included}")
                    continue
                owner = INTERNAL_HEADERS.get(included)
                if owner is not None and not path.startswith(owner):
                    problems.append(f"{where}: {included} is internal to {owner}")
                    continue
                own = included.startswith(layer + "/")
                if not own and not any(included.startswith(p) for p in rules["rotor"]):
                    problems.append(
                        f"{where}: {layer} may not include {included} "
                        f"(allowed: {', '.join(rules['rotor']) or 'its own folder only'})")
                continue
            # A third-party header.
            if not any(included.startswith(p) for p in rules["third_party"]):
                problems.append(f"{where}: {layer} may not include third-party {included}")
            elif header and path not in INTERNAL_HEADERS:
                problems.append(
                    f"{where}: a public header carries the third-party type of {included} "
                    "(keep it in the .cc, or make the header internal)")
            if included.startswith("curl/") and layer != "providers/http":
                problems.append(f"{where}: only providers/http includes curl")


def check_cmake(root, path, problems):
    text = open(os.path.join(root, path), encoding="utf-8").read()
    products = {m.group(2) for m in PRODUCT_TARGET.finditer(text)}
    products = {p for p in products if not p.endswith("_testing")}
    for m in re.finditer(r"target_link_libraries\(\s*(\S+)([^)]*)\)", text):
        target, args = m.group(1), m.group(2)
        if target in products and target != "rotor_testing":
            bad = TEST_LIBRARIES.search(args)
            if bad:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{path}:{line}: product target {target} links {bad.group(1)}")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = []
    for folder in ("base", "certs", "engine", "providers", "cli"):
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                path = os.path.relpath(os.path.join(dirpath, name), root)
                if name == "CMakeLists.txt":
                    check_cmake(root, path, problems)
                elif name.endswith((".h", ".cc")) and not is_test_source(path):
                    check_file(root, path, problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} layer violation(s); the rules are in docs/DESIGN.md, \"Layers\"")
        return 1
    print("layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
