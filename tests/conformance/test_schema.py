"""report.json against its JSON Schema (formats/conformance/report.schema.json), with a small
validator for the keywords the schema uses (type, const, enum, required, properties,
additionalProperties, items, anyOf, pattern, $ref): no new dependency."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .helpers import generate, make_kit, report, run

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "formats" / "conformance" /
                     "report.schema.json").read_text())
TYPES = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool, "null": type(None)}


def errors(value, schema, path="$", root=SCHEMA) -> list[str]:
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    out = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(isinstance(value, TYPES[t]) and not (t == "integer" and isinstance(value, bool)) for t in types):
            return [f"{path}: {value!r} is not {types}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in {schema['enum']}")
    if "anyOf" in schema and all(errors(value, s, path, root) for s in schema["anyOf"]):
        out.append(f"{path}: {value!r} matches none of anyOf")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        out.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        for k in schema.get("required", ()):
            if k not in value:
                out.append(f"{path}: {k} missing")
        for k, v in value.items():
            if k in schema.get("properties", {}):
                out += errors(v, schema["properties"][k], f"{path}.{k}", root)
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(v, schema["additionalProperties"], f"{path}.{k}", root)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += errors(v, schema["items"], f"{path}[{i}]", root)
    return out


def test_reports_follow_the_schema(tmp_path):
    kit = make_kit(tmp_path)
    gold = generate(kit, tmp_path / "gold")
    neg = generate(kit, tmp_path / "neg", "--negatives")
    assert run(kit, gold, tmp_path / "b1") == 0
    assert errors(report(tmp_path / "b1"), SCHEMA) == []
    d = tmp_path / "vendor"
    shutil.copytree(tmp_path / "gold", d)
    (d / "05-encounter.txt").unlink()
    assert run(kit, [*sorted(d.iterdir()), *neg], tmp_path / "b2", "--previous", tmp_path / "b1") == 1
    r = report(tmp_path / "b2")
    assert r["suite"] == "all" and errors(r, SCHEMA) == []
    # the validator does catch a report that breaks the schema
    r["cases"][0]["status"] = "maybe"
    del r["files"][0]["sha256"]
    assert len(errors(r, SCHEMA)) == 2
