/* SPDX-License-Identifier: Apache-2.0 */
/* Inline hooks: find an internal function through the executable's
 * .symtab, relocate its first instructions (decoded with capstone,
 * loaded on demand) into a stub near the code, and patch its entry. */
#include "shim/inline.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/shim.h"
#include "shim/symbols.h"

#define INL_SLOT 128   /* bytes of stub per hooked function */
#define INL_COPY_AT 16 /* the copy's offset in a slot, after a far jmp */
#define INL_NEAR 5     /* jmp rel32 */
#define INL_FAR 14     /* jmp *0(%rip); .quad target */
#define INL_ENDBR_LEN 4
#define INL_COPY_MAX 48 /* prologue copy, rel32 fixes included */
#define INL_MB (1024L * 1024)

/* XSAVE components tramp.S keeps (its SHIM_INL_XMASK). */
#define INL_XMASK 0xe7u
#define INL_XSAVE_MIN 576 /* legacy area and header */

/* Bytes of XSAVE area shim_inl_slow needs; 0: keep %xmm0-15 only.
 * Read by tramp.S. */
unsigned int shim_inl_xsave_size;

static const unsigned char endbr64[INL_ENDBR_LEN] = {0xf3, 0x0f, 0x1e,
                                                     0xfa};

/* The C API of libcapstone.so.4, resolved when first needed. */
struct capstone {
    void *lib;
    csh h;
    bool open;
    cs_err (*open_fn)(cs_arch, cs_mode, csh *);
    cs_err (*option)(csh, cs_opt_type, size_t);
    cs_insn *(*malloc_fn)(csh);
    bool (*iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
    void (*free_fn)(cs_insn *, size_t);
    cs_err (*close)(csh *);
    bool (*group)(csh, const cs_insn *, unsigned int);
};

/* The executable file, mapped read-only, and its symbol table. */
struct image {
    bool tried;
    unsigned char *map;
    size_t len;
    const ElfW(Shdr) *sh;
    size_t shnum;
    const ElfW(Sym) *sym;
    size_t nsym;
    const char *str;
    size_t strsz;
    uintptr_t base;
    const ElfW(Phdr) *phdr; /* the executable's, as loaded */
    size_t phnum;
};

/* One function to hook: where it is and what will be written. */
struct target {
    const char *name;
    unsigned char *entry;
    size_t size;
    unsigned char *at;  /* the patched address, past any endbr64 */
    size_t len;         /* whole instructions displaced */
    size_t patch;       /* INL_NEAR or INL_FAR */
    unsigned char copy[INL_COPY_MAX];
    size_t copy_len;
};

static struct {
    struct capstone cs;
    struct image img;
    unsigned char *page; /* stubs, one INL_SLOT each */
    bool page_tried;
    size_t used;
    size_t pagesz;
} inl;

/* Size the XSAVE area for the components of INL_XMASK the OS enabled;
 * AMX tiles (several KB) are left out on purpose. */
static void xsave_probe(void)
{
    unsigned int a, b, c, d, lo, hi, need = INL_XSAVE_MIN, i;

    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
        __get_cpuid_max(0, NULL) < 0xd) {
        return;
    }
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    for (i = 2; i < 8; i++) {
        if ((INL_XMASK & lo & (1u << i)) != 0 &&
            __get_cpuid_count(0xd, i, &a, &b, &c, &d) && b + a > need) {
            need = b + a;
        }
    }
    shim_inl_xsave_size = need + 64; /* room to align down to 64 */
}

static int first_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct image *m = arg;

    (void)size;
    m->base = info->dlpi_addr;
    m->phdr = info->dlpi_phdr;
    m->phnum = info->dlpi_phnum;
    return 1;
}

/* [p, p + n) lies in an executable segment of the program as loaded. */
static bool image_in_text(const struct image *m, uintptr_t p, size_t n)
{
    size_t i;

    for (i = 0; i < m->phnum; i++) {
        const ElfW(Phdr) *ph = &m->phdr[i];
        uintptr_t lo = m->base + ph->p_vaddr;

        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && p >= lo &&
            n <= ph->p_memsz && p - lo <= ph->p_memsz - n) {
            return true;
        }
    }
    return false;
}

static bool image_check(struct image *m)
{
    const ElfW(Ehdr) *e = (const void *)m->map;

    if (m->len < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) != 0 ||
        e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_machine != EM_X86_64 ||
        e->e_shentsize != sizeof(ElfW(Shdr)) || e->e_shoff > m->len ||
        e->e_shnum > (m->len - e->e_shoff) / sizeof(ElfW(Shdr))) {
        return false;
    }
    m->sh = (const void *)(m->map + e->e_shoff);
    m->shnum = e->e_shnum;
    return true;
}

