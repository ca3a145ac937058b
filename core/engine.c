/* SPDX-License-Identifier: Apache-2.0 */
/* From event to appended record: identity on first need, payload,
 * signature, log. Runs only where allocation and locks are safe. */
#include "core/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/config.h"
#include "core/execinfo.h"
#include "core/ident.h"
#include "core/jcs.h"
#include "core/jw.h"
#include "core/klog.h"
#include "core/log.h"
#include "core/procinfo.h"
#include "core/record.h"
#include "core/secmem.h"

static pthread_mutex_t engine_mu = PTHREAD_MUTEX_INITIALIZER;
static int engine_state; /* 0 unset, 1 ready, <0 setup error */
static struct config engine_cfg;
static struct ident engine_id;
static struct log engine_log;
static bool engine_own; /* kest_engine_own_process() was called */
static __thread char engine_reason[720];

static void set_reason(int rc, const char *what);

static void debug_sink(enum klog_level lvl, const char *comp,
                       const char *msg)
{
    char line[700];
    int n;

    n = snprintf(line, sizeof(line), "kest[%d]: %s%s: %s\n", (int)getpid(),
                 lvl == KLOG_ERROR ? "error: " : "", comp, msg);
    if (n > (int)sizeof(line) - 1) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    if (write(2, line, (size_t)n) < 0) {
        return;
    }
}

/* OpenSSL 3.0 carries on with a half-made default library context when
 * its one-time set-up runs out of memory, then crashes on the missing
 * locks at the next digest. Make it here, where a failure can still be
 * reported, and record nothing with OpenSSL if it failed. */
static int crypto_ready(void)
{
    /* kest's own processes do not read openssl.cnf (about 0.3 ms at the
     * first fetch, and nothing in it concerns kest's signatures); a
     * host program's OpenSSL set-up is left as the host wants it. */
    uint64_t opts = engine_own ? OPENSSL_INIT_NO_LOAD_CONFIG : 0;

    if (OPENSSL_init_crypto(opts, NULL) != 1 ||
        OSSL_LIB_CTX_get0_global_default() == NULL) {
        return -ENOMEM;
    }
    return 0;
}

KEST_API int kest_engine_setup(int debug)
{
    const char *dbg = getenv("KEST_DEBUG");
    int rc;

    pthread_mutex_lock(&engine_mu);
    if (engine_state != 0) {
        rc = engine_state < 0 ? engine_state : 0;
        goto out;
    }
    if (debug) {
        klog_set_sink(debug_sink);
        klog_set_level(KLOG_TRACE, dbg && *dbg ? dbg : "all");
    }
    rc = crypto_ready();
    if (rc == 0) {
        rc = config_from_env(&engine_cfg);
    }
    if (rc == 0) {
        rc = log_init(&engine_log, engine_cfg.log_path, engine_cfg.log_mode,
                      engine_cfg.timeout_ms);
        engine_log.own_fds = engine_own;
    }
    engine_state = rc < 0 ? rc : 1;
    if (rc < 0) {
        set_reason(rc, "configuration");
    }
out:
    pthread_mutex_unlock(&engine_mu);
    return rc;
}

KEST_API const char *kest_engine_reason(void)
{
    return engine_reason;
}

KEST_API int kest_engine_fail_closed(void)
{
    return engine_state > 0 && engine_cfg.fail_closed;
}

static void set_reason(int rc, const char *what)
{
    const char *last = klog_last_error();

    if (last[0] != '\0') {
        snprintf(engine_reason, sizeof(engine_reason), "%s: %s", what,
                 last);
    } else {
        snprintf(engine_reason, sizeof(engine_reason), "%s: %s", what,
                 strerror(-rc));
    }
}

KEST_API void kest_engine_proc_init(struct kest_proc *p)
{
    const char *parent = getenv("KEST_PARENT");
    size_t i;

    memset(p, 0, sizeof(*p));
    p->pid = (int32_t)getpid();
    strcpy(p->origin, "0");
    if (parent == NULL || strlen(parent) != 64) {
        return;
    }
    for (i = 0; i < 64; i++) {
        if (!((parent[i] >= '0' && parent[i] <= '9') ||
              (parent[i] >= 'a' && parent[i] <= 'f'))) {
            return;
        }
    }
    memcpy(p->origin, parent, 65);
}

