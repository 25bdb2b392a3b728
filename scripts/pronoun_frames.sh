#!/usr/bin/env bash
# Splits the validation split's pronoun links by the frame that made them (Winograd, possessive,
# object pronoun; data/README.md) and evaluates a run on each part, so one can see which frames
# a head resolves by pointing at the antecedent. Usage: scripts/pronoun_frames.sh RUN [FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: scripts/pronoun_frames.sh RUN [FILE.jsonl]}
file=${2:-data/valid.jsonl}
out="$run/frames"
mkdir -p "$out"
python3 - "$file" "$out" <<'PY'
import json, sys
src, out = sys.argv[1:]
parts = {"winograd": [], "possessive": [], "object": []}
for line in open(src):
    s = json.loads(line)
    links = [l for l in s["links"] if l["kind"] == "pronoun-antecedent"]
    if not links:
        continue
    w = s["words"]
    if "because" in w and ("seemed" in w or "looked" in w):
        part = "winograd"
    elif any(w[l["from"]] in ("his", "her", "its", "their") and l["from"] + 1 < len(w)
             and w[l["from"] + 1] not in (".", ",") for l in links):
        # "finds her key": a possessive is followed by its noun; an object pronoun ends a clause.
        part = "possessive"
    else:
        part = "object"
    parts[part].append(dict(s, links=links))
for part, sentences in parts.items():
    with open(f"{out}/{part}.jsonl", "w") as f:
        f.writelines(json.dumps(s) + "\n" for s in sentences)
PY
cargo build --release --quiet
for part in winograd possessive object; do
  echo "== $part pronouns ($(wc -l < "$out/$part.jsonl") sentences)"
  ./target/release/tinyattn eval --run "$run" --data "$out/$part.jsonl" --no-ablation \
    | grep -E "^  (head|argmax|mass|best head|behaviour)"
done
