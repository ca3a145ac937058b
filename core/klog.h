/* SPDX-License-Identifier: Apache-2.0 */
/* Logging hook for core/ and providers/: they never print; the program
 * that embeds them installs a sink (stderr in the CLI, write(2) behind a
 * prefix in the shim when KEST_DEBUG is set). */
#ifndef KEST_KLOG_H
#define KEST_KLOG_H

enum klog_level {
    KLOG_ERROR = 0,
    KLOG_INFO = 1,
    KLOG_TRACE = 2,
};

/* Install the sink; NULL discards everything (the default). */
void klog_set_sink(void (*sink)(enum klog_level lvl, const char *comp,
                                const char *msg));
/* Highest level passed to the sink, and for KLOG_TRACE the comma list of
 * components to trace ("all" for every one). */
void klog_set_level(enum klog_level lvl, const char *trace_components);
void klog_error(const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void klog_info(const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void klog_trace(const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text of the last error logged by this thread ("" if none), so a
 * caller can put the reason in a gap record or a CLI message. */
const char *klog_last_error(void);

#endif
