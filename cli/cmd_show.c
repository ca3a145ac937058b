/* SPDX-License-Identifier: Apache-2.0 */
/* kest show: a log as a table, or its lineage as a tree. */
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/bytes.h"
#include "core/verify.h"

static const char usage[] =
    "usage: kest show [--tree | --dot] LOG...\n"
    "\n"
    "Prints each record: time (UTC), principal, pid, operation and\n"
    "details. --tree prints the lineage: every process under the record\n"
    "that started it. --dot prints the lineage as a Graphviz digraph\n"
    "(render with: dot -Tpng -o tree.png). show does not check\n"
    "signatures; kest verify does.\n";

struct rec {
    char hash[65];
    json_t *pl;
    int shown;
};

struct recs {
    struct rec *v;
    size_t n;
};

static void collect(void *ctx, const char *log, uint64_t line,
                    const char *hash, json_t *pl)
{
    struct recs *r = ctx;
    struct rec *n;

    (void)log;
    (void)line;
    n = realloc(r->v, (r->n + 1) * sizeof(*n));
    if (n == NULL) {
        return;
    }
    r->v = n;
    memcpy(n[r->n].hash, hash, 65);
    n[r->n].pl = json_incref(pl);
    n[r->n].shown = 0;
    r->n++;
}

/* Byte strings shown as text; control bytes as \xNN. */
static void put_bytes(FILE *f, const json_t *v)
{
    struct buf raw;
    size_t i;

    buf_init(&raw);
    if (v == NULL || json_is_null(v) || bytes_from_json(v, &raw) < 0) {
        fputs("-", f);
        buf_cleanup(&raw);
        return;
    }
    for (i = 0; i < raw.len; i++) {
        unsigned char c = raw.data[i];

        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\x%02x", c);
        } else {
            fputc(c, f);
        }
    }
    buf_cleanup(&raw);
}

static void put_argv(FILE *f, const json_t *argv)
{
    size_t i;

    for (i = 0; i < json_array_size(argv); i++) {
        fputs(i ? " " : "", f);
        put_bytes(f, json_array_get(argv, i));
    }
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "-";
}

static void details(FILE *f, const char *op, json_t *pl)
{
    json_t *body = json_object_get(pl, op);

    if (strcmp(op, "exec") == 0) {
        fprintf(f, "%s ", str(body, "api"));
        put_bytes(f, json_object_get(body, "resolved"));
        fputs(" [", f);
        put_argv(f, json_object_get(body, "argv"));
        fputs("]", f);
    } else if (strcmp(op, "exec_failed") == 0) {
        fprintf(f, "%s", str(body, "error"));
    } else if (strcmp(op, "start") == 0) {
        put_argv(f, json_object_get(body, "argv"));
    } else if (strcmp(op, "call") == 0) {
        fprintf(f, "%s in %s (%s)", str(body, "symbol"), str(body, "object"),
                str(body, "method"));
    } else if (strcmp(op, "gap") == 0) {
        fprintf(f, "UNSIGNED: %s", str(body, "reason"));
    }
}

