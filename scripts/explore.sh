#!/usr/bin/env bash
# Trains each exploration job (configs/explore/*.toml) for each seed given, then evaluates it on
# the generalization split and prints one line per run: best-head argmax accuracy and behaviour
# per link kind. Usage: scripts/explore.sh [SEED...]   (default seeds: 1 2 3)
# EXPLORE="configs/explore/a.toml configs/explore/b.toml" limits it to those jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
if [ $# -gt 0 ]; then seeds=("$@"); else seeds=(1 2 3); fi
for config in ${EXPLORE:-configs/explore/*.toml}; do
  name=$(basename "$config" .toml)
  for seed in "${seeds[@]}"; do
    out="runs/explore/$name-seed$seed"
    if [ ! -f "$out/model.bpk" ]; then
      rm -rf "$out"
      ./target/release/tinyattn train --config "$config" --seed "$seed" --out "$out" > "$out.log" 2>&1
    fi
    ./target/release/tinyattn eval --run "$out" --json > "$out/eval.json"
    python3 - "$name" "$seed" "$out" <<'PY'
import json, sys
name, seed, out = sys.argv[1:]
report = json.load(open(f"{out}/eval.json"))
secs = [json.loads(l) for l in open(f"{out}/metrics.jsonl") if '"loss"' in l][-1]["elapsed_s"]
cells = []
for k in report["kinds"]:
    b, a = k["best_head"], k.get("ablation") or {}
    cells.append(f'{k["kind"]}: L{b["layer"]}H{b["head"]} {100*b["argmax_accuracy"]:.1f}% '
                 f'behaviour {100*k["behaviour"]["accuracy"]:.1f}% '
                 f'ablated {100*a.get("best_head_zeroed", float("nan")):.1f}%')
print(f"{name:28s} seed {seed}  {secs:5.0f}s  " + "  |  ".join(cells))
PY
  done
done
