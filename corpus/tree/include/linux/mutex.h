/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: sleeping locks, unmanaged and devres-managed. */
#ifndef _CORPUS_MUTEX_H
#define _CORPUS_MUTEX_H

struct device;

struct mutex {
	long owner;
};

void mutex_init(struct mutex *lock);
void mutex_destroy(struct mutex *lock);
void mutex_lock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
int devm_mutex_init(struct device *dev, struct mutex *lock);

#endif
