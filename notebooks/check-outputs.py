#!/usr/bin/env python3
"""Checks an executed notebook: no cell raised, the outputs each notebook exists for are there
(tables, charts, gallery), no table fell back to .NET Interactive's list rendering (one folded
`Row { … }` line per row), and the package-restore display was kept once, not once per update."""
import json
import sys

EXPECTED = {
    "01-quickstart.ipynb": ["id='classes'", "id='metrics'", "<th>Support</th>", "id='gallery'", "same prediction: True"],
    "02-compound-scaling.ipynb": ["id='variants'", "<td style='text-align:right'>66,347,960</td>", "id='scaling-chart'", "<polyline"],
    "03-embeddings.ipynb": ["id='embedding-chart'", "<circle", "id='neighbours'", "<th>Similarity</th>"],
    "04-choose-a-variant.ipynb": ["id='sweep-table'", "id='sweep-chart'", "from the cache"],
    "05-fine-tune.ipynb": ["id='history'", "id='curves'", "<polyline", "id='heldout'"],
}
# .NET Interactive renders a returned list of objects as an index/value table whose rows are
# folded one-line summaries such as `Row { Variant = b0, … }`; the notebooks show HtmlTable instead.
FOLDED_ROWS = ("Row {", "<th><i>index</i></th><th>value</th>")

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
        rendered = json.dumps(output)
        if any(marker in rendered for marker in FOLDED_ROWS):
            problems.append(f"cell {index} shows a list as folded rows, not a table (return HtmlTable(rows, id))")
        text.append(rendered)
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
