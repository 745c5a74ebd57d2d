/* panel-barpanel: synthetic source for the Kbuild reader tests */
int panel_barpanel_probe(void) { return 0; }
