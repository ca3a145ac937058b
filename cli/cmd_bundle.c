/* SPDX-License-Identifier: Apache-2.0 */
/* kest bundle: fetch the trust bundle from the Workload API, for the
 * auditors who will run kest verify --bundle. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "providers/wlapi.h"

static const char usage[] =
    "usage: kest bundle [--jwt] [--socket ADDR] --out FILE\n"
    "\n"
    "Fetches the trust bundle from the SPIFFE Workload API at ADDR (default:\n"
    "KEST_SPIFFE_SOCKET, else SPIFFE_ENDPOINT_SOCKET) and writes it to\n"
    "FILE: the X.509 CA certificates as PEM (for kest verify --bundle), or\n"
    "with --jwt the JWT signing keys as a JWKS (for --jwt-bundle).\n";

static int write_out(const char *path, const struct buf *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0644);
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    n = write(fd, b->data, b->len);
    if (close(fd) < 0 || n != (ssize_t)b->len) {
        return -EIO;
    }
    return 0;
}

int cmd_bundle(int argc, char **argv)
{
    static const struct option opts[] = {
        {"jwt", no_argument, NULL, 'j'},
        {"socket", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *sock = NULL;
    struct wlapi_addr a;
    struct buf b;
    int jwt = 0, c, rc;

    if (cli_help(argc, argv, usage)) {
        return CLI_OK;
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j') {
            jwt = 1;
        } else if (c == 's') {
            sock = optarg;
        } else if (c == 'o') {
            out = optarg;
        } else {
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    if (out == NULL || optind != argc) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    rc = sock ? wlapi_addr_parse(sock, &a) : wlapi_addr_env(&a);
    if (rc < 0) {
        return CLI_USAGE;
    }
    buf_init(&b);
    rc = wlapi_fetch_bundles(&a, jwt, 5000, &b);
    if (rc == 0 && b.len == 0) {
        cli_err("bundle", "the Workload API returned an empty bundle");
        rc = -ENOENT;
    }
    if (rc == 0) {
        rc = write_out(out, &b);
        if (rc < 0) {
            cli_err("bundle", "%s: %s", out, strerror(-rc));
        }
    }
    buf_cleanup(&b);
    return rc < 0 ? CLI_FAIL : CLI_OK;
}
