/* tables: synthetic source for the Kbuild reader tests */
int tables_probe(void) { return 0; }
