#!/usr/bin/env python3
"""Turns tests/vectors/tune_study.json into a C header (build/study_vectors.h) for
test_study_vectors.c: the seeded studies every front end must reproduce exactly."""
import json
import sys


def c_str(s):
    if s is None:
        return "NULL"
    return json.dumps(s, ensure_ascii=True)


def compact(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


STATES = {"complete": 1, "failed": 2, "pruned": 3}


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    assert data["format"] == "gaia.vectors.study", data["format"]
    out = ["/* GENERATED from tests/vectors/tune_study.json by gen_study_vectors.py. DO NOT EDIT. */",
           "#include <stdint.h>",
           "#include \"study_vector_types.h\""]
    cases = []
    for n, case in enumerate(data["cases"]):
        rows = []
        for step in case["steps"]:
            op = step["op"]
            arg = None
            if op == "enqueue":
                arg = compact(step["params"])
            elif op == "tell" and "constraints" in step:
                arg = compact(step["constraints"])
            rows.append("  {%s, %dULL, %r, %d, %s, %s, %d}" % (
                c_str(op), step.get("id", step.get("expect_id", 0)), float(step.get("value", 0.0)),
                STATES.get(step.get("state"), 0), c_str(arg), c_str(step.get("expect_json")),
                step.get("code", 0)))
        out.append("static const study_step scase%d_steps[] = {\n%s\n};" % (n, ",\n".join(rows)))
        cases.append("  {%s, %s, scase%d_steps, %d}" % (
            c_str(case["name"]), c_str(json.dumps(case["config"], separators=(",", ":"))), n, len(rows)))
    out.append("static const study_case study_cases[] = {\n%s\n};" % ",\n".join(cases))
    out.append("static const size_t study_case_count = %d;" % len(cases))
    open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
