# Renders testdata/templates.json's cases with jinja2 configured as
# lm-evaluation-harness configures it (StrictUndefined, keep_trailing_newline,
# regex_replace), writing the expected output or the error.
# Run: python3 testdata/gen_templates.py < testdata/templates_in.json > testdata/templates.json
import json, re, sys
from jinja2 import BaseLoader, Environment, StrictUndefined
env = Environment(loader=BaseLoader, undefined=StrictUndefined, keep_trailing_newline=True)
env.filters["regex_replace"] = lambda s, p, r, count=0: re.sub(p, r, s, count=count)
cases = json.load(sys.stdin)
for c in cases:
    try:
        c["want"] = env.from_string(c["template"]).render(**c["doc"])
    except Exception as e:
        c["error"] = type(e).__name__
json.dump(cases, sys.stdout, indent=1, ensure_ascii=False)
print()
