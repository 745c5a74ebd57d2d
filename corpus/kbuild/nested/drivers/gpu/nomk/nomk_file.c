/* nomk_file: synthetic source for the Kbuild reader tests */
int nomk_file_probe(void) { return 0; }
