/* SPDX-License-Identifier: Apache-2.0 */
/* kest enable / kest disable: system-wide mode through /etc/ld.so.preload.
 * The file is rewritten atomically (temporary file, fsync, rename) and
 * every other entry in it is kept. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char usage_enable[] =
    "usage: kest enable [--lib PATH] [--root DIR]\n"
    "\n"
    "Adds libkest.so to DIR/etc/ld.so.preload (DIR defaults to /), so every\n"
    "dynamically linked program on the machine is attested, configured by\n"
    "/etc/kest/kest.conf. Other entries are kept; the file is replaced\n"
    "atomically. Creating /etc/kest/disabled turns kest off at once\n"
    "without touching ld.so.preload.\n";

static const char usage_disable[] =
    "usage: kest disable [--lib PATH] [--root DIR]\n"
    "\n"
    "Removes libkest.so from DIR/etc/ld.so.preload, keeping every other\n"
    "entry; the file is replaced atomically.\n";

static int default_lib(struct buf *out)
{
    return buf_printf(out, "%s/libkest.so", KEST_INSTALL_LIBDIR);
}

static int read_preload(const char *path, struct buf *b)
{
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        if (buf_append(b, chunk, (size_t)n) < 0) {
            close(fd);
            return -ENOMEM;
        }
    }
    close(fd);
    return n < 0 ? -EIO : 0;
}

/* Copy the entries of old (separated by white space) other than lib. */
static int rewrite(const struct buf *old, const char *lib, bool add,
                   struct buf *out, bool *changed)
{
    const char *p = old->data ? (const char *)old->data : "";
    bool present = false;
    int rc = 0;

    while (rc == 0 && *p) {
        size_t n = strcspn(p, " \t\n");

        if (n == 0) {
            p++;
            continue;
        }
        if (strlen(lib) == n && strncmp(p, lib, n) == 0) {
            present = true;
        } else {
            rc = buf_printf(out, "%.*s\n", (int)n, p);
        }
        p += n;
    }
    if (rc == 0 && add) {
        rc = buf_printf(out, "%s\n", lib);
    }
    *changed = add ? !present : present;
    return rc;
}

static int replace_file(const char *path, const struct buf *data)
{
    char tmp[PATH_MAX];
    int fd, rc = 0;

    snprintf(tmp, sizeof(tmp), "%s.kest-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        return -errno;
    }
    if ((data->len > 0 && write(fd, data->data, data->len) !=
                              (ssize_t)data->len) ||
        fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
        rc = errno ? -errno : -EIO;
    }
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        unlink(tmp);
    }
    return rc;
}

static int toggle(int argc, char **argv, bool add, const char *usage)
{
    static const struct option opts[] = {
        {"lib", required_argument, NULL, 'l'},
        {"root", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *root = "", *lib_arg = NULL;
    struct buf lib, path, old, new;
    bool changed = false;
    int c, rc;

    if (cli_help(argc, argv, usage)) {
        return CLI_OK;
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'l') {
            lib_arg = optarg;
        } else if (c == 'r') {
            root = optarg;
        } else {
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    buf_init(&lib);
    buf_init(&path);
    buf_init(&old);
    buf_init(&new);
    rc = lib_arg ? buf_puts(&lib, lib_arg) : default_lib(&lib);
    if (rc == 0) {
        rc = buf_printf(&path, "%s/etc/ld.so.preload", root);
    }
    if (rc == 0 && add && access((char *)lib.data, R_OK) < 0) {
        cli_err(add ? "enable" : "disable", "%s: %s", (char *)lib.data,
                strerror(errno));
        rc = -ENOENT;
    }
    if (rc == 0) {
        rc = read_preload((char *)path.data, &old);
    }
    if (rc == 0) {
        rc = rewrite(&old, (char *)lib.data, add, &new, &changed);
    }
    if (rc == 0 && changed) {
        rc = replace_file((char *)path.data, &new);
    }
    if (rc < 0 && rc != -ENOENT) {
        cli_err(add ? "enable" : "disable", "%s: %s", (char *)path.data,
                strerror(-rc));
    } else if (rc == 0) {
        printf("%s %s %s\n", (char *)lib.data,
               changed ? (add ? "added to" : "removed from")
                       : (add ? "already in" : "not in"),
               (char *)path.data);
    }
    buf_cleanup(&lib);
    buf_cleanup(&path);
    buf_cleanup(&old);
    buf_cleanup(&new);
    return rc < 0 ? CLI_FAIL : CLI_OK;
}

int cmd_enable(int argc, char **argv)
{
    return toggle(argc, argv, true, usage_enable);
}

int cmd_disable(int argc, char **argv)
{
    return toggle(argc, argv, false, usage_disable);
}
