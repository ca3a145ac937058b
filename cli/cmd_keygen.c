/* SPDX-License-Identifier: Apache-2.0 */
/* kest keygen: a private key (0600) and its public key beside it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/key.h"

static const char usage[] =
    "usage: kest keygen [--type ed25519|p256|rsa] --out PATH\n"
    "\n"
    "Writes a new private key to PATH (PKCS#8 PEM, mode 0600, never\n"
    "overwritten) and its public key to PATH.pub (or PATH with .pem\n"
    "replaced by .pub.pem). The public key is what `kest verify --key`\n"
    "takes. Default type: ed25519.\n";

/* key.pem -> key.pub.pem; anything else -> anything.pub */
static int pub_path(const char *out, struct buf *b)
{
    size_t n = strlen(out);

    if (n > 4 && strcmp(out + n - 4, ".pem") == 0) {
        return buf_printf(b, "%.*s.pub.pem", (int)(n - 4), out);
    }
    return buf_printf(b, "%s.pub", out);
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    enum key_type type = KEY_ED25519;
    const char *out = NULL;
    struct key *k = NULL;
    struct buf pub;
    int c, rc;

    if (cli_help(argc, argv, usage)) {
        return CLI_OK;
    }
    while ((c = getopt_long(argc, argv, "t:o:", opts, NULL)) != -1) {
        if (c == 't' && strcmp(optarg, "ed25519") == 0) {
            type = KEY_ED25519;
        } else if (c == 't' && strcmp(optarg, "p256") == 0) {
            type = KEY_P256;
        } else if (c == 't' && strcmp(optarg, "rsa") == 0) {
            type = KEY_RSA;
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
    buf_init(&pub);
    rc = key_generate(type, &k);
    if (rc < 0) {
        cli_err("keygen", "cannot generate key");
        return CLI_FAIL;
    }
    if (pub_path(out, &pub) < 0) {
        rc = -1;
    } else if ((rc = key_write_private(k, out)) < 0) {
        cli_err("keygen", "%s: %s", out, strerror(-rc));
    } else if ((rc = key_write_public(k, (char *)pub.data)) < 0) {
        cli_err("keygen", "%s: %s", (char *)pub.data, strerror(-rc));
    } else {
        printf("%s\n%s\nkid %s (%s)\n", out, (char *)pub.data, key_kid(k),
               key_alg(k));
    }
    key_free(k);
    buf_cleanup(&pub);
    return rc < 0 ? CLI_USAGE : CLI_OK;
}
