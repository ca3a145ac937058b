/* SPDX-License-Identifier: Apache-2.0 */
/* Designated entry symbols: find the GOT/PLT slots that bind to them in
 * every loaded object (now and after each dlopen), point them at the
 * trampolines of shim/tramp.S and record the calls that come through. */
#include "shim/symbols.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/inline.h"
#include "shim/shim.h"

#define SYM_LIST_MAX 2048 /* bytes of KEST_SYMBOLS kept */

/* Read by tramp.S. */
unsigned char shim_sym_done[SHIM_SYM_MAX];
void *shim_sym_real[SHIM_SYM_MAX];
unsigned char shim_sym_active;
void *(*shim_dlopen_real)(const char *, int);
extern void *const shim_sym_tramps[SHIM_SYM_MAX]
    __attribute__((visibility("hidden")));
extern void *const shim_inl_tramps[SHIM_SYM_MAX]
    __attribute__((visibility("hidden")));

struct sym {
    const char *name;
    bool several;  /* several slots bind it to different functions */
    bool patched;  /* at least one slot points at the trampoline */
    bool inl;      /* the executable's function itself is patched */
    const char *refused; /* why an internal function was left alone */
    char object[SHIM_PATH_MAX]; /* the defining object */
};

static struct {
    char list[SYM_LIST_MAX];
    struct sym sym[SHIM_SYM_MAX];
    int n;
    bool every;
    uintptr_t page;
    pthread_mutex_t mu;
} syms = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The parts of one object's dynamic section that name relocations. */
struct dynobj {
    uintptr_t base;
    const char *name;
    const ElfW(Sym) *symtab;
    const char *strtab;
    const ElfW(Rela) *rela[2];
    size_t relasz[2];
    uintptr_t relro;     /* page-aligned start of PT_GNU_RELRO, or 0 */
    uintptr_t relro_end; /* page-aligned end */
};

