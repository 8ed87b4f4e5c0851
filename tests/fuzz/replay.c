// SPDX-License-Identifier: MIT
/*
 * The plain main() of every fuzz target in the gcc build: replays the files
 * (or the files in the directories) named on the command line through
 * LLVMFuzzerTestOneInput, so each checked-in corpus runs as an ordinary test.
 * The fuzz preset links libFuzzer's main instead.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz.h"

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 16];
	size_t n;

	if (!f) {
		perror(path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *de;

		if (!d) {
			if (replay(argv[i]))
				return 1;
			files++;
			continue;
		}
		while ((de = readdir(d))) {
			char p[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			if (replay(p))
				return 1;
			files++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", files);
	return files ? 0 : 1;
}
