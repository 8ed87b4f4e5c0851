// SPDX-License-Identifier: MIT
/*
 * rawio_fsqual_traits: which verdicts change which trait, and that nothing
 * changes on tmpfs, for rows that did not answer, or for a partial report.
 */
#include <stdbool.h>

#include <rawio/fsqual.h>

#include "harness.h"

static void report_init(struct rawio_fsqual_report *rep, enum rawio_fsqual_verdict v)
{
	memset(rep, 0, sizeof(*rep));
	rep->table.append_challenged = true;
	rep->table.append_concurrency = 7;
	rep->table.fsync_is_exclusive = true;
	rep->table.nowait_reads = true;
	rep->nr_rows = RAWIO_FSQUAL_NR_ROWS;
	for (unsigned i = 0; i < RAWIO_FSQUAL_NR_ROWS; i++)
		rep->rows[i].verdict = v;
}

static struct rawio_fsqual_row *row(struct rawio_fsqual_report *rep, unsigned id)
{
	return &rep->rows[id];
}

int main(void)
{
	struct rawio_fsqual_report rep;
	struct rawio_fs_traits t;

	/* Everything GOOD: appends do not stall, NOWAIT writes work; the rest is the table's. */
	report_init(&rep, RAWIO_FSQUAL_GOOD);
	rawio_fsqual_traits(&rep, &t);
	CHECK(!t.append_challenged, "all GOOD, still append-challenged");
	CHECK(t.append_concurrency == 7, "concurrency %u, want the table's 7",
	      t.append_concurrency);
	CHECK(t.nowait_writes, "NOWAIT GOOD but nowait_writes off");
	CHECK(t.fsync_is_exclusive && t.nowait_reads, "unmeasured traits changed");

	/* One append at a time works, three do not. */
	row(&rep, RAWIO_FSQUAL_ROW_APPEND_BS_QD3)->verdict = RAWIO_FSQUAL_BAD;
	rawio_fsqual_traits(&rep, &t);
	CHECK(t.append_challenged && t.append_concurrency == 1, "qd3 BAD: %d %u",
	      t.append_challenged, t.append_concurrency);

	/* A single append stalls. */
	row(&rep, RAWIO_FSQUAL_ROW_APPEND_BS_QD1)->verdict = RAWIO_FSQUAL_BAD;
	rawio_fsqual_traits(&rep, &t);
	CHECK(t.append_challenged && t.append_concurrency == 0, "qd1 BAD: %d %u",
	      t.append_challenged, t.append_concurrency);

	/* io_uring: GOOD for the submitter, but punted to io-wq, is a stall too. */
	report_init(&rep, RAWIO_FSQUAL_GOOD);
	row(&rep, RAWIO_FSQUAL_ROW_APPEND_BS_QD1)->iowq_workers = 1;
	CHECK(rawio_fsqual_row_punted(row(&rep, RAWIO_FSQUAL_ROW_APPEND_BS_QD1)), "not punted");
	rawio_fsqual_traits(&rep, &t);
	CHECK(t.append_challenged && t.append_concurrency == 0, "punted append not a stall");

	/* NOWAIT refused. */
	report_init(&rep, RAWIO_FSQUAL_GOOD);
	rep.table.nowait_writes = true;
	row(&rep, RAWIO_FSQUAL_ROW_NOWAIT)->verdict = RAWIO_FSQUAL_BAD;
	rawio_fsqual_traits(&rep, &t);
	CHECK(!t.nowait_writes, "NOWAIT BAD but nowait_writes on");

	/* Rows that did not answer leave the table alone. */
	report_init(&rep, RAWIO_FSQUAL_FAILED);
	rawio_fsqual_traits(&rep, &t);
	CHECK(!memcmp(&t, &rep.table, sizeof(t)), "FAILED rows changed the traits");

	/* tmpfs: nothing measured means nothing changes, whatever the rows say. */
	report_init(&rep, RAWIO_FSQUAL_GOOD);
	rep.meaningless = true;
	rawio_fsqual_traits(&rep, &t);
	CHECK(!memcmp(&t, &rep.table, sizeof(t)), "tmpfs rows changed the traits");

	/* A report cut short (a run that failed half-way). */
	report_init(&rep, RAWIO_FSQUAL_GOOD);
	rep.nr_rows = 3;
	rawio_fsqual_traits(&rep, &t);
	CHECK(!memcmp(&t, &rep.table, sizeof(t)), "partial report changed the traits");

	/* Names. */
	CHECK(!strcmp(rawio_fsqual_verdict_name(RAWIO_FSQUAL_GOOD), "GOOD"), "GOOD");
	CHECK(!strcmp(rawio_fsqual_verdict_name(RAWIO_FSQUAL_BAD), "BAD"), "BAD");
	CHECK(!strcmp(rawio_fsqual_kind_name(RAWIO_FSQUAL_PREALLOC), "prealloc"), "prealloc");
	printf("PASS\n");
	return T_PASS;
}
