#!/usr/bin/env python3
"""Checks an executed notebook: no cell raised, the outputs each notebook exists for are there
(metrics table, charts, gallery), and the package-restore display was kept once, not once per
update."""
import json
import sys

EXPECTED = {
    "01-quickstart.ipynb": ["id='metrics'", "id='gallery'", "same prediction: True"],
    "02-compound-scaling.ipynb": ["id='scaling-chart'", "<polyline", "66347960"],
    "03-embeddings.ipynb": ["id='embedding-chart'", "<circle", "Similarity"],
}

path = sys.argv[1]
name = path.rsplit("/", 1)[-1]
notebook = json.load(open(path))
problems, text = [], []
for index, cell in enumerate(notebook["cells"]):
    if cell["cell_type"] != "code":
        continue
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" or "Error" in str(output.get("ename", "")):
            problems.append(f"cell {index} raised: {output.get('evalue', output)}")
        text.append(json.dumps(output))
joined = "\n".join(text)
installing = joined.count("Installing Packages")
if installing > 1:
    problems.append(f"'Installing Packages' appears {installing} times: every update of the package-restore "
                    "display was kept (run-all.sh keeps the last with keep-last-restore-display.py)")
for marker in EXPECTED.get(name, []):
    if marker not in joined:
        problems.append(f"expected output not found: {marker}")
if problems:
    print(f"{name}: " + "; ".join(problems))
    sys.exit(1)
print(f"{name}: ok ({len(notebook['cells'])} cells)")
