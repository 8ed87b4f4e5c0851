// SPDX-License-Identifier: MIT
/* rawio: the command. One table of subcommands; each lives in cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct subcommand subcommands[] = {
	{ "devinfo", cmd_devinfo, "devinfo PATH [--json]       describe a device or file" },
	{ "demo", cmd_demo, "demo [--dir DIR]            a short tour on file-backed devices" },
	{ "bench", cmd_bench,
	  "bench [OPTIONS]             fio-style benchmark (rawio bench --help)" },
	{ "store", cmd_store, "store CMD PATH ...          slot store (rawio store --help)" },
	{ "cache", cmd_cache, "cache CMD ...               write-back cache (rawio cache --help)" },
	{ "export", cmd_export,
	  "export [--attach] DEV|CACHE BACKING   serve over NBD; --attach: /dev/loopN" },
	{ "fsqual", cmd_fsqual, "fsqual [DIR] [OPTIONS]      does async I/O stay async here?" },
	{ "iotune", cmd_iotune, "iotune DIR|DEVICE [OPTIONS]  measure a disk: io_properties.yaml" },
	{ "pollsim", cmd_pollsim, "pollsim --trace FILE ...    hybrid-polling simulator" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rawio COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  rawio %s\n", subcommands[i].usage);
	fprintf(f, "\nrawio %s; engines:", RAWIO_VERSION);
	for (const char *const *n = rawio_engine_list(); *n; n++)
		fprintf(f, " %s", *n);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	static char prog[64];

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("rawio %s\n", RAWIO_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name))
			continue;
		snprintf(prog, sizeof(prog), "rawio %s", subcommands[i].name);
		cli_prog = prog;
		argv[1] = prog; /* getopt's own messages then say "rawio devinfo: ..." too */
		return subcommands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "rawio: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
