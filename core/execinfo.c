/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving the exec target as the kernel will, hashing it, and the
 * lossless argv and environment. */
#include "core/execinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/bytes.h"
#include "core/jw.h"
#include "core/procinfo.h"
#include "core/record.h"

#define HASH_CACHE 16

struct hash_entry {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
    char hex[65];
};

/* Threads of one program may exec at the same time; the lock is held
 * only to read or fill an entry, never while hashing. */
static pthread_mutex_t hash_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hash_entry hash_cache[HASH_CACHE];
static unsigned hash_next;

static bool same_file(const struct hash_entry *h, const struct stat *st)
{
    return h->hex[0] != '\0' && h->dev == st->st_dev &&
           h->ino == st->st_ino && h->size == st->st_size &&
           h->mtime.tv_sec == st->st_mtim.tv_sec &&
           h->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           h->ctime.tv_sec == st->st_ctim.tv_sec &&
           h->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static int digest_fd(int fd, uint8_t md[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *chunk;
    ssize_t n;
    int rc = 0;

    chunk = malloc(1 << 16);
    if (ctx == NULL || chunk == NULL ||
        EVP_DigestInit_ex(ctx, record_sha256(), NULL) != 1) {
        rc = -ENOMEM;
        goto out;
    }
    while ((n = read(fd, chunk, 1 << 16)) > 0) {
        if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1) {
            rc = -EINVAL;
            goto out;
        }
    }
    if (n < 0) {
        rc = -errno;
        goto out;
    }
    if (EVP_DigestFinal_ex(ctx, md, NULL) != 1) {
        rc = -EINVAL;
    }
out:
    free(chunk);
    EVP_MD_CTX_free(ctx);
    return rc;
}

static bool cache_find(const struct stat *st, char out[65])
{
    bool found = false;
    unsigned i;

    pthread_mutex_lock(&hash_mu);
    for (i = 0; i < HASH_CACHE && !found; i++) {
        if (same_file(&hash_cache[i], st)) {
            memcpy(out, hash_cache[i].hex, 65);
            found = true;
        }
    }
    pthread_mutex_unlock(&hash_mu);
    return found;
}

static void cache_add(const struct stat *st, const char hex[65])
{
    struct hash_entry *h;

    pthread_mutex_lock(&hash_mu);
    h = &hash_cache[hash_next++ % HASH_CACHE];
    h->dev = st->st_dev;
    h->ino = st->st_ino;
    h->size = st->st_size;
    h->mtime = st->st_mtim;
    h->ctime = st->st_ctim;
    memcpy(h->hex, hex, 65);
    pthread_mutex_unlock(&hash_mu);
}

int execinfo_hash_fd(int fd, char out[65])
{
    struct stat st;
    uint8_t md[32];
    int rc;

    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        return S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
    }
    if (cache_find(&st, out)) {
        return 0;
    }
    rc = digest_fd(fd, md);
    if (rc < 0) {
        return rc;
    }
    record_hex(md, sizeof(md), out);
    cache_add(&st, out);
    return 0;
}

static bool runnable(const char *path)
{
    struct stat st;

    return access(path, X_OK) == 0 && stat(path, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* execvp's search: each PATH element in turn, empty meaning ".". */
static int search(const char *file, const char *path, struct buf *out)
{
    const char *p = path;

    while (p != NULL) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        out->len = 0;
        if (buf_printf(out, "%.*s%s%s", (int)n, n ? p : ".",
                       n && p[n - 1] == '/' ? "" : "/", file) < 0) {
            return -ENOMEM;
        }
        if (runnable((char *)out->data)) {
            return 0;
        }
        p = e ? e + 1 : NULL;
    }
    return -ENOENT;
}

/* The path the kernel will open, before symlinks are followed. */
static int target_path(const struct kest_exec *e, int32_t pid,
                       struct buf *out)
{
    char link[64];

    if (e->path == NULL || (e->path[0] == '\0' && e->fd >= 0 &&
                            (e->at_flags & AT_EMPTY_PATH) != 0)) {
        snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, e->fd);
        return buf_puts(out, link);
    }
    if (e->path[0] == '\0') {
        return -ENOENT; /* the kernel runs nothing by an empty name */
    }
    if (e->search_path != NULL && strchr(e->path, '/') == NULL &&
        e->path[0] != '\0') {
        return search(e->path, e->search_path, out);
    }
    if (e->path[0] == '/') {
        return buf_puts(out, e->path);
    }
    if (e->fd >= 0) {
        snprintf(link, sizeof(link), "/proc/%d/fd/%d/", (int)pid, e->fd);
    } else {
        snprintf(link, sizeof(link), "/proc/%d/cwd/", (int)pid);
    }
    return buf_printf(out, "%s%s", link, e->path);
}

/* The target's SHA-256 into hex: 1, or 0 when hashing is off or the
 * file cannot be read, or -ENOMEM. st is the file's stat: a file
 * hashed before is not opened again. */
