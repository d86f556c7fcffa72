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
    contexts = []  # static arrays of the ask steps' contexts
    for n, case in enumerate(data["cases"]):
        rows = []
        for k, step in enumerate(case["steps"]):
            op = step["op"]
            expect = step.get("expect")
            if op == "stats":
                expect = step["expect_json"]
            elif op == "arms":
                expect = "\n".join(expect)
            context = step.get("context") or []
            context_ref = "NULL"
            if context:
                context_ref = "case%d_context%d" % (n, k)
                contexts.append("static const double %s[] = {%s};" % (
                    context_ref, ", ".join(repr(float(x)) for x in context)))
            rows.append("  {%s, %s, %s, %s, %d, %s, %d, %dull}" % (
                c_str(op), c_str(step.get("arm")), repr(float(step.get("reward", 0.0))),
                c_str(expect), step.get("code", 0), context_ref, len(context),
                step.get("ticket", 0)))
        cases.append((case["name"], case["config"], rows))
    write_header(dst, ["/* GENERATED from tests/vectors/bandit.json by gen_vectors.py. DO NOT EDIT. */",
                       "#include \"vector_types.h\""] + contexts,
                 ("vector_step", "vector_case", "case", "vector_cases"), cases)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
