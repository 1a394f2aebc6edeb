#!/usr/bin/env python3
"""Sanity-check sample-data/ (written by tools/gen_sample_data.py).

Checks: every line of events/*.jsonl parses as a JSON object with type/event_id/ts,
event_ids are unique across the set (including broken/ good lines), feedback and
error_log request_ids exist, turns are monotonic within a session, files are sorted
by ts, and every PNG decodes (signature, chunk CRCs, zlib size = h*(1+w*channels)).
Exits non-zero on the first class of failure found. Standard library only.
"""

import glob
import json
import os
import struct
import sys
import zlib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-data"))
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def check_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "bad signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc, "bad CRC in %r" % tag
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
        if tag == b"IEND":
            break
    w, h, depth, ctype = ihdr[:4]
    assert depth == 8, "depth %d" % depth
    raw = zlib.decompress(idat)
    assert len(raw) == h * (1 + w * CHANNELS[ctype]), "bad IDAT size"
    return w, h


def main():
    errors = []
    ids = {}
    requests = set()
    refs = []
    sessions = {}
    total = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "events", "*.jsonl"))):
        last_ts = ""
        for n, line in enumerate(open(path, "rb"), 1):
            where = "%s:%d" % (os.path.basename(path), n)
            try:
                ev = json.loads(line.decode("utf-8"))
            except Exception as e:  # noqa: BLE001
                errors.append("%s: %s" % (where, e))
                continue
            total += 1
            if not isinstance(ev, dict):
                errors.append("%s: not an object" % where)
                continue
            for k in ("type", "event_id", "ts"):
                if not isinstance(ev.get(k), str):
                    errors.append("%s: missing/invalid %s" % (where, k))
            if ev["event_id"] in ids:
                errors.append("%s: duplicate event_id %s (also %s)" % (where, ev["event_id"], ids[ev["event_id"]]))
            ids[ev["event_id"]] = where
            if ev["ts"] < last_ts:
                errors.append("%s: not sorted by ts" % where)
            last_ts = ev["ts"]
            if ev["type"] == "turn":
                if ev["role"] == "assistant":
                    requests.add(ev["request_id"])
                    for k in ("response_ms", "model", "prompt_version"):
                        if k not in ev:
                            errors.append("%s: assistant turn without %s" % (where, k))
                sessions.setdefault(ev["session_id"], []).append((ev["turn_index"], ev["ts"], ev["role"]))
            if ev["type"] == "recognition":
                requests.add(ev["request_id"])
            if "image" in ev:
                refs.append((where, ev["image"]["ref"]))
    for path in sorted(glob.glob(os.path.join(ROOT, "events", "*.jsonl"))):
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            ev = json.loads(line)
            if ev["type"] in ("feedback", "error_log") and ev["request_id"] not in requests:
                errors.append("%s:%d: unknown request_id %s" % (os.path.basename(path), n, ev["request_id"]))
    for sid, turns in sessions.items():
        turns.sort()
        if [t[0] for t in turns] != list(range(len(turns))):
            errors.append("session %s: turn_index not 0..n-1" % sid)
        if [t[1] for t in turns] != sorted(t[1] for t in turns):
            errors.append("session %s: timestamps not monotonic" % sid)
    # good lines in broken/ must not reuse ids
    for line in open(os.path.join(ROOT, "broken", "bad-lines.jsonl"), "rb"):
        try:
            ev = json.loads(line.decode("utf-8"))
        except Exception:  # noqa: BLE001
            continue
        if isinstance(ev, dict) and ev.get("event_id") in ids:
            errors.append("broken/: event_id %s also used in events/" % ev["event_id"])
    missing = urls = 0
    for where, ref in refs:
        if ref.startswith("http"):
            urls += 1
        elif not os.path.exists(os.path.normpath(os.path.join(ROOT, "events", ref))):
            missing += 1
    pngs = sorted(glob.glob(os.path.join(ROOT, "images", "*.png")))
    for p in pngs:
        try:
            check_png(p)
        except Exception as e:  # noqa: BLE001
            errors.append("%s: %s" % (os.path.basename(p), e))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    if size >= 3 * 1024 * 1024:
        errors.append("sample-data is %d bytes (limit 3 MB)" % size)
    print("events %d, unique ids %d, sessions %d, images %d, refs %d (missing %d, url %d), size %d bytes"
          % (total, len(ids), len(sessions), len(pngs), len(refs), missing, urls, size))
    for e in errors[:50]:
        print("ERROR", e)
    print("OK" if not errors else "%d errors" % len(errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
