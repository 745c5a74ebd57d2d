/* bardisp_dpi: synthetic source for the Kbuild reader tests */
int bardisp_dpi_probe(void) { return 0; }
