#!/usr/bin/env python3
"""Turns schemas/rotor.schema.json into the README's configuration reference.

    python3 scripts/schema-to-markdown.py                  # print the Markdown
    python3 scripts/schema-to-markdown.py --write README.md
    python3 scripts/schema-to-markdown.py --check README.md

--write replaces what lies between the BEGIN/END CONFIG REFERENCE markers of
the file; --check exits 1 (printing a diff) when that part differs from what
the schema gives. Python 3 standard library only.
"""

import argparse
import difflib
import json
import os
import sys

BEGIN = "<!-- BEGIN CONFIG REFERENCE -->"
END = "<!-- END CONFIG REFERENCE -->"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA = os.path.join(ROOT, "schemas", "rotor.schema.json")
REGENERATE = "python3 scripts/schema-to-markdown.py --write README.md"


class Schema:
    def __init__(self, document):
        self.document = document
        self.definitions = document.get("definitions", {})

    def resolve(self, node):
        """The node with its "$ref" (#/definitions/NAME) merged in; the
        node's own keywords win, as its description refines the shared one."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 16:
            ref = node["$ref"]
            prefix = "#/definitions/"
            if not ref.startswith(prefix):
                raise SystemExit(f"unsupported $ref {ref!r}")
            target = self.definitions[ref[len(prefix):]]
            merged = dict(target)
            merged.update({k: v for k, v in node.items() if k != "$ref"})
            if "$ref" not in target:
                merged.pop("$ref", None)
            node = merged
            seen += 1
        return node


def types_of(node):
    t = node.get("type", [])
    return t if isinstance(t, list) else [t]


def is_table(node):
    return types_of(node) == ["object"]


def is_table_with_keys(node):
    return is_table(node) and "properties" in node


def is_array_of_tables(schema, node):
    if types_of(node) != ["array"]:
        return False
    items = node.get("items")
    return isinstance(items, dict) and is_table_with_keys(schema.resolve(items))


def is_source(node):
    """A value source: a table of exactly one of env/file/command(/generate)."""
    props = node.get("properties", {})
    return "env" in props and node.get("maxProperties") == 1


def toml_value(value):
    """A JSON value as TOML, on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{bare_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise SystemExit(f"cannot write {value!r} as TOML")


def bare_key(key):
    ok = key and all(c.isalnum() or c in "_-" for c in key) and key.isascii()
    return key if ok else json.dumps(key)


def prose(text):
    """Schema prose as Markdown: one line, `*` outside code spans escaped."""
    parts = " ".join(str(text).split()).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("*", "\\*")
    return "`".join(parts)


def cell(text):
    """Text fit for one Markdown table cell."""
    return text.replace("|", "\\|")


def code(text):
    text = str(text)
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def range_text(node):
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        return f"{low}–{high}"
    if low is not None:
        return f"≥ {low}"
    if high is not None:
        return f"≤ {high}"
    return ""


def type_text(schema, node):
    if is_source(node):
        kinds = [k for k in ("env", "file", "command", "generate") if k in node.get("properties", {})]
        text = "[source](#value-sources): " + ", ".join(kinds)
        if "string" not in types_of(node):
            return text
        if node.get("writeOnly"):
            return text + " (a literal string only with `kind = \"local\"`)"
        return "string, or a " + text
    names = []
    for t in types_of(node):
        if t == "object":
            names.append("table")
        elif t == "array":
            items = node.get("items")
            if isinstance(items, dict):
                names.append("array of " + type_text(schema, schema.resolve(items)))
            elif isinstance(items, list) and items:
                names.append("array of " + type_text(schema, schema.resolve(items[0])))
            else:
                names.append("array")
        else:
            names.append(t)
    text = " or ".join(names) if names else "any"
    if "enum" in node:
        text += ": " + ", ".join(code(json.dumps(v)) for v in node["enum"])
    limits = range_text(node)
    if limits:
        text += f" ({limits})"
    return text


def default_text(node, required):
    if "default" in node:
        return code(toml_value(node["default"]))
    return "*required*" if required else ""


def example_text(key, node):
    examples = node.get("examples")
    if not examples:
        return ""
    return "<br>".join(code(f"{bare_key(key)} = {toml_value(e)}") for e in examples[:2])


def table_rows(schema, node, prefix, sections):
    """Markdown rows for the keys of a table; nested tables with keys of their
    own are appended to `sections` as (header, node)."""
    rows = []
    required = set(node.get("required", []))
    for key, child in node.get("properties", {}).items():
        child = schema.resolve(child)
        if is_table_with_keys(child) and not is_source(child):
            sections.append((f"[{prefix}.{key}]", child))
            rows.append(
                f"| {code(key)} | table: see [{code('[' + prefix + '.' + key + ']')}](#{anchor(prefix + '.' + key)}) "
                f"| | {cell(prose(child.get('description', '')))} | |"
            )
            continue
        rows.append(
            "| "
            + " | ".join(
                [
                    code(key),
                    cell(type_text(schema, child)),
                    default_text(child, key in required),
                    cell(prose(child.get("description", ""))),
                    example_text(key, child),
                ]
            )
            + " |"
        )
    return rows


def anchor(name):
    """The GitHub anchor of a heading made by section_heading()."""
    return "".join(c for c in name.lower() if c.isalnum() or c in "-_")


def section(schema, header, node, required):
    lines = [f"### `{header}`", ""]
    if required:
        lines += ["Required.", ""]
    description = node.get("description")
    if description:
        lines += [prose(description), ""]
    nested = []
    rows = table_rows(schema, node, header.strip("[]"), nested)
    if rows:
        lines += [
            "| Key | Type | Default | Description | Example |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    for sub_header, sub_node in nested:
        lines += section(schema, sub_header, sub_node, False)
    return lines


def value_sources(schema):
    """The forms a secret can take, from the password definition (which has
    every kind)."""
    password = schema.resolve({"$ref": "#/definitions/password"})
    secret = schema.resolve({"$ref": "#/definitions/secret"})
    lines = [
        "### Value sources",
        "",
        prose(secret.get("description", "")),
        "",
        "| Form | Description | Example |",
        "|---|---|---|",
    ]
    for kind, node in password.get("properties", {}).items():
        node = schema.resolve(node)
        placeholder = {
            "env": '"NAME"',
            "file": '"PATH"',
            "command": '["PROGRAM", "ARG", ...]',
            "generate": "N",
        }.get(kind, "...")
        example = node.get("examples", [None])[0]
        lines.append(
            "| "
            + " | ".join(
                [
                    code(f"{{ {kind} = {placeholder} }}"),
                    cell(prose(node.get("description", ""))),
                    code(f"password = {toml_value({kind: example})}") if example is not None else "",
                ]
            )
            + " |"
        )
    lines.append("")
    return lines


def generate(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        document = json.load(f)
    schema = Schema(document)
    required = set(document.get("required", []))
    relative = os.path.relpath(schema_path, ROOT)
    lines = [
        f"<!-- Generated from {relative} by scripts/schema-to-markdown.py: edit the schema,",
        f"     then run `{REGENERATE}`. -->",
        "",
        prose(document.get("description", "")),
        "",
    ]
    for key, node in document.get("properties", {}).items():
        node = schema.resolve(node)
        if is_array_of_tables(schema, node):
            items = schema.resolve(node["items"])
            merged = dict(items)
            merged["description"] = node.get("description", items.get("description", ""))
            lines += section(schema, f"[[{key}]]", merged, key in required)
        elif is_table(node):
            lines += section(schema, f"[{key}]", node, key in required)
        else:
            raise SystemExit(f"top-level key {key!r} is not a table")
    lines += value_sources(schema)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def split_markers(text, path):
    begin = text.find(BEGIN)
    end = text.find(END)
    if begin < 0 or end < 0 or end < begin:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} section")
    start = begin + len(BEGIN)
    return text[:start], text[start:end], text[end:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="the JSON Schema (default: %(default)s)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="replace FILE's generated section")
    group.add_argument("--check", metavar="FILE", help="fail when FILE's generated section is out of date")
    args = parser.parse_args()

    generated = "\n" + generate(args.schema)
    target = args.write or args.check
    if target is None:
        sys.stdout.write(generated.lstrip("\n"))
        return 0
    with open(target, encoding="utf-8") as f:
        text = f.read()
    head, current, tail = split_markers(text, target)
    if args.write:
        if current != generated:
            with open(target, "w", encoding="utf-8") as f:
                f.write(head + generated + tail)
        return 0
    if current == generated:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        generated.splitlines(keepends=True),
        f"{target} (configuration reference)",
        f"generated from {os.path.relpath(args.schema, ROOT)}",
    )
    sys.stdout.writelines(diff)
    print(
        f"\n{target}: the configuration reference differs from the schema.\n"
        f"Regenerate it from the repository's root with:\n    {REGENERATE}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
