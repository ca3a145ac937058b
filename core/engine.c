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
    if (OPENSSL_init_crypto(0, NULL) != 1 ||
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

/* Fields every record carries; log_prev and seq are added under the log
 * lock by seal(). */
static json_t *base_payload(const struct kest_proc *p, const char *op,
                            const char *principal, const char *provider)
{
    struct timespec ts;
    char uuid[37];
    char ns[24];
    json_t *proc;
    json_t *pl;

    if (record_uuid7(uuid) < 0) {
        return NULL;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(ns, sizeof(ns), "%lld%09ld", (long long)ts.tv_sec, ts.tv_nsec);
    proc = procinfo_json(p->pid, p->instance);
    if (proc == NULL) {
        return NULL;
    }
    pl = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:I, s:s, s:[s],"
                   " s:{s:s}, s:{s:s, s:s}, s:o}",
                   "schema_version", RECORD_SCHEMA,
                   "runtime", "name", "kest-c", "version", KEST_VERSION,
                   "entry_id", uuid, "operation", op,
                   "timestamp_ms", (json_int_t)ts.tv_sec * 1000 +
                                       ts.tv_nsec / 1000000,
                   "timestamp_ns", ns, "parent_ids", p->origin,
                   "labels", "principal", principal,
                   "identity", "provider", provider, "principal", principal,
                   "process", proc);
    return pl;
}

struct seal_ctx {
    json_t *payload;
    struct kest_proc *p;
    bool sign;
};

static int seal(void *arg, const char *prev, struct buf *line,
                char hash[RECORD_HASH_HEX])
{
    struct seal_ctx *c = arg;

    if (json_object_set_new(c->payload, "log_prev", json_string(prev)) ||
        json_object_set_new(c->payload, "seq",
                            json_integer((json_int_t)c->p->seq + 1))) {
        return -ENOMEM;
    }
    if (!c->sign) {
        return record_seal_unsigned(c->payload, line, hash);
    }
    return record_seal(&engine_id, c->payload, line, hash);
}

static int append(struct kest_proc *p, json_t *payload, bool sign,
                  char hash[RECORD_HASH_HEX])
{
    struct seal_ctx c = {payload, p, sign};
    int rc;

    rc = log_append(&engine_log, seal, &c, hash);
    if (rc == 0) {
        p->seq++;
        klog_trace("log", "appended %s seq %llu %.12s",
                   json_string_value(json_object_get(payload, "operation")),
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

static int describe(json_t *payload)
{
    json_t *ident = json_object_get(payload, "identity");

    if (engine_id.ops == NULL || engine_id.ops->describe == NULL) {
        return 0;
    }
    return engine_id.ops->describe(engine_id.state, ident);
}

/* A root process gets a start record, which becomes its origin. */
static int ensure_start(struct kest_proc *p)
{
    char hash[RECORD_HASH_HEX];
    json_t *pl;
    int rc;

    if (strcmp(p->origin, "0") != 0) {
        return 0;
    }
    pl = base_payload(p, "start", principal_of(), provider_of());
    if (pl == NULL) {
        return -ENOMEM;
    }
    rc = describe(pl);
    if (rc == 0 &&
        json_object_set_new(pl, "start", procinfo_cmdline(p->pid)) < 0) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        rc = append(p, pl, true, hash);
    }
    if (rc == 0) {
        memcpy(p->origin, hash, RECORD_HASH_HEX);
    }
    json_decref(pl);
    return rc;
}

static int signed_record(struct kest_proc *p, const char *op, json_t *body,
                         char hash[RECORD_HASH_HEX])
{
    json_t *pl = NULL;
    int rc;

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
    pl = base_payload(p, op, principal_of(), provider_of());
    rc = pl ? describe(pl) : -ENOMEM;
    if (rc == 0 && json_object_set(pl, op, body) < 0) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        rc = append(p, pl, true, hash);
    }
    if (rc < 0) {
        set_reason(rc, "record");
    }
out:
    json_decref(pl);
    return rc;
}

/* Evidence that a record could not be signed: unsigned, alg "none". */
static int gap_record(struct kest_proc *p, const char *op, json_t *body,
                      char hash[RECORD_HASH_HEX])
{
    json_t *pl;
    json_t *gap;
    int rc = -ENOMEM;

    pl = base_payload(p, "gap", principal_of(), provider_of());
    gap = json_pack("{s:s, s:s, s:s, s:O}", "reason", engine_reason,
                    "event", op, "action",
                    engine_cfg.fail_closed ? "refused" : "allowed",
                    op, body);
    if (pl != NULL && gap != NULL &&
        json_object_set_new(pl, "gap", gap) == 0) {
        gap = NULL;
        rc = append(p, pl, false, hash);
    }
    json_decref(gap);
    json_decref(pl);
    return rc;
}

static int record(struct kest_proc *p, const char *op, json_t *body,
                  char hash[RECORD_HASH_HEX])
{
    int rc;

    if (body == NULL) {
        snprintf(engine_reason, sizeof(engine_reason), "out of memory");
        return -ENOMEM;
    }
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
    json_decref(body);
    return rc;
}

KEST_API int kest_engine_exec(struct kest_proc *p, const struct kest_exec *e,
                              char hash[65])
{
    json_t *body = NULL;

    if (engine_state > 0) {
        body = execinfo_json(e, p->pid, &engine_cfg);
    }
    if (body == NULL && engine_state > 0) {
        snprintf(engine_reason, sizeof(engine_reason), "out of memory");
        return -ENOMEM;
    }
    if (body == NULL) {
        body = json_object();
    }
    return record(p, "exec", body, hash);
}

KEST_API int kest_engine_exec_failed(struct kest_proc *p,
                                     const char *exec_hash, int err,
                                     char hash[65])
{
    const char *name = strerrorname_np(err);
    json_t *body;

    body = json_pack("{s:i, s:s, s:s, s:s}", "errno", err, "error",
                     name ? name : "", "message", strerror(err), "exec",
                     exec_hash);
    return record(p, "exec_failed", body, hash);
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
    return record(p, "call", body, hash);
}
