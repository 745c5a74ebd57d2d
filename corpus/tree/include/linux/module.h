/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: module entry points, reduced to no-ops. */
#ifndef _CORPUS_MODULE_H
#define _CORPUS_MODULE_H

#define __init
#define __exit
#define module_init(fn)
#define module_exit(fn)
#define MODULE_LICENSE(license)
#define EXPORT_SYMBOL_GPL(sym)

#endif
