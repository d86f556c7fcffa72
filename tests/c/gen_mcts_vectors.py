#!/usr/bin/env python3
"""Turns tests/vectors/mcts_ab.json into a C header (build/mcts_vectors.h) for
test_mcts_vectors.c, so the C harness replays the same searches without a JSON parser."""
import json
import sys


from cgen import c_str, compact, write_header


def main(src, dst):
    data = json.load(open(src, encoding="utf-8"))
    assert data["format"] == "gaia.vectors.mcts", data["format"]
    cases = []
    for case in data["cases"]:
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
        cases.append((case["name"], case["config"], rows))
    write_header(dst, ["/* GENERATED from tests/vectors/mcts_ab.json by gen_mcts_vectors.py. DO NOT EDIT. */",
                       "#include <stdint.h>", "#include \"mcts_vector_types.h\""],
                 ("mcts_step", "mcts_case", "mcase", "mcts_cases"), cases)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
