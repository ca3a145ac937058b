/* SPDX-License-Identifier: Apache-2.0 */
/* kest run: record the start of a command and run it with libkest.so
 * preloaded, so that it and everything it execs is attested. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/engine.h"
#include "core/klog.h"

static const char usage[] =
    "usage: kest run [--log FILE] [--key KEY.pem] [--principal ID]\n"
    "                [--provider NAME] [--fail open|closed] -- CMD [ARG]...\n"
    "\n"
    "Runs CMD with libkest.so preloaded: a start record for this run, an\n"
    "exec record for CMD, and a record for every exec below it, all\n"
    "appended to the log. Options set the matching KEST_* variables\n"
    "(KEST_LOG, KEST_KEY, KEST_PRINCIPAL, KEST_PROVIDER, KEST_FAIL);\n"
    "relative paths are made absolute first. The exit status is CMD's.\n";

/* Build tree: bin/../lib/libkest.so; installed: the configured libdir. */
static int find_lib(struct buf *out)
{
    char self[PATH_MAX];
    ssize_t n;
    char *slash;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            out->len = 0;
            if (buf_printf(out, "%s/../lib/libkest.so", self) == 0 &&
                access((char *)out->data, R_OK) == 0) {
                char real[PATH_MAX];

                if (realpath((char *)out->data, real) != NULL) {
                    out->len = 0;
                    return buf_puts(out, real);
                }
            }
        }
    }
    out->len = 0;
    if (buf_printf(out, "%s/libkest.so", KEST_INSTALL_LIBDIR) == 0 &&
        access((char *)out->data, R_OK) == 0) {
        return 0;
    }
    return -ENOENT;
}

static int set_path(const char *name, const char *value)
{
    char abs[PATH_MAX];
    struct buf b;
    int rc;

    if (value[0] == '/') {
        return setenv(name, value, 1);
    }
    if (getcwd(abs, sizeof(abs)) == NULL) {
        return -1;
    }
    buf_init(&b);
    rc = buf_printf(&b, "%s/%s", abs, value);
    if (rc == 0) {
        rc = setenv(name, (char *)b.data, 1);
    }
    buf_cleanup(&b);
    return rc;
}

static int set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    struct buf b;
    int rc;

    if (old != NULL && strstr(old, lib) != NULL) {
        return 0;
    }
    buf_init(&b);
    rc = buf_printf(&b, "%s%s%s", lib, old && *old ? " " : "",
                    old ? old : "");
    if (rc == 0) {
        rc = setenv("LD_PRELOAD", (char *)b.data, 1);
    }
    buf_cleanup(&b);
    return rc;
}

static int parse(int argc, char **argv)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'l'},
        {"key", required_argument, NULL, 'k'},
        {"principal", required_argument, NULL, 'p'},
        {"provider", required_argument, NULL, 'P'},
        {"fail", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0;

    while (rc == 0 && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'l': rc = set_path("KEST_LOG", optarg); break;
        case 'k': rc = set_path("KEST_KEY", optarg); break;
        case 'p': rc = setenv("KEST_PRINCIPAL", optarg, 1); break;
        case 'P': rc = setenv("KEST_PROVIDER", optarg, 1); break;
        case 'f':
            if (strcmp(optarg, "open") != 0 && strcmp(optarg, "closed") != 0) {
                cli_err("run", "--fail takes open or closed");
                return -1;
            }
            rc = setenv("KEST_FAIL", optarg, 1);
            break;
        default:
            return -1;
        }
    }
    return rc;
}

int cmd_run(int argc, char **argv)
{
    extern char **environ;
    struct kest_exec ev;
    struct kest_proc proc;
    struct buf lib;
    char hash[65];
    char **cmd;
    int rec;
    int rc;

    if (cli_help(argc, argv, usage)) {
        return CLI_OK;
    }
    if (parse(argc, argv) < 0 || optind >= argc) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    cmd = argv + optind;
    buf_init(&lib);
    if (find_lib(&lib) < 0) {
        cli_err("run", "libkest.so not found next to kest or in %s",
                KEST_INSTALL_LIBDIR);
        return CLI_USAGE;
    }
    if (getenv("KEST_LOG") == NULL) {
        struct buf def;

        buf_init(&def);
        if (config_default_log(&def) == 0) {
            setenv("KEST_LOG", (char *)def.data, 1);
        }
        buf_cleanup(&def);
    }
    if (set_preload((char *)lib.data) < 0) {
        return CLI_USAGE;
    }
    buf_cleanup(&lib);
    unsetenv("KEST_PARENT");
    /* The engine's reasons reach the user once, in run's own warning or
     * error line; its log lines show only with KEST_DEBUG. */
    if (getenv("KEST_DEBUG") == NULL) {
        klog_set_sink(NULL);
    }
    if (kest_engine_setup(getenv("KEST_DEBUG") != NULL) < 0) {
        cli_err("run", "%s", kest_engine_reason());
        return CLI_USAGE;
    }
    kest_engine_proc_init(&proc);
    memset(&ev, 0, sizeof(ev));
    ev.api = "kest run";
    ev.path = cmd[0];
    ev.fd = -100;
    ev.search_path = getenv("PATH") ? getenv("PATH") : "/bin:/usr/bin";
    ev.argv = cmd;
    ev.envp = environ;
    rec = kest_engine_exec(&proc, &ev, hash);
    if (rec != KEST_SIGNED) {
        if (kest_engine_fail_closed()) {
            cli_err("run", "refused (--fail closed): %s",
                    kest_engine_reason());
            return 126;
        }
        cli_err("run", "warning: not attested: %s", kest_engine_reason());
    }
    if (rec >= 0) {
        setenv("KEST_PARENT", hash, 1);
    }
    execvp(cmd[0], cmd);
    rc = errno;
    /* Only a written exec record has a hash to refer to. */
    if (rec >= 0) {
        char h2[65];

        (void)kest_engine_exec_failed(&proc, hash, rc, h2);
    }
    cli_err("run", "%s: %s", cmd[0], strerror(rc));
    return rc == ENOENT ? 127 : 126;
}
