#!/usr/bin/env python3
"""Validate Tests/labelled/signal-conversations.jsonl and print its counts.

Checks: every line parses as a JSON object with id/note/turns/labels; ids are unique;
turns alternate user/assistant starting with user; one label per assistant turn with
`answer` = 0, 1, 2, ... in order; correct_answer is null when correction is false and,
when set, occurs verbatim in a later turn; a true flag has a later user turn to come from.
Exits non-zero on any failure. Standard library only.
"""

import collections
import json
import os
import sys

PATH = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                     "Tests", "labelled", "signal-conversations.jsonl"))

# Cue words that make a negative "hard": the next user message looks like it might be a
# correction (negation, doubt, "wrong", "actually", ...) but is not. Only used for counting.
CUES = ["不", "错", "錯", "对", "對", "没", "確定", "确定", "其实", "我知道", "再问",
        "no", "not", "n't", "wrong", "sure", "know", "actually", "sorry", "ignore", "?", "?"]


def fail(lineno, msg):
    print("line %d: %s" % (lineno, msg), file=sys.stderr)
    sys.exit(1)


def main(path):
    ids = set()
    stats = collections.Counter()
    langs = collections.Counter()
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            fail(n, "not JSON: %s" % e)
        if not isinstance(obj, dict):
            fail(n, "not an object")
        for key in ("id", "note", "turns", "labels"):
            if key not in obj:
                fail(n, "missing %r" % key)
        if obj["id"] in ids:
            fail(n, "duplicate id %s" % obj["id"])
        ids.add(obj["id"])
        turns, labels = obj["turns"], obj["labels"]
        if not turns:
            fail(n, "no turns")
        for i, t in enumerate(turns):
            want = "user" if i % 2 == 0 else "assistant"
            if t.get("role") != want:
                fail(n, "turn %d role %r, expected %r" % (i, t.get("role"), want))
            if not isinstance(t.get("content"), str) or not t["content"].strip():
                fail(n, "turn %d has empty content" % i)
        assistant_pos = [i for i, t in enumerate(turns) if t["role"] == "assistant"]
        if len(labels) != len(assistant_pos):
            fail(n, "%d labels for %d assistant turns" % (len(labels), len(assistant_pos)))
        langs[obj.get("lang", "?")] += 1
        stats["conversations"] += 1
        for k, (lab, pos) in enumerate(zip(labels, assistant_pos)):
            if lab.get("answer") != k:
                fail(n, "label %d has answer %r" % (k, lab.get("answer")))
            corr, ans, rep = lab.get("correction"), lab.get("correct_answer", "MISSING"), lab.get("repeated_question")
            if not isinstance(corr, bool) or not isinstance(rep, bool):
                fail(n, "answer %d: correction/repeated_question must be booleans" % k)
            if ans == "MISSING":
                fail(n, "answer %d: correct_answer missing" % k)
            if not corr and ans is not None:
                fail(n, "answer %d: correct_answer set but correction is false" % k)
            if ans is not None:
                if not isinstance(ans, str) or not ans.strip():
                    fail(n, "answer %d: correct_answer must be a non-empty string or null" % k)
                if not any(ans in t["content"] for t in turns[pos + 1:]):
                    fail(n, "answer %d: correct_answer %r not found in a later turn" % (k, ans))
            if (corr or rep) and pos + 1 >= len(turns):
                fail(n, "answer %d: flagged but no user turn follows" % k)
            stats["answers"] += 1
            stats["correction"] += corr
            stats["with_correct_answer"] += ans is not None
            stats["repeated_question"] += rep
            stats["both"] += corr and rep
            if not corr and not rep and pos + 1 < len(turns):
                nxt = turns[pos + 1]["content"].lower()
                if any(c in nxt for c in CUES):
                    stats["cue_negatives"] += 1
            if not corr:
                stats["correction_negative"] += 1
            if not rep:
                stats["repeated_negative"] += 1
            stats["answers_" + obj.get("lang", "?")] += 1
    total = stats["conversations"]
    print("%s: OK" % path)
    print("conversations: %d (%s)" % (total, ", ".join(
        "%s %d = %.0f%%" % (k, v, 100.0 * v / total) for k, v in langs.most_common())))
    print("assistant answers: %d (%s)" % (stats["answers"], ", ".join(
        "%s %d" % (k, stats["answers_" + k]) for k in langs)))
    print("correction=true: %d (%.0f%%), with correct_answer: %d, without: %d" % (
        stats["correction"], 100.0 * stats["correction"] / stats["answers"],
        stats["with_correct_answer"], stats["correction"] - stats["with_correct_answer"]))
    print("repeated_question=true: %d; both flags: %d" % (stats["repeated_question"], stats["both"]))
    print("negatives (neither flag) whose next user turn has a negation/doubt cue: %d" % stats["cue_negatives"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else PATH)
