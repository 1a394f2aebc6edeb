#!/usr/bin/env python3
"""Scores `flywheel analyze` on the demo data against sample-data/labels.json (the generator's ground truth).

Usage: python3 tools/eval_sample_signals.py DB
A request counts as corrected when a user turn labelled implicit_correction refers to it, or a turn labelled
doubt refers to it and the answer was wrong; as repeated when a repeat_question turn refers to it.
"""
import json
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
db = sys.argv[1]
labels = json.loads((root / "sample-data/labels.json").read_text())
answers = labels["answers"]
gold = {"correction": set(), "repeated_question": set()}
for tid, lab in labels["user_turns"].items():
    ref = lab.get("refers_to")
    if lab["label"] == "implicit_correction" and ref:
        gold["correction"].add(ref)
    elif lab["label"] == "doubt" and ref and answers.get(ref) not in ("correct", "chitchat"):
        gold["correction"].add(ref)
    elif lab["label"] == "repeat_question" and ref:
        gold["repeated_question"].add(ref)
flywheel = [str(root / ".build/debug/flywheel")]
out = subprocess.run(flywheel + ["signals", "--format", "jsonl", "--db", db], capture_output=True, text=True, check=True).stdout
pred = {"correction": set(), "repeated_question": set()}
for line in out.splitlines():
    s = json.loads(line)
    if s["signal"] in pred:
        pred[s["signal"]].add(s["request_id"])
universe = set(answers)
tot = [0, 0, 0]
for kind in ("correction", "repeated_question"):
    p, g = pred[kind] & universe, gold[kind]
    tp, fp, fn = len(p & g), len(p - g), len(g - p)
    tot = [tot[0] + tp, tot[1] + fp, tot[2] + fn]
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    print(f"{kind:18} P {prec:.3f}  R {rec:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    if "-v" in sys.argv:
        for r in sorted(p - g): print("   fp", r)
        for r in sorted(g - p): print("   fn", r)
tp, fp, fn = tot
print(f"{'combined':18} P {tp/(tp+fp):.3f}  R {tp/(tp+fn):.3f}  (tp {tp}, fp {fp}, fn {fn})")
