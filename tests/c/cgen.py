"""Shared by the gen_*vectors.py scripts: C literals and the layout of a generated header
(one static array of steps per case, then the array of cases and its count)."""
import json


def c_str(s):
    """A C string literal (a JSON string literal with ASCII escapes is one), or NULL."""
    if s is None:
        return "NULL"
    return json.dumps(s, ensure_ascii=True)


def compact(v):
    """JSON as serde_json writes it: keys sorted (its map is ordered), no spaces."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_header(dst, preamble, names, cases):
    """Writes `preamble` lines, then for each (case, rows) a steps array and the cases array.

    `names` = (step type, case type, steps array prefix, cases array name ending in "s", whose
    count is named without it); `cases` is a list of (name, config, rows) with `rows` the C
    initialisers of the case's steps."""
    step_type, case_type, prefix, array = names
    out = list(preamble)
    entries = []
    for n, (name, config, rows) in enumerate(cases):
        out.append("static const %s %s%d_steps[] = {\n%s\n};" % (step_type, prefix, n, ",\n".join(rows)))
        entries.append("  {%s, %s, %s%d_steps, %d}" % (
            c_str(name), c_str(json.dumps(config, separators=(",", ":"))), prefix, n, len(rows)))
    out.append("static const %s %s[] = {\n%s\n};" % (case_type, array, ",\n".join(entries)))
    out.append("static const size_t %s_count = %d;" % (array[:-1], len(entries)))
    open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")
