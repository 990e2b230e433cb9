#!/usr/bin/env python3
"""Keeps only the last package-restore display of each cell in an executed notebook.

While `#r "nuget: …"` restores, .NET Interactive updates one "Installing Packages" display,
adding a dot each time, and ends it as "Installed Packages". A notebook front end (VS Code)
redraws that display in place; dotnet-repl 0.3.259 instead writes the display and every update
of it as an output of its own, so a slow restore left a column of "Installing Packages…" copies
in the executed notebook. What remains here is what VS Code shows once the cell has run."""
import json
import sys

RESTORE_MARKERS = ("<strong>Installing Packages</strong>", "<strong>Installed Packages</strong>")


def is_restore_display(output):
    html = "".join(output.get("data", {}).get("text/html", []))
    return output.get("output_type") == "display_data" and any(m in html for m in RESTORE_MARKERS)


path = sys.argv[1]
notebook = json.load(open(path, encoding="utf-8"))
for cell in notebook["cells"]:
    outputs = cell.get("outputs", [])
    restores = [i for i, output in enumerate(outputs) if is_restore_display(output)]
    cell["outputs"] = [output for i, output in enumerate(outputs) if i not in restores[:-1]]
with open(path, "w", encoding="utf-8") as file:
    json.dump(notebook, file, indent=1, ensure_ascii=False)
