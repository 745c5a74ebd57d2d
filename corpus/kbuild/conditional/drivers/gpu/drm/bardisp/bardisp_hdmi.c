/* bardisp_hdmi: synthetic source for the Kbuild reader tests */
int bardisp_hdmi_probe(void) { return 0; }