static int sym_find(const char *name)
{
    int i;

    for (i = 0; i < syms.n; i++) {
        if (strcmp(syms.sym[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

static void parse_list(const char *v)
{
    char *p, *save = NULL;

    if (strlen(v) >= sizeof(syms.list)) {
        shim_say("KEST_SYMBOLS too long; ignored", "", "");
        return;
    }
    strcpy(syms.list, v);
    for (p = strtok_r(syms.list, ",", &save); p != NULL;
         p = strtok_r(NULL, ",", &save)) {
        if (*p == '\0' || sym_find(p) >= 0) {
            continue;
        }
        if (syms.n == SHIM_SYM_MAX) {
            shim_say("too many KEST_SYMBOLS; ignored from ", p, "");
            break;
        }
        syms.sym[syms.n++].name = p;
    }
}

/* Dynamic entries are relocated by ld.so on x86-64; an offset below the
 * load address is taken as unrelocated (as on some other ports). */
static uintptr_t dyn_ptr(const struct dynobj *o, ElfW(Addr) v)
{
    return v < o->base ? o->base + v : v;
}

static bool dynobj_read(struct dl_phdr_info *info, struct dynobj *o)
{
    const ElfW(Dyn) *d = NULL;
    uintptr_t page = syms.page;
    int i;

    memset(o, 0, sizeof(*o));
    o->base = info->dlpi_addr;
    o->name = info->dlpi_name;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

        if (ph->p_type == PT_DYNAMIC) {
            d = (const ElfW(Dyn) *)(o->base + ph->p_vaddr);
        } else if (ph->p_type == PT_GNU_RELRO) {
            o->relro = (o->base + ph->p_vaddr) & ~(page - 1);
            o->relro_end = (o->base + ph->p_vaddr + ph->p_memsz) &
                           ~(page - 1);
        }
    }
    if (d == NULL) {
        return false;
    }
    for (; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB:
            o->symtab = (const ElfW(Sym) *)dyn_ptr(o, d->d_un.d_ptr);
            break;
        case DT_STRTAB:
            o->strtab = (const char *)dyn_ptr(o, d->d_un.d_ptr);
            break;
        case DT_JMPREL:
            o->rela[0] = (const ElfW(Rela) *)dyn_ptr(o, d->d_un.d_ptr);
            break;
        case DT_PLTRELSZ:
            o->relasz[0] = d->d_un.d_val;
            break;
        case DT_RELA:
            o->rela[1] = (const ElfW(Rela) *)dyn_ptr(o, d->d_un.d_ptr);
            break;
        case DT_RELASZ:
            o->relasz[1] = d->d_un.d_val;
            break;
        default:
            break;
        }
    }
    return o->symtab != NULL && o->strtab != NULL;
}

static bool is_tramp(void *v)
{
    int i;

    for (i = 0; i < SHIM_SYM_MAX; i++) {
        if (shim_sym_tramps[i] == v) {
            return true;
        }
    }
    return false;
}

/* Path of the object that defines addr (NULL: the executable); the
 * executable has no name in the link map, so /proc/self/exe stands in
 * for it. */
static void object_of(void *addr, char *out, size_t cap)
{
    struct link_map *lm = NULL;
    char real[PATH_MAX];
    Dl_info info;
    ssize_t n;

    out[0] = '\0';
    if (addr != NULL &&
        (dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP) == 0 ||
         lm == NULL)) {
        return;
    }
    if (lm != NULL && lm->l_name != NULL && lm->l_name[0] != '\0') {
        if (realpath(lm->l_name, real) != NULL && strlen(real) < cap) {
            strcpy(out, real);
        } else if (strlen(lm->l_name) < cap) {
            strcpy(out, lm->l_name);
        }
        return;
    }
    n = readlink("/proc/self/exe", out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
}

/* The function slot currently leads to: a bound slot holds it (it is
 * then the start of a dynamic symbol); a lazy slot still points into
 * the object's own PLT, so ask ld.so the way a lazy bind would. */
static void *slot_target(void *v, const char *name)
{
    Dl_info info;

    if (dladdr(v, &info) != 0 && info.dli_saddr == v) {
        return v;
    }
    return dlsym(RTLD_DEFAULT, name);
}

/* Point one slot at trampoline i, through a writable window if the slot
 * sits in RELRO. */
static void slot_write(const struct dynobj *o, void **slot, int i)
{
    uintptr_t a = (uintptr_t)slot;
    uintptr_t pg = a & ~(syms.page - 1);
    bool ro = a >= o->relro && a < o->relro_end;

    if (ro && mprotect((void *)pg, syms.page, PROT_READ | PROT_WRITE)) {
        shim_say("cannot unprotect a GOT page of ", o->name,
                 syms.sym[i].name);
        return;
    }
    __atomic_store_n(slot, shim_sym_tramps[i], __ATOMIC_RELEASE);
    if (ro && mprotect((void *)pg, syms.page, PROT_READ)) {
        shim_say("cannot protect again a GOT page of ", o->name, "");
    }
    syms.sym[i].patched = true;
}

static void patch_slot(const struct dynobj *o, const ElfW(Rela) *r)
{
    uint32_t t = ELF64_R_TYPE(r->r_info);
    const ElfW(Sym) *s = &o->symtab[ELF64_R_SYM(r->r_info)];
    void **slot = (void **)(o->base + r->r_offset);
    struct sym *sym;
    void *target;
    int i;

    if ((t != R_X86_64_JUMP_SLOT && t != R_X86_64_GLOB_DAT) ||
        ELF64_R_SYM(r->r_info) == 0) {
        return;
    }
    i = sym_find(o->strtab + s->st_name);
    if (i < 0 || is_tramp(*slot)) {
        return;
    }
    sym = &syms.sym[i];
    if (sym->inl || sym->refused != NULL) {
        return; /* an internal function of the executable, seen first */
    }
    target = slot_target(*slot, sym->name);
    if (target == NULL) {
        shim_say("symbol not resolvable from ", o->name, sym->name);
        return;
    }
    if (shim_sym_real[i] == NULL) {
        object_of(target, sym->object, sizeof(sym->object));
        __atomic_store_n(&shim_sym_real[i], target, __ATOMIC_RELEASE);
    } else if (shim_sym_real[i] != target) {
        if (!sym->several) {
            shim_say("defined in several objects, not hooked in ",
                     o->name[0] ? o->name : "the executable", sym->name);
        }
        sym->several = true;
        return;
    }
    slot_write(o, slot, i);
}

static bool is_ours(const char *name)
{
    return name[0] != '\0' && (strcmp(name, shim.lib) == 0 ||
                                strcmp(name, shim.core) == 0 ||
                                strstr(name, "/libkest.so") != NULL ||
                                strstr(name, "/libkest-core.so") != NULL ||
                                strstr(name, "ld-linux") != NULL);
}

static int patch_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct dynobj o;
    size_t k, j;

    (void)size;
    (void)arg;
    if (is_ours(info->dlpi_name) || !dynobj_read(info, &o)) {
        return 0;
    }
    for (k = 0; k < 2; k++) {
        for (j = 0; o.rela[k] && j < o.relasz[k] / sizeof(ElfW(Rela));
             j++) {
            patch_slot(&o, &o.rela[k][j]);
        }
    }
    return 0;
}

static void patch_all(void)
{
    pthread_mutex_lock(&syms.mu);
    dl_iterate_phdr(patch_object, NULL);
    pthread_mutex_unlock(&syms.mu);
}

/* " (reason)" for a debug line; one static buffer (constructor only). */
static const char *refusal(const char *why)
{
    static char buf[80];

    snprintf(buf, sizeof(buf), " (%s)", why);
    return buf;
}

/* Names no GOT slot leads to and no loaded object exports: internal
 * functions of the executable, patched in place (shim/inline.c). */
static void patch_internal(void)
{
    bool tried = false;
    int i;

    for (i = 0; i < syms.n; i++) {
        struct sym *sym = &syms.sym[i];
        void *real = NULL;
        enum shim_inl_rc rc;

        if (sym->patched || dlsym(RTLD_DEFAULT, sym->name) != NULL) {
            continue;
        }
        tried = true;
        rc = shim_inline_hook(sym->name, shim_inl_tramps[i], &real,
                              &sym->refused);
        if (rc == SHIM_INL_ABSENT) {
            sym->refused = NULL;
            continue;
        }
        object_of(NULL, sym->object, sizeof(sym->object));
        if (rc == SHIM_INL_HOOKED) {
            __atomic_store_n(&shim_sym_real[i], real, __ATOMIC_RELEASE);
            sym->inl = true;
        }
    }
    if (tried) {
        shim_inline_end();
    }
}

static void report_unpatched(void)
{
    int i;

    for (i = 0; i < syms.n; i++) {
        if (syms.sym[i].inl) {
            shim_say("hooked (inline) ", syms.sym[i].name, "");
        } else if (syms.sym[i].refused != NULL) {
            shim_say("inline hook refused for ", syms.sym[i].name,
                     refusal(syms.sym[i].refused));
        } else if (syms.sym[i].patched) {
            shim_say("hooked (GOT) ", syms.sym[i].name, "");
        } else if (dlsym(RTLD_DEFAULT, syms.sym[i].name) == NULL) {
            shim_say("symbol not found: ", syms.sym[i].name, "");
        } else {
            shim_say("no GOT/PLT reference yet to ", syms.sym[i].name, "");
        }
    }
}

void shim_symbols_init(void)
{
    const char *v = getenv("KEST_SYMBOLS");
    const char *m = getenv("KEST_SYMBOLS_MODE");

    *(void **)&shim_dlopen_real = dlsym(RTLD_NEXT, "dlopen");
    if (v == NULL || *v == '\0') {
        return;
    }
    syms.page = (uintptr_t)sysconf(_SC_PAGESIZE);
    syms.every = m != NULL && strcmp(m, "every") == 0;
    parse_list(v);
    if (syms.n == 0) {
        return;
    }
    patch_all();
    patch_internal();
    report_unpatched();
    (void)dlerror(); /* our failed look-ups are not the host's */
    __atomic_store_n(&shim_sym_active, 1, __ATOMIC_RELEASE);
}

void shim_symbol_hit(int index)
{
    struct sym *sym;

    if (index < 0 || index >= syms.n || !shim_call_ok()) {
        return;
    }
    sym = &syms.sym[index];
    if (!syms.every &&
        __atomic_exchange_n(&shim_sym_done[index], 1, __ATOMIC_ACQ_REL)) {
        return;
    }
    shim_record_call(sym->name, sym->object, syms.every ? "every" : "first",
                     sym->inl ? "inline" : "got");
}

void shim_symbols_gaps(void)
{
    char method[96];
    int i;

    for (i = 0; i < syms.n; i++) {
        if (syms.sym[i].refused == NULL) {
            continue;
        }
        snprintf(method, sizeof(method), "refused:%s", syms.sym[i].refused);
        shim_record_call(syms.sym[i].name, syms.sym[i].object,
                         syms.every ? "every" : "first", method);
    }
}

void *shim_dlopen_hook(const char *file, int mode)
{
    void *h;

    if (shim_dlopen_real == NULL) {
        shim_init();
    }
    if (shim_dlopen_real == NULL) {
        return NULL;
    }
    h = shim_dlopen_real(file, mode);
    if (h != NULL && shim_sym_active && shim_call_ok()) {
        int saved = errno;

        patch_all();
        (void)dlerror(); /* our failed look-ups are not the caller's */
        errno = saved;
    }
    return h;
}
