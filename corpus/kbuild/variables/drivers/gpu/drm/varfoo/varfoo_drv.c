/* varfoo_drv: synthetic source for the Kbuild reader tests */
int varfoo_drv_probe(void) { return 0; }
