// SPDX-License-Identifier: MIT
/*
 * Engine "auto"'s rule, apart from the probes that feed it (src/engine/auto.c),
 * so a test can give it made-up device traits and depths and check the pick.
 */
#ifndef RAWIO_ENGINE_AUTO_RULE_H
#define RAWIO_ENGINE_AUTO_RULE_H

#include <stdbool.h>

#include <rawio/dev.h>
#include <rawio/engine.h>

/* What the rule looks at: the device's traits, fsqual's cached verdicts, the depth. */
struct auto_traits {
	enum rawio_dev_kind kind;
	bool direct; /* O_DIRECT: without it aio and io_uring block or punt in the page cache */
	bool nowait; /* a RWF_NOWAIT read got past the "not supported" check */
	bool cached; /* fsqual's verdicts for this filesystem were found: v holds them */
	struct rawio_fs_verdicts v;
	unsigned qd; /* requests the caller keeps in flight; 0: 32 */
};

/* Fill OUT (engine and why) from T. Pure: no I/O, no clock. */
void auto_rule(const struct auto_traits *t, struct rawio_engine_choice *out);

#endif
