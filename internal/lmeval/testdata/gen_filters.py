# Expected outputs of gsm8k's filter pipelines and exact_match, computed with
# Python's re as lm-eval's RegexFilter and HF evaluate's exact_match do.
# Run from internal/lmeval: python3 testdata/gen_filters.py > testdata/filters.json
import json, re, string, sys
def regex(resp, pattern, group_select=0, fallback="[invalid]"):
    m = re.compile(pattern).findall(resp)
    if m:
        m = m[group_select]
        if isinstance(m, tuple):
            m = [x for x in m if x]
            m = m[0] if m else fallback
        return m.strip()
    return fallback
def em(p, r, ignore_case, regexes):
    for s in regexes:
        p, r = re.sub(s, "", p), re.sub(s, "", r)
    if ignore_case:
        p, r = p.lower(), r.lower()
    return float(p == r)
strict = "#### (\\-?[0-9\\.\\,]+)"
flex = "(-?[$0-9.,]{2,})|(-?[0-9]+)"
regexes = [",", "\\$", "(?s).*#### ", "\\.$"]
ref = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18"
resps = ["She makes $18 a day.\n#### 18", "The answer is 1,800 dollars.", "I think 7 then 18.", "no digits here", "#### $18.", " #### 18 "]
out = []
for r in resps:
    s, f = regex(r, strict), regex(r, flex, -1)
    out.append({"response": r, "strict": s, "flexible": f,
                "em_strict": em(s, ref, True, regexes), "em_flexible": em(f, ref, True, regexes)})
json.dump({"reference": ref, "cases": out}, sys.stdout, indent=1, ensure_ascii=False)
print()
