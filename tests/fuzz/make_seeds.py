#!/usr/bin/env python3
"""Refreshes the fuzzers' seed corpora from the official Azure REST API
examples and recorded traffic (public, MIT-licensed Azure REST API specs and
Azure SDK test recordings; see tests/data/azure-reference/README.md).

    python3 tests/fuzz/make_seeds.py tests/data/azure-reference

Writes tests/fuzz/corpus/{keyvault_codec,arm_codec,auth,http_error}/ref-*
(one response body or header per file, deduplicated, named after the file
it came from). The hand-made seeds (hand-*) are kept as they are.
"""
import hashlib
import json
import pathlib
import sys

MAX_PER_TARGET = 40


def bodies_of_example(path):
    doc = json.loads(path.read_text())
    for status, response in doc.get("responses", {}).items():
        if "body" in response:
            yield status, json.dumps(response["body"], indent=1)


def exchanges_of_recording(path):
    doc = json.loads(path.read_text())
    for e in doc.get("exchanges", []):
        r = e.get("response", {})
        body = r.get("body")
        if body is None:
            continue
        text = json.dumps(body) if r.get("body_encoding") == "json" else str(body)
        yield e.get("kind", "x"), r.get("status", 0), text, r.get("headers", {})


def main():
    ref = pathlib.Path(sys.argv[1])
    out = pathlib.Path(__file__).resolve().parent / "corpus"
    seeds = {"keyvault_codec": {}, "arm_codec": {}, "auth": {}, "http_error": {}}

    def add(target, origin, text):
        key = hashlib.sha1(text.encode()).hexdigest()[:10]
        if len(seeds[target]) < MAX_PER_TARGET:
            seeds[target].setdefault(key, (origin, text))

    for path in sorted((ref / "azure-rest-examples").glob("*.json")):
        target = "keyvault_codec" if path.name.startswith("keyvault") else "arm_codec"
        for status, text in bodies_of_example(path):
            add(target if status.startswith("2") else "http_error", path.stem, text)
    for path in sorted((ref / "recorded-traffic").glob("*/*.json")):
        target = "arm_codec" if path.parent.name == "arm" else "keyvault_codec"
        for kind, status, text, headers in exchanges_of_recording(path):
            add(target if 200 <= status < 300 else "http_error", path.stem, text)
            challenge = headers.get("www-authenticate")
            if challenge:
                add("auth", path.stem, challenge)
    for target, entries in seeds.items():
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("ref-*"):
            old.unlink()
        for key, (origin, text) in sorted(entries.items()):
            (folder / f"ref-{origin}-{key}").write_text(text)


if __name__ == "__main__":
    main()