/* Point m at .symtab and its string table; false when stripped. */
static bool image_symtab(struct image *m)
{
    size_t i;

    for (i = 0; i < m->shnum; i++) {
        const ElfW(Shdr) *s = &m->sh[i];
        const ElfW(Shdr) *t;

        if (s->sh_type != SHT_SYMTAB || s->sh_link >= m->shnum) {
            continue;
        }
        t = &m->sh[s->sh_link];
        if (s->sh_offset > m->len || s->sh_size > m->len - s->sh_offset ||
            t->sh_offset > m->len || t->sh_size > m->len - t->sh_offset ||
            t->sh_size == 0) {
            return false;
        }
        m->sym = (const void *)(m->map + s->sh_offset);
        m->nsym = s->sh_size / sizeof(ElfW(Sym));
        m->str = (const char *)m->map + t->sh_offset;
        m->strsz = t->sh_size;
        return true;
    }
    return false;
}

/* The file's program headers are those of the program as loaded. */
static bool image_is_loaded(const struct image *m)
{
    const ElfW(Ehdr) *e = (const void *)m->map;
    size_t n = m->phnum * sizeof(ElfW(Phdr));

    return m->phdr != NULL && e->e_phnum == m->phnum &&
           e->e_phentsize == sizeof(ElfW(Phdr)) && e->e_phoff <= m->len &&
           n <= m->len - e->e_phoff &&
           memcmp(m->map + e->e_phoff, m->phdr, n) == 0;
}

static bool image_open(struct image *m)
{
    struct stat st;
    int fd;

    if (m->tried) {
        return m->sym != NULL;
    }
    m->tried = true;
    fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        m->len = (size_t)st.st_size;
        m->map = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    close(fd);
    if (m->map == NULL || m->map == MAP_FAILED) {
        m->map = NULL;
        return false;
    }
    if (!image_check(m) || !image_symtab(m)) {
        m->sym = NULL;
        return false;
    }
    dl_iterate_phdr(first_object, m);
    if (!image_is_loaded(m)) {
        m->sym = NULL; /* e.g. run as "ld.so prog": the file is ld.so */
        return false;
    }
    return true;
}

static const char *sym_name(const struct image *m, const ElfW(Sym) *s)
{
    if (s->st_name >= m->strsz ||
        memchr(m->str + s->st_name, '\0', m->strsz - s->st_name) == NULL) {
        return "";
    }
    return m->str + s->st_name;
}

/* A defined function in an executable section. */
static bool sym_is_code(const struct image *m, const ElfW(Sym) *s)
{
    return ELF64_ST_TYPE(s->st_info) == STT_FUNC &&
           s->st_shndx != SHN_UNDEF && s->st_shndx < m->shnum &&
           (m->sh[s->st_shndx].sh_flags & SHF_EXECINSTR) != 0;
}

/* The one function called name: 0 none, 1 found, 2 several. */
static int sym_lookup(const struct image *m, const char *name,
                      const ElfW(Sym) **out)
{
    size_t i;
    int n = 0;

    for (i = 0; i < m->nsym; i++) {
        const ElfW(Sym) *s = &m->sym[i];

        if (sym_is_code(m, s) && strcmp(sym_name(m, s), name) == 0 &&
            (n == 0 || (*out)->st_value != s->st_value)) {
            *out = s;
            n++;
        }
    }
    return n > 2 ? 2 : n;
}

