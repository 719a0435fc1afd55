// SPDX-License-Identifier: GPL-2.0
/* resmem --version: the tools' version and the loaded module's, compared. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* /sys/module/resmem/version into @buf: 0, or -errno (-ENOENT: not loaded). */
static int module_version(const char *sysfs_root, char *buf, size_t len)
{
	char path[512], *text;
	int err;

	snprintf(path, sizeof(path), "%s/module/resmem/version", sysfs_root);
	err = resmem_read_file(path, &text);
	if (err)
		return err;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, len, "%s", text);
	free(text);
	return 0;
}

int show_version(const char *sysfs_root)
{
	char mod[64];
	int err = module_version(sysfs_root, mod, sizeof(mod));

	printf("resmem %s\n", resmem_version());
	if (err == -ENOENT) {
		printf("module: not loaded\n");
		return EXIT_OK;
	}
	if (err) {
		printf("module: version unknown (%s)\n", errno_name(-err));
		return EXIT_OK;
	}
	printf("module: %s\n", mod);
	if (!strcmp(mod, resmem_version()))
		return EXIT_OK;
	fprintf(stderr,
		"resmem: warning: the loaded module is version %s, these tools are %s\n",
		mod, resmem_version());
	if (!cli_quiet)
		fprintf(stderr,
			"resmem: hint: install matching versions (ioctls or sysfs files may differ)\n");
	return EXIT_OK;
}
