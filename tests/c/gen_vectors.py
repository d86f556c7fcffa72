#!/usr/bin/env python3
"""Turns tests/vectors/bandit.json into a C header (build/vectors.h) for test_vectors.c,
so the C harness replays the very same vectors without a JSON parser."""
import json
import sys


def c_str(s):
    if s is None:
        return "NULL"
    return json.dumps(s, ensure_ascii=True)  # a JSON string literal is a valid C literal here


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    assert data["format"] == "gaia.vectors.bandit", data["format"]
    out = ["/* GENERATED from tests/vectors/bandit.json by gen_vectors.py. DO NOT EDIT. */",
           "#include \"vector_types.h\""]
    cases = []
    for n, case in enumerate(data["cases"]):
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
        out.append("static const vector_step case%d_steps[] = {\n%s\n};" % (n, ",\n".join(rows)))
        cases.append("  {%s, %s, case%d_steps, %d}" % (
            c_str(case["name"]), c_str(json.dumps(case["config"], separators=(",", ":"))), n, len(rows)))
    out.append("static const vector_case vector_cases[] = {\n%s\n};" % ",\n".join(cases))
    out.append("static const size_t vector_case_count = %d;" % len(cases))
    open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