static int new_instance(struct kest_proc *p)
{
    uint8_t r[16];

    if (p->instance[0] != '\0') {
        return 0;
    }
    if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
        return -EIO;
    }
    record_hex(r, sizeof(r), p->instance);
    p->seq = 0;
    return 0;
}

/* A payload being written: every member but log_prev and seq, which
 * seal() adds under the log lock. */
struct payload {
    struct jw w;
    struct jw_obj o;
    const char *op;
};

static const char *principal_of(void);
static const char *provider_of(void);

/* The identity block: provider and principal, and with describe what
 * the provider adds (only signed records have that). */
static int identity_member(struct jw_obj *o, bool describe)
{
    json_t *ident;
    struct jw_obj id;
    int rc;

    if (!describe || engine_id.ops == NULL ||
        engine_id.ops->describe == NULL) {
        jw_obj_begin(&id, o->w);
        jw_str(&id, "principal", principal_of());
        jw_str(&id, "provider", provider_of());
        jw_obj_into(&id, o, "identity");
        return 0;
    }
    ident = json_pack("{s:s, s:s}", "principal", principal_of(), "provider",
                      provider_of());
    if (ident == NULL) {
        return -ENOMEM;
    }
    rc = engine_id.ops->describe(engine_id.state, ident);
    if (rc == 0) {
        jw_json(o, "identity", ident);
    }
    json_decref(ident);
    return rc;
}

