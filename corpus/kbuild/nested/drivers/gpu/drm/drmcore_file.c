/* drmcore_file: synthetic source for the Kbuild reader tests */
int drmcore_file_probe(void) { return 0; }
