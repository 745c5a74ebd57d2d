"""The series stage: commits, format-patch files, cover letter, recipients, bisectability."""
