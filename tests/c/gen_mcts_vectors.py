#!/usr/bin/env python3
"""Turns tests/vectors/mcts_ab.json into a C header (build/mcts_vectors.h) for
test_mcts_vectors.c, so the C harness replays the same searches without a JSON parser."""
import json
import sys


def c_str(s):
    if s is None:
        return "NULL"
    return json.dumps(s, ensure_ascii=True)


def compact(v):
    # serde_json's form: keys sorted (its map is ordered), no spaces.
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    assert data["format"] == "gaia.vectors.mcts", data["format"]
    out = ["/* GENERATED from tests/vectors/mcts_ab.json by gen_mcts_vectors.py. DO NOT EDIT. */",
           "#include <stdint.h>",
           "#include \"mcts_vector_types.h\""]
    cases = []
    for n, case in enumerate(data["cases"]):
        rows = []
        for step in case["steps"]:
            op = step["op"]
            expect = None
            node = -1
            kind, pid, text = 0, 0, None
            if op == "ask":
                expect = ";".join("%d:%d:%s" % (t, nd, a) for t, nd, a in step["expect"])
            elif op == "tell":
                p = step.get("payload") or {}
                if "id" in p:
                    kind, pid = 1, p["id"]
                elif "text" in p:
                    kind, text = 2, p["text"]
                if "expect" in step:
                    node = step["expect"]
            elif op in ("top_k", "node"):
                expect = compact(step["expect"])
            elif op == "node_count":
                node = step["expect"]
            rows.append("  {%s, %d, %dULL, %r, %d, %dULL, %s, %s, %d, %d}" % (
                c_str(op), step.get("n", step.get("k", step.get("node", 0))) if op != "node_count" else 0,
                step.get("trial", 0), float(step.get("score", 0.0)), kind, pid,
                c_str(text), c_str(expect), node, step.get("code", 0)))
        out.append("static const mcts_step mcase%d_steps[] = {\n%s\n};" % (n, ",\n".join(rows)))
        cases.append("  {%s, %s, mcase%d_steps, %d}" % (
            c_str(case["name"]), c_str(json.dumps(case["config"], separators=(",", ":"))), n, len(rows)))
    out.append("static const mcts_case mcts_cases[] = {\n%s\n};" % ",\n".join(cases))
    out.append("static const size_t mcts_case_count = %d;" % len(cases))
    open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