static int target_hash(const char *real, const struct stat *st, bool on,
                       char hex[65])
{
    int fd;
    int rc;

    if (!on) {
        return 0;
    }
    if (cache_find(st, hex)) {
        return 1;
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    rc = fd < 0 ? -errno : execinfo_hash_fd(fd, hex);
    if (fd >= 0) {
        close(fd);
    }
    if (rc == -ENOMEM) {
        return rc;
    }
    return rc == 0 ? 1 : 0;
}

/* realpath() reads every component's link; a program run again and
 * again (a shell loop, make) is resolved from here while its path
 * still leads to the same file. Absolute names only: a relative one
 * depends on the directory. */
#define REAL_CACHE 16

struct real_entry {
    dev_t dev;
    ino_t ino;
    char path[256];
    char real[512];
};

static struct real_entry real_cache[REAL_CACHE];
static unsigned real_next;

static bool real_find(const char *path, const struct stat *st,
                      char real[PATH_MAX])
{
    bool found = false;
    unsigned i;

    pthread_mutex_lock(&hash_mu);
    for (i = 0; i < REAL_CACHE && !found; i++) {
        struct real_entry *r = &real_cache[i];

        if (r->path[0] != '\0' && r->dev == st->st_dev &&
            r->ino == st->st_ino && strcmp(r->path, path) == 0) {
            strcpy(real, r->real);
            found = true;
        }
    }
    pthread_mutex_unlock(&hash_mu);
    return found;
}

static void real_add(const char *path, const struct stat *st,
                     const char *real)
{
    struct real_entry *r;

    if (path[0] != '/' || strncmp(path, "/proc/", 6) == 0 ||
        strlen(path) >= sizeof(r->path) || strlen(real) >= sizeof(r->real)) {
        return;
    }
    pthread_mutex_lock(&hash_mu);
    r = &real_cache[real_next++ % REAL_CACHE];
    r->dev = st->st_dev;
    r->ino = st->st_ino;
    strcpy(r->path, path);
    strcpy(r->real, real);
    pthread_mutex_unlock(&hash_mu);
}

/* Resolve path as the kernel will; st gets the file's stat. */
static int resolve(const char *path, char real[PATH_MAX], struct stat *st)
{
    if (stat(path, st) < 0) {
        return errno ? -errno : -EIO;
    }
    if (real_find(path, st, real)) {
        return 0;
    }
    if (realpath(path, real) == NULL) {
        return errno ? -errno : -EIO;
    }
    real_add(path, st, real);
    return 0;
}

static int add_target(struct jw_obj *o, const struct kest_exec *e,
                      int32_t pid, const struct config *cfg)
{
    char real[PATH_MAX];
    char hex[65];
    struct stat st;
    struct buf t;
    int rc;

    buf_init(&t);
    memset(&st, 0, sizeof(st));
    rc = target_path(e, pid, &t);
    if (rc == 0) {
        rc = resolve((char *)t.data, real, &st);
    }
    if (rc == -ENOMEM) {
        goto out;
    }
    /* A target that cannot be resolved is recorded as null. */
    if (rc < 0) {
        jw_null(o, "resolved");
        jw_null(o, "sha256");
        rc = 0;
        goto out;
    }
    jw_bytes(o, "resolved", real, strlen(real));
    rc = target_hash(real, &st, cfg->hash_exe, hex);
    if (rc == 1) {
        jw_strn(o, "sha256", hex, 64);
    } else if (rc == 0) {
        jw_null(o, "sha256");
    }
    rc = rc < 0 ? rc : 0;
out:
    buf_cleanup(&t);
    return rc;
}

static void strv(struct jw_obj *o, const char *name, char *const *v)
{
    size_t i;

    if (v == NULL) {
        jw_null(o, name);
        return;
    }
    jw_arr_begin(o, name);
    for (i = 0; v[i] != NULL; i++) {
        jw_arr_bytes(o, v[i], strlen(v[i]));
    }
    jw_arr_end(o);
}

/* NAME=VALUE for allowed names, NAME alone otherwise. */
static void env(struct jw_obj *o, char *const *envp,
                const struct config *cfg)
{
    size_t i;

    jw_arr_begin(o, "env");
    for (i = 0; envp != NULL && envp[i] != NULL; i++) {
        const char *eq = strchr(envp[i], '=');
        size_t n = eq ? (size_t)(eq - envp[i]) : strlen(envp[i]);

        if (config_list_has(cfg->env_allow, envp[i], n)) {
            n = strlen(envp[i]);
        }
        jw_arr_bytes(o, envp[i], n);
    }
    jw_arr_end(o);
}

int execinfo_body(const struct kest_exec *e, int32_t pid,
                  const struct config *cfg, struct buf *out)
{
    struct jw w;
    struct jw_obj o;
    int rc;

    jw_init(&w);
    jw_obj_begin(&o, &w);
    jw_str(&o, "api", e->api);
    if (e->path != NULL) {
        jw_bytes(&o, "path", e->path, strlen(e->path));
    } else {
        jw_null(&o, "path");
    }
    strv(&o, "argv", e->argv);
    env(&o, e->envp, cfg);
    if (e->fd >= 0) {
        jw_int(&o, "fd", e->fd);
    }
    if (e->restored != NULL) {
        jw_str(&o, "env_restored", e->restored);
    }
    rc = add_target(&o, e, pid, cfg);
    if (rc == 0) {
        rc = jw_obj_end(&o, out);
    }
    jw_cleanup(&w);
    return rc;
}
