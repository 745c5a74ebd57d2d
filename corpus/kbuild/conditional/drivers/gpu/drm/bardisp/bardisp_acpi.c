/* bardisp_acpi: synthetic source for the Kbuild reader tests */
int bardisp_acpi_probe(void) { return 0; }
