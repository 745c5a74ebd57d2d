/* bar_hdmi: synthetic source for the Kbuild reader tests */
int bar_hdmi_probe(void) { return 0; }
