#!/usr/bin/env python3
"""Turns tests/vectors/tune_study.json into a C header (build/study_vectors.h) for
test_study_vectors.c: the seeded studies every front end must reproduce exactly."""
import json
import sys


from cgen import c_str, compact, write_header

STATES = {"complete": 1, "failed": 2, "pruned": 3}


def c_double(v):
    """A C double: NaN (a JSON string "NaN" in the vectors) as the NAN macro."""
    v = float(v)
    return "NAN" if v != v else repr(v)


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    assert data["format"] == "gaia.vectors.study", data["format"]
    cases = []
    for case in data["cases"]:
        rows = []
        for step in case["steps"]:
            op = step["op"]
            arg = None
            if op == "enqueue":
                arg = compact(step["params"])
            elif op == "tell" and "constraints" in step:
                arg = compact(step["constraints"])
            values = step.get("values")
            assert values is None or len(values) <= 4, values
            rows.append("  {%s, %dULL, %s, %d, %s, %s, %d, %dULL, %d, {%s}}" % (
                c_str(op), step.get("id", step.get("expect_id", 0)), c_double(step.get("value", 0.0)),
                STATES.get(step.get("state"), 0), c_str(arg), c_str(step.get("expect_json")),
                step.get("code", 0), step.get("step", 0), -1 if values is None else len(values),
                ", ".join(c_double(v) for v in values or [0.0])))
        cases.append((case["name"], case["config"], rows))
    write_header(dst, ["/* GENERATED from tests/vectors/tune_study.json by gen_study_vectors.py. DO NOT EDIT. */",
                       "#include <math.h>", "#include <stdint.h>", "#include \"study_vector_types.h\""],
                 ("study_step", "study_case", "scase", "study_cases"), cases)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
