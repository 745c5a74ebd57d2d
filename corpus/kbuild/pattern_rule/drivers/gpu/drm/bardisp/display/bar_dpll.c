/* bar_dpll: synthetic source for the Kbuild reader tests */
int bar_dpll_probe(void) { return 0; }
