/* bardisp_drv: synthetic source for the Kbuild reader tests */
int bardisp_drv_probe(void) { return 0; }
