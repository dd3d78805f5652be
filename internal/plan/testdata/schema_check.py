#!/usr/bin/env python3
"""Validate the example plans against docs/tunecheck.schema.json with an
independent JSON Schema implementation (python3-jsonschema 4.x, PyYAML).

Run from internal/plan:  python3 testdata/schema_check.py
Good plans must validate; every bad plan that is valid YAML must not, except
those whose fault only the loader can see (duplicate keys, template syntax).
Checked with Python 3.11.7, jsonschema 4.26.0.
"""
import glob, json, sys
import jsonschema, yaml

schema = json.load(open("../../docs/tunecheck.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
LOADER_ONLY = {"duplicate_key.yaml", "template.yaml", "fewshot.yaml"}
failed = False
for f in sorted(glob.glob("testdata/good/*.yaml")) + ["starter.yaml"]:
    errs = [e.message for e in v.iter_errors(yaml.safe_load(open(f)))]
    if errs:
        failed = True
        print("FAIL", f, errs)
for f in sorted(glob.glob("testdata/bad/*.yaml")):
    try:
        doc = yaml.safe_load(open(f))
    except yaml.YAMLError:
        continue
    n = len(list(v.iter_errors(doc)))
    if n == 0 and f.split("/")[-1] not in LOADER_ONLY:
        failed = True
        print("FAIL", f, "passes the schema")
print("schema check:", "FAIL" if failed else "ok")
sys.exit(1 if failed else 0)
