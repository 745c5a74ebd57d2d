/* varfoo_irq: synthetic source for the Kbuild reader tests */
int varfoo_irq_probe(void) { return 0; }
