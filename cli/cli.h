/* SPDX-License-Identifier: Apache-2.0 */
/* The kest command's subcommands. Each returns the process exit status:
 * 0 success, 1 a failed verification or command, 2 usage or I/O. */
#ifndef KEST_CLI_H
#define KEST_CLI_H

#include <stdio.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_enable(int argc, char **argv);
int cmd_disable(int argc, char **argv);

/* "kest: what: why" on stderr. */
void cli_err(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Route core/ log messages to stderr (errors always; more with -v). */
void cli_log_setup(int verbose);
/* True if argv[i] is -h or --help; prints usage to stdout then. */
int cli_help(int argc, char **argv, const char *usage);

#endif
