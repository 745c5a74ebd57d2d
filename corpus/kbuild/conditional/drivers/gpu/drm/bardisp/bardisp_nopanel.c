/* bardisp_nopanel: synthetic source for the Kbuild reader tests */
int bardisp_nopanel_probe(void) { return 0; }
