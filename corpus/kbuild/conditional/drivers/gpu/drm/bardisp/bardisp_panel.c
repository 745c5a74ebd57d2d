/* bardisp_panel: synthetic source for the Kbuild reader tests */
int bardisp_panel_probe(void) { return 0; }
