#!/usr/bin/env python3
"""Turns tests/vectors/bandit.json into a C header (build/vectors.h) for test_vectors.c,
so the C harness replays the very same vectors without a JSON parser."""
import json
import sys


from cgen import c_str, write_header


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    assert data["format"] == "gaia.vectors.bandit", data["format"]
    cases = []
    for case in data["cases"]:
        rows = []
        for step in case["steps"]:
            op = step["op"]
            expect = step.get("expect")
            if op == "stats":
                expect = step["expect_json"]
            elif op == "arms":
                expect = "\n".join(expect)
            rows.append("  {%s, %s, %s, %s, %d}" % (
                c_str(op), c_str(step.get("arm")), repr(float(step.get("reward", 0.0))),
                c_str(expect), step.get("code", 0)))
        cases.append((case["name"], case["config"], rows))
    write_header(dst, ["/* GENERATED from tests/vectors/bandit.json by gen_vectors.py. DO NOT EDIT. */",
                       "#include \"vector_types.h\""],
                 ("vector_step", "vector_case", "case", "vector_cases"), cases)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
