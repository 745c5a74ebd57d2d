/* bardisp_debugfs: synthetic source for the Kbuild reader tests */
int bardisp_debugfs_probe(void) { return 0; }
