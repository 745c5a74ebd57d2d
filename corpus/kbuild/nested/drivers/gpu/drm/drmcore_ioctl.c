/* drmcore_ioctl: synthetic source for the Kbuild reader tests */
int drmcore_ioctl_probe(void) { return 0; }
