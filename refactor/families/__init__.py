"""The fix families: the plans of the edits that fix each family's findings."""