static void line_for(FILE *f, const struct rec *r, int with_time)
{
    json_t *pl = r->pl;
    const char *op = str(pl, "operation");
    json_int_t ms = json_integer_value(json_object_get(pl, "timestamp_ms"));
    json_t *proc = json_object_get(pl, "process");
    const char *who = str(json_object_get(pl, "labels"), "principal");
    long long pid = json_integer_value(json_object_get(proc, "pid"));
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char when[32];

    /* A hostile log can hold a time no struct tm can express. */
    if (gmtime_r(&secs, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(when, sizeof(when), "@%lld", (long long)secs);
    }
    if (with_time) {
        fprintf(f, "%s.%03dZ  %-28s %7lld  %-11s ", when, (int)(ms % 1000),
                who, pid, op);
    } else {
        fprintf(f, "%s pid %lld: ", op, pid);
    }
    details(f, op, pl);
    fputc('\n', f);
}

static const char *first_parent(const struct rec *r)
{
    json_t *p = json_object_get(r->pl, "parent_ids");

    return json_string_value(json_array_get(p, 0));
}

/* One level of the lineage walk: a parent and where its children are. */
struct level {
    const char *parent;
    size_t next; /* first record not yet looked at */
    size_t last; /* the parent's last unshown child, or SIZE_MAX */
};

static void level_start(const struct recs *rs, struct level *l,
                        const char *parent)
{
    size_t i;

    l->parent = parent;
    l->next = 0;
    l->last = SIZE_MAX;
    for (i = 0; i < rs->n; i++) {
        if (!rs->v[i].shown && strcmp(first_parent(&rs->v[i]), parent) == 0) {
            l->last = i;
        }
    }
}

/* Depth first with a stack of our own: a chain of execs is as deep as
 * the log is long, far too deep to recurse on. Each level shows one
 * record more, so there are at most n + 1 levels. */
static void tree(struct recs *rs, const char *root)
{
    struct level *st = calloc(rs->n + 1, sizeof(*st));
    char indent[4096];
    size_t depth = 0;

    if (st == NULL) {
        cli_err("show", "out of memory");
        return;
    }
    level_start(rs, &st[0], root);
    for (;;) {
        struct level *l = &st[depth];
        size_t w = 3 * depth < sizeof(indent) ? 3 * depth
                                              : sizeof(indent) - 1;
        size_t i = l->next;

        while (l->last != SIZE_MAX && i <= l->last &&
               (rs->v[i].shown ||
                strcmp(first_parent(&rs->v[i]), l->parent) != 0)) {
            i++;
        }
        if (l->last == SIZE_MAX || i > l->last) {
            if (depth == 0) {
                break;
            }
            depth--;
            continue;
        }
        l->next = i + 1;
        rs->v[i].shown = 1;
        printf("%.*s%s", (int)w, indent, i == l->last ? "`- " : "|- ");
        line_for(stdout, &rs->v[i], 0);
        if (3 * depth + 3 < sizeof(indent)) {
            /* Bytes printed with a length: no terminator wanted. */
            /* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
            memcpy(indent + 3 * depth, i == l->last ? "   " : "|  ", 3);
        }
        depth++;
        level_start(rs, &st[depth], rs->v[i].hash);
    }
    free(st);
}

/* One label for a record node: operation, pid and the program. */
static void dot_label(const struct rec *r)
{
    const char *op = str(r->pl, "operation");
    json_t *body = json_object_get(r->pl, op);
    json_t *proc = json_object_get(r->pl, "process");
    const json_t *what = json_object_get(body, "resolved");
    char *text = NULL;
    FILE *f;
    size_t len = 0;
    size_t i;

    f = open_memstream(&text, &len);
    if (f == NULL) {
        return;
    }
    if (what == NULL || json_is_null(what)) {
        what = json_array_get(json_object_get(body, "argv"), 0);
    }
    if (what == NULL) {
        what = json_object_get(body, "symbol");
    }
    fprintf(f, "%s pid %lld\n", op,
            (long long)json_integer_value(json_object_get(proc, "pid")));
    put_bytes(f, what);
    /* text and len are only valid once the stream closed cleanly. */
    if (fclose(f) != 0) {
        free(text);
        return;
    }
    fputs(" [label=\"", stdout);
    for (i = 0; i < len; i++) {
        if (text[i] == '"' || text[i] == '\\') {
            putchar('\\');
        }
        if (text[i] == '\n') {
            fputs("\\n", stdout);
        } else {
            putchar(text[i]);
        }
    }
    printf("\"%s];\n", strcmp(op, "gap") == 0 ? ", color=red" : "");
    free(text);
}

static void dot(const struct recs *rs)
{
    size_t i;

    printf("digraph kest {\n  rankdir=LR;\n  node [shape=box, "
           "fontname=\"monospace\", fontsize=10];\n");
    for (i = 0; i < rs->n; i++) {
        printf("  \"%.12s\"", rs->v[i].hash);
        dot_label(&rs->v[i]);
    }
    for (i = 0; i < rs->n; i++) {
        const char *p = first_parent(&rs->v[i]);
        size_t j;

        for (j = 0; j < rs->n && strcmp(rs->v[j].hash, p) != 0; j++) {
        }
        if (j < rs->n) {
            printf("  \"%.12s\" -> \"%.12s\";\n", p, rs->v[i].hash);
        }
    }
    printf("}\n");
}

int cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tree", no_argument, NULL, 't'},
        {"dot", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct verify_opts vo;
    struct verify_result vr;
    struct recs rs = {NULL, 0};
    int as_tree = 0;
    size_t i;
    int c, rc;

    if (cli_help(argc, argv, usage)) {
        return CLI_OK;
    }
    while ((c = getopt_long(argc, argv, "t", opts, NULL)) != -1) {
        if (c != 't' && c != 'd') {
            fputs(usage, stderr);
            return CLI_USAGE;
        }
        as_tree = c == 't' ? 1 : 2;
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    memset(&vo, 0, sizeof(vo));
    vo.no_signatures = true;
    vo.allow_gaps = true;
    vo.each = collect;
    vo.ctx = &rs;
    rc = verify_logs((const char *const *)argv + optind,
                     (size_t)(argc - optind), &vo, &vr);
    for (i = 0; i < vr.nissues; i++) {
        cli_err("show", "%s:%llu: %s", vr.issues[i].log,
                (unsigned long long)vr.issues[i].line, vr.issues[i].reason);
    }
    if (as_tree == 2) {
        dot(&rs);
    } else if (as_tree) {
        /* Roots: records whose first parent is "0" or not in the logs. */
        for (i = 0; i < rs.n; i++) {
            const char *first = first_parent(&rs.v[i]);
            size_t j;

            for (j = 0; j < i && strcmp(rs.v[j].hash, first) != 0; j++) {
            }
            if (j == i && !rs.v[i].shown) {
                tree(&rs, first);
            }
        }
    } else {
        printf("%-24s  %-28s %7s  %-11s %s\n", "TIME (UTC)", "PRINCIPAL",
               "PID", "OPERATION", "DETAILS");
        for (i = 0; i < rs.n; i++) {
            line_for(stdout, &rs.v[i], 1);
        }
    }
    for (i = 0; i < rs.n; i++) {
        json_decref(rs.v[i].pl);
    }
    free(rs.v);
    verify_result_cleanup(&vr);
    return rc < 0 ? CLI_USAGE : CLI_OK;
}
