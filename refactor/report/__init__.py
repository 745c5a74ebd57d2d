"""Reports: text tables, JSON, Markdown, HTML, SARIF, baselines and `explain`."""
