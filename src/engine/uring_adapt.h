// SPDX-License-Identifier: MIT
/*
 * The uring engine's IOSQE_ASYNC measurement on a device without NOWAIT
 * (src/engine/uring.c says why), apart so a test can drive it with made-up
 * clocks and completion counts.
 */
#ifndef RAWIO_ENGINE_URING_ADAPT_H
#define RAWIO_ENGINE_URING_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

#define URING_ADAPT_FIRST_NS 200000000ull  /* first probe: soon, so a short job decides early */
#define URING_ADAPT_RUN_NS   1000000000ull /* then the kept mode runs this long (or longer) ... */
#define URING_ADAPT_PROBE_NS 100000000ull  /* ... and the other is tried this long */
/*
 * Each probe that loses doubles the kept mode's window, up to this; a probe
 * that wins, or an idle spell, starts again at URING_ADAPT_RUN_NS. A probe
 * runs the mode that measured slower: on zram at QD 32 the probes of nine
 * runs on 2026-12-07 ran 6-39% below the kept rate, and at one probe per
 * 1.1 s that is 9% of the time in the slower mode. With the backoff a 12 s
 * run probes 3 times rather than 11, and a change in the machine is still
 * seen within 8 s.
 */
#define URING_ADAPT_RUN_MAX_NS 8000000000ull
/*
 * A probe must beat the kept mode by more than this many percent to become the
 * kept mode: a 100 ms probe against a 1-8 s window measures the machine's share
 * as much as the mode. Probes logged on zram at QD 32 and 128 at load 13
 * (docs/perf.md, "A switching margin") switched 15 times, 7 of them on a win
 * of 0.4-14%, 6 of those undone within two probes; the quiet pass's flapping
 * probes were within 2-15% of the kept rate; the differences the measurement
 * is for were 1.25-3.6x at load and 1.5x quiet. Between the two: 20.
 */
#define URING_ADAPT_MARGIN_PCT 20u

struct uring_adapt {
	bool on;	   /* the device has no NOWAIT and the depth is > 1 */
	bool probing;	   /* the current window tries the other mode */
	uint64_t start_ns; /* this window began, lasts len_ns, and began with ... */
	uint64_t len_ns;
	uint64_t reaped0;    /* ... this many completions so far */
	uint64_t run_len_ns; /* the kept mode's window: doubled by each lost probe */
	uint64_t run_rate;   /* completions per second of the last window in the kept mode */
	uint64_t probe_rate; /* ... and of the last probe of the other mode */
	unsigned probes;     /* probes decided */
	unsigned switches;   /* probes that won */
};

/*
 * Start measuring at NOW with REAPED completions so far (the first probe comes
 * soon; the kept mode's window is back to URING_ADAPT_RUN_NS).
 */
void uring_adapt_start(struct uring_adapt *a, uint64_t now, uint64_t reaped);

/*
 * One step at NOW with REAPED completions so far, IOSQE_ASYNC being ASYNC:
 * returns whether IOSQE_ASYNC should be on from now. A window in the kept mode
 * lasts run_len_ns (URING_ADAPT_RUN_NS, doubled by each lost probe up to
 * URING_ADAPT_RUN_MAX_NS), a probe of the other mode URING_ADAPT_PROBE_NS; a
 * probe that completed more than URING_ADAPT_MARGIN_PCT percent more per second
 * than the kept mode's window before it becomes the kept mode. A window that
 * ran far over its length (the context sat idle) decides nothing and starts
 * again.
 */
bool uring_adapt_step(struct uring_adapt *a, bool async, uint64_t now, uint64_t reaped);

#endif
