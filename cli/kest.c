/* SPDX-License-Identifier: Apache-2.0 */
/* kest: record, verify and inspect attestation logs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/klog.h"
#include "core/secmem.h"

static const char usage[] =
    "usage: kest COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  run       run a program with every exec attested\n"
    "  verify    check the signatures and chain of attestation logs\n"
    "  show      print a log as a table or a lineage tree\n"
    "  keygen    make a signing key pair\n"
    "  bundle    fetch the SPIFFE trust bundle for verifiers\n"
    "  enable    attest every program on this machine (ld.so.preload)\n"
    "  disable   stop attesting system-wide\n"
    "\n"
    "kest COMMAND --help describes each one. kest --version prints the\n"
    "version.\n";

void cli_err(const char *what, const char *f, ...)
{
    va_list ap;

    fprintf(stderr, "kest: %s: ", what);
    va_start(ap, f);
    vfprintf(stderr, f, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void sink(enum klog_level lvl, const char *comp, const char *msg)
{
    fprintf(stderr, "kest: %s%s: %s\n", lvl == KLOG_ERROR ? "" : "debug: ",
            comp, msg);
}

void cli_log_setup(int verbose)
{
    klog_set_sink(sink);
    klog_set_level(verbose ? KLOG_TRACE : KLOG_ERROR, "all");
}

int cli_help(int argc, char **argv, const char *text)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(text, stdout);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"run", cmd_run},
        {"verify", cmd_verify},
        {"show", cmd_show},
        {"keygen", cmd_keygen},
        {"bundle", cmd_bundle},
        {"enable", cmd_enable},
        {"disable", cmd_disable},
    };

    secmem_crypto_allow(); /* our own process: keys in the secure heap */
    size_t i;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 ||
        strcmp(argv[1], "version") == 0) {
        printf("kest %s\n", KEST_VERSION);
        return CLI_OK;
    }
    cli_log_setup(0);
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    cli_err(argv[1], "unknown command (kest --help lists them)");
    return CLI_USAGE;
}