/* Fields every record carries (see identity_member for describe). */
static int payload_begin(struct payload *pl, const struct kest_proc *p,
                         const char *op, bool describe)
{
    struct timespec ts;
    struct jw_obj sub;
    char uuid[37];
    char ns[24];
    int rc;

    jw_init(&pl->w);
    jw_obj_begin(&pl->o, &pl->w);
    pl->op = op;
    rc = record_uuid7(uuid);
    if (rc < 0) {
        return rc;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(ns, sizeof(ns), "%lld%09ld", (long long)ts.tv_sec, ts.tv_nsec);
    jw_str(&pl->o, "schema_version", RECORD_SCHEMA);
    jw_obj_begin(&sub, &pl->w);
    jw_str(&sub, "name", "kest-c");
    jw_str(&sub, "version", KEST_VERSION);
    jw_obj_into(&sub, &pl->o, "runtime");
    jw_str(&pl->o, "entry_id", uuid);
    jw_str(&pl->o, "operation", op);
    jw_int(&pl->o, "timestamp_ms",
           (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    jw_str(&pl->o, "timestamp_ns", ns);
    jw_arr_begin(&pl->o, "parent_ids");
    jw_arr_str(&pl->o, p->origin);
    jw_arr_end(&pl->o);
    jw_obj_begin(&sub, &pl->w);
    jw_str(&sub, "principal", principal_of());
    jw_obj_into(&sub, &pl->o, "labels");
    rc = identity_member(&pl->o, describe);
    if (rc == 0) {
        rc = procinfo_write(&pl->o, "process", p->pid, p->instance);
    }
    return rc < 0 ? rc : pl->w.err;
}

static void payload_cleanup(struct payload *pl)
{
    jw_cleanup(&pl->w);
}

struct seal_ctx {
    struct payload *pl;
    struct kest_proc *p;
    bool sign;
};

static int seal(void *arg, const char *prev, struct buf *line,
                char hash[RECORD_HASH_HEX])
{
    struct seal_ctx *c = arg;
    struct buf pay;
    int rc;

    buf_init(&pay);
    jw_str(&c->pl->o, "log_prev", prev);
    jw_int(&c->pl->o, "seq", (long long)c->p->seq + 1);
    rc = jw_obj_end(&c->pl->o, &pay);
    if (rc == 0) {
        rc = c->sign ? record_seal_canon(&engine_id, &pay, line, hash)
                     : record_seal_canon_unsigned(&pay, line, hash);
    }
    buf_cleanup(&pay);
    return rc;
}

static int append(struct kest_proc *p, struct payload *pl, bool sign,
                  char hash[RECORD_HASH_HEX])
{
    struct seal_ctx c = {pl, p, sign};
    int rc;

    rc = log_append(&engine_log, seal, &c, hash);
    if (rc == 0) {
        p->seq++;
        klog_trace("log", "appended %s seq %llu %.12s", pl->op,
                   (unsigned long long)p->seq, hash);
    }
    return rc;
}

/* Open the identity on first need; later, let the provider renew
 * short-lived material. Done before a payload is built, so its time and
 * identity fields describe the credential that will sign it. */
static int ensure_identity(void)
{
    if (engine_id.ops == NULL) {
        return ident_open(&engine_cfg, &engine_id);
    }
    if (engine_id.ops->refresh != NULL) {
        return engine_id.ops->refresh(engine_id.state);
    }
    return 0;
}

static const char *principal_of(void)
{
    return engine_id.ops ? engine_id.ops->principal(engine_id.state) : "";
}

static const char *provider_of(void)
{
    return engine_id.ops ? engine_id.ops->name : "none";
}

/* Canonical text of a jansson value, for the operation blocks that are
 * built as trees (start, exec_failed, call). NULL v: out of memory. */
static int canon_of(json_t *v, struct buf *out)
{
    int rc = v != NULL ? jcs_encode(out, v) : -ENOMEM;

    json_decref(v);
    return rc;
}

/* A root process gets a start record, which becomes its origin. */
static int ensure_start(struct kest_proc *p)
{
    char hash[RECORD_HASH_HEX];
    struct payload pl;
    struct buf cmd;
    int rc;

    if (strcmp(p->origin, "0") != 0) {
        return 0;
    }
    buf_init(&cmd);
    rc = payload_begin(&pl, p, "start", true);
    if (rc == 0) {
        rc = canon_of(procinfo_cmdline(p->pid), &cmd);
    }
    if (rc == 0) {
        jw_raw(&pl.o, "start", cmd.data, cmd.len);
        rc = append(p, &pl, true, hash);
    }
    if (rc == 0) {
        memcpy(p->origin, hash, RECORD_HASH_HEX);
    }
    payload_cleanup(&pl);
    buf_cleanup(&cmd);
    return rc;
}

static int signed_record(struct kest_proc *p, const char *op,
                         const struct buf *body, char hash[RECORD_HASH_HEX])
{
    struct payload pl;
    int rc;

    jw_init(&pl.w);
    rc = ensure_identity();
    if (rc < 0) {
        set_reason(rc, "identity");
        goto out;
    }
    rc = ensure_start(p);
    if (rc < 0) {
        set_reason(rc, "start record");
        goto out;
    }
    rc = payload_begin(&pl, p, op, true);
    if (rc == 0) {
        jw_raw(&pl.o, op, body->data, body->len);
        rc = append(p, &pl, true, hash);
    }
    if (rc < 0) {
        set_reason(rc, "record");
    }
out:
    payload_cleanup(&pl);
    return rc;
}

/* Evidence that a record could not be signed: unsigned, alg "none". */
static int gap_record(struct kest_proc *p, const char *op,
                      const struct buf *body, char hash[RECORD_HASH_HEX])
{
    struct payload pl;
    struct jw_obj gap;
    int rc;

    rc = payload_begin(&pl, p, "gap", false);
    if (rc == 0) {
        jw_obj_begin(&gap, &pl.w);
        jw_str(&gap, "reason", engine_reason);
        jw_str(&gap, "event", op);
        jw_str(&gap, "action", engine_cfg.fail_closed ? "refused" : "allowed");
        jw_raw(&gap, op, body->data, body->len);
        jw_obj_into(&gap, &pl.o, "gap");
        rc = append(p, &pl, false, hash);
    }
    payload_cleanup(&pl);
    return rc;
}

/* Record operation op whose block is body (canonical text; consumed). */
static int record(struct kest_proc *p, const char *op, struct buf *body,
                  char hash[RECORD_HASH_HEX])
{
    int rc;

    engine_reason[0] = '\0';
    pthread_mutex_lock(&engine_mu);
    if (engine_state <= 0) {
        rc = engine_state < 0 ? engine_state : -EINVAL;
        set_reason(rc, "configuration");
        goto out;
    }
    rc = new_instance(p);
    if (rc == 0) {
        rc = signed_record(p, op, body, hash);
    }
    if (rc < 0 && gap_record(p, op, body, hash) == 0) {
        rc = KEST_GAP;
    }
out:
    pthread_mutex_unlock(&engine_mu);
    buf_cleanup(body);
    return rc;
}

/* The same, for a block built as a tree (NULL: out of memory). */
static int record_json(struct kest_proc *p, const char *op, json_t *body,
                       char hash[RECORD_HASH_HEX])
{
    struct buf b;

    buf_init(&b);
    if (canon_of(body, &b) < 0) {
        buf_cleanup(&b);
        snprintf(engine_reason, sizeof(engine_reason), "out of memory");
        return -ENOMEM;
    }
    return record(p, op, &b, hash);
}

KEST_API int kest_engine_exec(struct kest_proc *p, const struct kest_exec *e,
                              char hash[65])
{
    struct buf body;
    int rc = 0;

    buf_init(&body);
    if (engine_state > 0) {
        rc = execinfo_body(e, p->pid, &engine_cfg, &body);
    } else {
        rc = buf_puts(&body, "{}");
    }
    if (rc < 0) {
        buf_cleanup(&body);
        snprintf(engine_reason, sizeof(engine_reason), "%s",
                 rc == -ENOMEM ? "out of memory" : "exec event not UTF-8");
        return rc;
    }
    return record(p, "exec", &body, hash);
}

KEST_API int kest_engine_exec_failed(struct kest_proc *p,
                                     const char *exec_hash, int err,
                                     char hash[65])
{
    const char *name = strerrorname_np(err);

    return record_json(p, "exec_failed",
                       json_pack("{s:i, s:s, s:s, s:s}", "errno", err,
                                 "error", name ? name : "", "message",
                                 strerror(err), "exec", exec_hash),
                       hash);
}

KEST_API int kest_engine_warm(struct kest_proc *p)
{
    int rc;

    pthread_mutex_lock(&engine_mu);
    rc = engine_state > 0 ? 0 : -EINVAL;
    if (rc == 0) {
        rc = new_instance(p);
    }
    if (rc == 0) {
        rc = ensure_identity();
    }
    if (rc == 0) {
        rc = ensure_start(p);
    }
    pthread_mutex_unlock(&engine_mu);
    return rc;
}

KEST_API void kest_engine_own_process(void)
{
    engine_own = true;
    secmem_crypto_allow();
}

KEST_API int kest_engine_shareable(void)
{
    int rc;

    pthread_mutex_lock(&engine_mu);
    rc = engine_state > 0 ? ensure_identity() : -EINVAL;
    if (rc == 0) {
        rc = engine_id.ops->per_process ? 0 : 1;
    } else {
        set_reason(rc, "identity");
    }
    pthread_mutex_unlock(&engine_mu);
    return rc;
}

KEST_API void kest_engine_idle(void)
{
    pthread_mutex_lock(&engine_mu);
    if (engine_state > 0) {
        log_close(&engine_log);
    }
    pthread_mutex_unlock(&engine_mu);
}

KEST_API int kest_engine_call(struct kest_proc *p, const char *symbol,
                              const char *object, const char *mode,
                              const char *method, char hash[65])
{
    json_t *body;

    if (symbol == NULL || mode == NULL || method == NULL) {
        snprintf(engine_reason, sizeof(engine_reason), "bad call event");
        return -EINVAL;
    }
    body = json_pack("{s:s, s:s, s:s, s:s}", "symbol", symbol, "object",
                     object ? object : "", "mode", mode, "method", method);
    return record_json(p, "call", body, hash);
}
