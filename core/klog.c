/* SPDX-License-Identifier: Apache-2.0 */
/* The logging hook. */
#include "core/klog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void (*klog_sink)(enum klog_level, const char *, const char *);
static enum klog_level klog_max = KLOG_ERROR;
static char klog_trace_list[128];
static __thread char klog_last[640];

void klog_set_sink(void (*sink)(enum klog_level, const char *,
                                const char *))
{
    klog_sink = sink;
}

void klog_set_level(enum klog_level lvl, const char *trace_components)
{
    klog_max = lvl;
    snprintf(klog_trace_list, sizeof(klog_trace_list), "%s",
             trace_components ? trace_components : "all");
}

static int tracing(const char *comp)
{
    size_t n = strlen(comp);
    const char *p = klog_trace_list;

    if (strcmp(p, "all") == 0 || strcmp(p, "1") == 0) {
        return 1;
    }
    while ((p = strstr(p, comp)) != NULL) {
        if ((p == klog_trace_list || p[-1] == ',') &&
            (p[n] == '\0' || p[n] == ',')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static void emit(enum klog_level lvl, const char *comp, const char *fmt,
                 va_list ap)
{
    char msg[512];

    (void)vsnprintf(msg, sizeof(msg), fmt, ap); /* truncation is fine */
    if (lvl == KLOG_ERROR) {
        snprintf(klog_last, sizeof(klog_last), "%s: %s", comp, msg);
    }
    if (klog_sink == NULL || lvl > klog_max) {
        return;
    }
    if (lvl == KLOG_TRACE && !tracing(comp)) {
        return;
    }
    klog_sink(lvl, comp, msg);
}

void klog_error(const char *comp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(KLOG_ERROR, comp, fmt, ap);
    va_end(ap);
}

void klog_info(const char *comp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(KLOG_INFO, comp, fmt, ap);
    va_end(ap);
}

void klog_trace(const char *comp, const char *fmt, ...)
{
    va_list ap;

    if (klog_max < KLOG_TRACE) {
        return;
    }
    va_start(ap, fmt);
    emit(KLOG_TRACE, comp, fmt, ap);
    va_end(ap);
}

const char *klog_last_error(void)
{
    return klog_last;
}