static bool cs_load(struct capstone *c)
{
    if (c->open) {
        return true;
    }
    if (c->lib == NULL && shim_dlopen_real != NULL) {
        c->lib = shim_dlopen_real("libcapstone.so.4",
                                  RTLD_NOW | RTLD_LOCAL);
    }
    if (c->lib == NULL) {
        return false;
    }
    *(void **)&c->open_fn = dlsym(c->lib, "cs_open");
    *(void **)&c->option = dlsym(c->lib, "cs_option");
    *(void **)&c->malloc_fn = dlsym(c->lib, "cs_malloc");
    *(void **)&c->iter = dlsym(c->lib, "cs_disasm_iter");
    *(void **)&c->free_fn = dlsym(c->lib, "cs_free");
    *(void **)&c->close = dlsym(c->lib, "cs_close");
    *(void **)&c->group = dlsym(c->lib, "cs_insn_group");
    if (!c->open_fn || !c->option || !c->malloc_fn || !c->iter ||
        !c->free_fn || !c->close || !c->group ||
        c->open_fn(CS_ARCH_X86, CS_MODE_64, &c->h) != CS_ERR_OK) {
        return false;
    }
    c->open = true;
    if (c->option(c->h, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
        c->close(&c->h);
        c->open = false;
    }
    return c->open;
}

static bool in_rel32(uintptr_t from, uintptr_t to)
{
    intptr_t d = (intptr_t)(to - from);

    return d >= INT32_MIN && d <= INT32_MAX;
}

/* True when the whole stub page is reachable with rel32 from code. */
static bool page_near(const unsigned char *page, const unsigned char *code)
{
    return in_rel32((uintptr_t)code, (uintptr_t)page) &&
           in_rel32((uintptr_t)page + inl.pagesz, (uintptr_t)code);
}

static unsigned char *page_try(uintptr_t hint, const unsigned char *code)
{
    int fl = MAP_PRIVATE | MAP_ANONYMOUS;
    void *p;

#ifdef MAP_FIXED_NOREPLACE
    fl |= MAP_FIXED_NOREPLACE;
#endif
    p = mmap((void *)hint, inl.pagesz, PROT_READ | PROT_WRITE, fl, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    if (!page_near(p, code)) {
        munmap(p, inl.pagesz);
        return NULL;
    }
    return p;
}

/* One page of stubs within 1 GB of code: below it first (above a
 * non-PIE executable lies the brk heap), then above. */
static unsigned char *page_alloc(const unsigned char *code)
{
    uintptr_t c = (uintptr_t)code & ~(uintptr_t)(inl.pagesz - 1);
    unsigned char *p;
    long d;

    for (d = 64 * INL_MB; d <= 1024 * INL_MB; d += 64 * INL_MB) {
        if (c > (uintptr_t)d + 16 * INL_MB &&
            (p = page_try(c - (uintptr_t)d, code)) != NULL) {
            return p;
        }
    }
    for (d = 1024 * INL_MB; d >= 128 * INL_MB; d -= 64 * INL_MB) {
        if ((p = page_try(c + (uintptr_t)d, code)) != NULL) {
            return p;
        }
    }
    return NULL;
}

static bool is_branch(struct capstone *c, const cs_insn *in)
{
    return c->group(c->h, in, CS_GRP_JUMP) ||
           c->group(c->h, in, CS_GRP_CALL) ||
           c->group(c->h, in, CS_GRP_RET) ||
           c->group(c->h, in, CS_GRP_IRET) ||
           c->group(c->h, in, CS_GRP_INT) ||
           c->group(c->h, in, CS_GRP_BRANCH_RELATIVE);
}

/* The rip-relative memory operand of in, or NULL. */
static const cs_x86_op *rip_operand(const cs_insn *in)
{
    const cs_x86 *x = &in->detail->x86;
    int i;

    for (i = 0; i < x->op_count; i++) {
        if (x->operands[i].type == X86_OP_MEM &&
            x->operands[i].mem.base == X86_REG_RIP) {
            return &x->operands[i];
        }
    }
    return NULL;
}

/* Append one displaced instruction to t->copy, which will run at dst.
 * A rip-relative operand (lea, mov, or any other non-branch: a load of
 * a constant is common) gets its displacement recomputed, once the
 * encoded bytes are seen to hold the displacement capstone reports. */
static const char *copy_insn(struct target *t, const cs_insn *in,
                             uintptr_t dst)
{
    const cs_x86_encoding *e = &in->detail->x86.encoding;
    const cs_x86_op *op = rip_operand(in);
    uintptr_t abs;
    int32_t disp;

    if (t->copy_len + in->size > sizeof(t->copy)) {
        return "prologue_too_long";
    }
    memcpy(t->copy + t->copy_len, in->bytes, in->size);
    if (op != NULL) {
        if (e->disp_size != 4 || e->disp_offset == 0 ||
            e->disp_offset + 4u > in->size) {
            return "rip_relative_operand";
        }
        memcpy(&disp, in->bytes + e->disp_offset, 4);
        if (disp != op->mem.disp) {
            return "rip_relative_operand";
        }
        abs = (uintptr_t)in->address + in->size + (intptr_t)disp;
        if (!in_rel32(dst + in->size, abs)) {
            return "rip_relative_out_of_range";
        }
        disp = (int32_t)(intptr_t)(abs - (dst + in->size));
        memcpy(t->copy + t->copy_len + e->disp_offset, &disp, 4);
    }
    t->copy_len += in->size;
    return NULL;
}

/* Decode whole instructions at t->at until t->patch bytes are covered
 * and relocate them for a copy starting at dst. */
static const char *relocate(struct target *t, uintptr_t dst)
{
    struct capstone *c = &inl.cs;
    size_t avail = t->size - (size_t)(t->at - t->entry);
    const uint8_t *code = t->at;
    uint64_t addr = (uintptr_t)t->at;
    const char *why = NULL;
    cs_insn *in = c->malloc_fn(c->h);

    if (in == NULL) {
        return "no_memory";
    }
    t->len = 0;
    t->copy_len = 0;
    while (why == NULL && t->len < t->patch) {
        /* The code ends (or cannot be decoded) before the patch does. */
        if (!c->iter(c->h, &code, &avail, &addr, in) ||
            c->group(c->h, in, CS_GRP_RET)) {
            why = "too_short";
        } else if (is_branch(c, in)) {
            why = "branch_in_prologue";
        } else {
            why = copy_insn(t, in, dst + t->copy_len);
            t->len += in->size;
        }
    }
    c->free_fn(in, 1);
    return why;
}

/* Any direct branch in [code, code + size) landing in the first bytes
 * of t? A jump to the entry itself counts (a loop back there would be
 * recorded as a call); a recursive call of the entry does not. */
static const char *scan_range(const struct target *t, const uint8_t *code,
                              size_t size)
{
    struct capstone *c = &inl.cs;
    uintptr_t lo = (uintptr_t)t->entry, hi = (uintptr_t)t->at + t->len;
    uint64_t addr = (uintptr_t)code;
    const char *why = NULL;
    cs_insn *in = c->malloc_fn(c->h);

    if (in == NULL) {
        return "no_memory";
    }
    while (why == NULL && size > 0) {
        const cs_x86 *x;

        if (!c->iter(c->h, &code, &size, &addr, in)) {
            why = "body_not_decodable";
            break;
        }
        x = &in->detail->x86;
        if (is_branch(c, in) && x->op_count == 1 &&
            x->operands[0].type == X86_OP_IMM &&
            (uintptr_t)x->operands[0].imm >= lo &&
            (uintptr_t)x->operands[0].imm < hi &&
            !(c->group(c->h, in, CS_GRP_CALL) &&
              (uintptr_t)x->operands[0].imm == lo)) {
            why = "jump_target_in_prologue";
        }
    }
    c->free_fn(in, 1);
    return why;
}

/* Scan t's body and its split parts (name.cold, name.part.N, ...). */
static const char *scan_body(const struct target *t)
{
    const struct image *m = &inl.img;
    size_t n = strlen(t->name), i;
    const char *why = scan_range(t, t->entry, t->size);

    for (i = 0; why == NULL && i < m->nsym; i++) {
        const ElfW(Sym) *s = &m->sym[i];
        const char *nm = sym_name(m, s);

        if (sym_is_code(m, s) && strncmp(nm, t->name, n) == 0 &&
            nm[n] == '.' && s->st_size > 0) {
            if (!image_in_text(m, m->base + s->st_value, s->st_size)) {
                why = "not_in_text";
                break;
            }
            why = scan_range(t, (const uint8_t *)(m->base + s->st_value),
                             s->st_size);
        }
    }
    return why;
}

static void put_far_jmp(unsigned char *at, uintptr_t to)
{
    static const unsigned char op[6] = {0xff, 0x25, 0, 0, 0, 0};

    memcpy(at, op, sizeof(op));
    memcpy(at + sizeof(op), &to, sizeof(to));
}

/* jmp rel32 into buf, for the copy of it that runs at pc. */
static void put_near_jmp(unsigned char *buf, uintptr_t pc, uintptr_t to)
{
    int32_t d = (int32_t)(intptr_t)(to - (pc + INL_NEAR));

    buf[0] = 0xe9;
    memcpy(buf + 1, &d, sizeof(d));
}

/* Fill stub slot: an absolute jump to tramp, then endbr64 (tramp
 * reaches the copy indirectly), the copy and the jump back. */
static void slot_fill(unsigned char *slot, const struct target *t,
                      void *tramp)
{
    unsigned char *copy = slot + INL_COPY_AT;
    unsigned char *back = copy + INL_ENDBR_LEN + t->copy_len;
    uintptr_t cont = (uintptr_t)t->at + t->len;

    memset(slot, 0xcc, INL_SLOT);
    put_far_jmp(slot, (uintptr_t)tramp);
    memcpy(copy, endbr64, INL_ENDBR_LEN);
    memcpy(copy + INL_ENDBR_LEN, t->copy, t->copy_len);
    if (in_rel32((uintptr_t)back + INL_NEAR, cont)) {
        put_near_jmp(back, (uintptr_t)back, cont);
    } else {
        put_far_jmp(back, cont);
    }
}

/* Write the jump over the prologue, the text writable only meanwhile. */
static const char *entry_write(const struct target *t, const void *slot)
{
    uintptr_t pg = (uintptr_t)t->at & ~(uintptr_t)(inl.pagesz - 1);
    uintptr_t end = ((uintptr_t)t->at + t->len + inl.pagesz - 1) &
                    ~(uintptr_t)(inl.pagesz - 1);
    unsigned char buf[INL_COPY_MAX];

    memset(buf, 0xcc, t->len);
    if (t->patch == INL_NEAR) {
        put_near_jmp(buf, (uintptr_t)t->at, (uintptr_t)slot);
    } else {
        put_far_jmp(buf, (uintptr_t)slot);
    }
    if (mprotect((void *)pg, end - pg, PROT_READ | PROT_WRITE | PROT_EXEC)) {
        return "text_not_writable";
    }
    memcpy(t->at, buf, t->len);
    if (mprotect((void *)pg, end - pg, PROT_READ | PROT_EXEC)) {
        shim_say("cannot protect again the text of ", t->name, "");
    }
    return NULL;
}

static const char *stub_page(const struct target *t, bool *near)
{
    if (inl.page == NULL && !inl.page_tried) {
        inl.page_tried = true;
        inl.page = page_alloc(t->entry);
    }
    if (inl.page == NULL || inl.used + INL_SLOT > inl.pagesz) {
        return "no_trampoline_page";
    }
    *near = page_near(inl.page, t->entry);
    return NULL;
}

static const char *hook(struct target *t, void *tramp, void **real)
{
    unsigned char *slot;
    const char *why;
    bool near;

    if ((why = stub_page(t, &near)) != NULL) {
        return why;
    }
    slot = inl.page + inl.used;
    t->patch = near ? INL_NEAR : INL_FAR;
    why = relocate(t, (uintptr_t)slot + INL_COPY_AT + INL_ENDBR_LEN);
    if (why == NULL) {
        why = scan_body(t);
    }
    if (why != NULL) {
        return why;
    }
    if (mprotect(inl.page, inl.pagesz, PROT_READ | PROT_WRITE)) {
        return "trampoline_not_writable";
    }
    slot_fill(slot, t, tramp);
    if (mprotect(inl.page, inl.pagesz, PROT_READ | PROT_EXEC)) {
        return "trampoline_not_executable";
    }
    inl.used += INL_SLOT;
    *real = slot + INL_COPY_AT;
    return entry_write(t, slot);
}

enum shim_inl_rc shim_inline_hook(const char *name, void *tramp,
                                  void **real, const char **why)
{
    const ElfW(Sym) *s = NULL;
    struct target t;
    int n;

    if (inl.pagesz == 0) {
        inl.pagesz = (size_t)sysconf(_SC_PAGESIZE);
        xsave_probe();
    }
    if (!image_open(&inl.img) || (n = sym_lookup(&inl.img, name, &s)) == 0) {
        return SHIM_INL_ABSENT;
    }
    memset(&t, 0, sizeof(t));
    t.name = name;
    t.entry = (unsigned char *)(inl.img.base + s->st_value);
    t.size = s->st_size;
    t.at = t.entry;
    if (n > 1) {
        *why = "several_definitions";
    } else if (t.size == 0) {
        *why = "size_unknown";
    } else if (!image_in_text(&inl.img, (uintptr_t)t.entry, t.size)) {
        *why = "not_in_text";
    } else if (!cs_load(&inl.cs)) {
        *why = "capstone_unavailable";
    } else {
        if (t.size >= INL_ENDBR_LEN && memcmp(t.at, endbr64, 4) == 0) {
            t.at += INL_ENDBR_LEN;
        }
        *why = hook(&t, tramp, real);
    }
    return *why == NULL ? SHIM_INL_HOOKED : SHIM_INL_REFUSED;
}

void shim_inline_end(void)
{
    if (inl.cs.open) {
        inl.cs.close(&inl.cs.h);
        inl.cs.open = false;
    }
    if (inl.img.map != NULL) {
        munmap(inl.img.map, inl.img.len);
        inl.img.map = NULL;
        inl.img.sym = NULL;
    }
}
