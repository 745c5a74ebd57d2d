"""The generate stage: the patches that fix the findings, made by the rules' patch mode."""
