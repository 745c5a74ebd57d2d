/* bardisp_dsi: synthetic source for the Kbuild reader tests */
int bardisp_dsi_probe(void) { return 0; }
