// memfill.c: fill a test guest's memory with a realistic mix before it panics, so a vmcore
// taken from it has every page class a dump filter must tell apart: anonymous memory that is
// text-like, random, structured or zero; tmpfs (shmem) files; clean page cache from reads of
// a file or block device; and free pages that still hold old data (a block filled and
// unmapped, and a child process that filled memory and exited).
//
// Built static on the host (gcc -static -O2), run by the guest's /init. Sizes are percentages
// of MemTotal (which already excludes the crashkernel reservation); every step is also capped
// by what /proc/meminfo says is left, minus a reserve, so the guest never runs out of memory.
//
// usage: memfill [--anon PCT] [--tmpfs PCT] [--cache PCT] [--freed PCT] [--tmpfs-dir DIR]
//                [--read PATH]... [--seed N] [--reserve-mb N] [--keep]
// --read: a file, block device or directory tree to read into the page cache (up to 16).
// --keep: the anonymous memory stays alive in a background process; memfill returns once the
// fill is done. Prints one line: "KK_MEMFILL anon_mb=.. tmpfs_mb=.. cache_mb=.. freed_mb=..".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void) {  // xorshift64*: cheap under TCG, good enough for test data
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static void die(const char *what) {
    fprintf(stderr, "memfill: %s: %s\n", what, strerror(errno));
    exit(1);
}

// meminfo_kb("MemFree"): a /proc/meminfo field in KiB, 0 if absent.
static unsigned long meminfo_kb(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) die("/proc/meminfo");
    char line[256];
    unsigned long v = 0;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, n) == 0 && line[n] == ':') {
            v = strtoul(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

// Page kinds and how often each appears; a run of 1-16 pages shares a kind, as real heaps do.
enum kind { K_TEXT, K_RANDOM, K_ZERO, K_STRUCT };
struct mix { unsigned text, random, zero, strct; };
static const struct mix anon_mix = {35, 25, 20, 20};
static const struct mix file_mix = {50, 30, 10, 10};
static const struct mix dirty_mix = {40, 30, 0, 30};  // freed memory: never all-zero pages

static char corpus[64 * 1024];  // text-like data: words, spaces, newlines, some numbers

static void build_corpus(void) {
    static const char *words[] = {
        "the", "kernel", "page", "memory", "dump", "crash", "of", "and", "to", "in", "is",
        "filter", "compressed", "virtual", "address", "struct", "return", "error", "static",
        "if", "else", "for", "while", "int", "unsigned", "long", "const", "char", "void",
        "mapping", "buffer", "offset", "size", "count", "table", "entry", "node", "zone",
        "INFO:", "WARN:", "debug", "request", "completed", "user", "session", "timeout"};
    const size_t nw = sizeof words / sizeof words[0];
    size_t pos = 0;
    while (pos < sizeof corpus) {
        char tmp[32];
        int len;
        uint64_t r = rng();
        if (r % 13 == 0)
            len = snprintf(tmp, sizeof tmp, "%lu", (unsigned long)(r >> 40));
        else
            len = snprintf(tmp, sizeof tmp, "%s", words[(r >> 8) % nw]);
        tmp[len++] = (r >> 20) % 11 == 0 ? '\n' : ' ';
        for (int i = 0; i < len && pos < sizeof corpus; i++) corpus[pos++] = tmp[i];
    }
}

static void fill_page(unsigned char *p, enum kind k, uint64_t serial) {
    switch (k) {
    case K_TEXT: {
        size_t off = rng() % (sizeof corpus - PAGE);
        memcpy(p, corpus + off, PAGE);
        memcpy(p + (rng() % (PAGE - 8)), &serial, 8);  // no two pages identical
        break;
    }
    case K_RANDOM: {
        uint64_t *q = (uint64_t *)p;
        for (size_t i = 0; i < PAGE / 8; i++) q[i] = rng();
        break;
    }
    case K_ZERO:
        p[0] = 0;  // fault it in: a real, zero-filled page (makedumpfile -d 1 drops these)
        break;
    case K_STRUCT: {  // 64-byte records: pointers, small counters, flags, padding
        uint64_t base = 0xffff888000000000ULL + ((rng() & 0xfffffULL) << 12);
        uint64_t *q = (uint64_t *)p;
        for (size_t i = 0; i < PAGE / 8; i += 8) {
            q[i] = base + i * 8;
            q[i + 1] = base + ((rng() & 0xff) << 6);
            q[i + 2] = serial + i;
            q[i + 3] = rng() & 0xffff;
            q[i + 4] = 0x100000001ULL;
            q[i + 5] = 0;
            q[i + 6] = 0;
            q[i + 7] = i & 1 ? 0xdeadbeefULL : 0;
        }
        break;
    }
    }
}

static enum kind pick(const struct mix *m) {
    unsigned total = m->text + m->random + m->zero + m->strct, r = rng() % total;
    if (r < m->text) return K_TEXT;
    if ((r -= m->text) < m->random) return K_RANDOM;
    if ((r -= m->random) < m->zero) return K_ZERO;
    return K_STRUCT;
}

static uint64_t serial_no;

// fill: len bytes (a multiple of PAGE) at p, in runs of 1-16 pages of one kind.
static void fill(unsigned char *p, size_t len, const struct mix *m) {
    size_t n = len / PAGE, i = 0;
    while (i < n) {
        enum kind k = pick(m);
        size_t run = 1 + rng() % 16;
        for (; run && i < n; run--, i++) fill_page(p + i * PAGE, k, serial_no++);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t reserve_bytes;

// room: bytes a step may still take, given a MemAvailable-like field minus the reserve.
static size_t room(const char *field) {
    size_t have = meminfo_kb(field) * 1024UL;
    return have > reserve_bytes ? (have - reserve_bytes) & ~(PAGE - 1) : 0;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

// Anonymous memory that stays mapped: big malloc blocks (mmap'd by glibc) plus a brk heap of
// small objects, about a tenth of the total.
static size_t fill_anon(size_t want) {
    size_t done = 0, small_goal = want / 10;
    while (done < small_goal) {
        size_t sz = 64 + rng() % 4032;
        unsigned char *p = malloc(sz);
        if (!p) die("malloc");
        for (size_t i = 0; i < sz; i++) p[i] = corpus[(done + i) % sizeof corpus];
        done += sz;
    }
    while (done + PAGE <= want) {
        size_t sz = min_sz(want - done, (1 + rng() % 8) * MIB) & ~(PAGE - 1);
        unsigned char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap anon");
        fill(p, sz, &anon_mix);
        done += sz;
    }
    return done;
}

// tmpfs files of 1-8 MiB each.
static size_t fill_tmpfs(const char *dir, size_t want) {
    size_t done = 0;
    unsigned char *buf = malloc(8 * MIB);
    if (!buf) die("malloc");
    for (int n = 0; done + PAGE <= want; n++) {
        size_t sz = min_sz(want - done, (1 + rng() % 8) * MIB) & ~(PAGE - 1);
        char path[4096];
        snprintf(path, sizeof path, "%s/file%04d.dat", dir, n);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die(path);
        fill(buf, sz, &file_mix);
        for (size_t off = 0; off < sz;) {
            ssize_t w = write(fd, buf + off, sz - off);
            if (w <= 0) die("write tmpfs");
            off += (size_t)w;
        }
        close(fd);
        done += sz;
    }
    free(buf);
    return done;
}

// Page cache: read files, block devices or whole directory trees. Each path gets an equal
// share of what is left of the budget.
static size_t cache_left, cache_done;

static void read_file(const char *path) {
    static unsigned char buf[MIB];
    int fd = open(path, O_RDONLY);
    if (fd < 0) die(path);
    ssize_t r = 0;
    while (cache_left && (r = read(fd, buf, min_sz(sizeof buf, cache_left))) > 0) {
        cache_left -= (size_t)r;
        cache_done += (size_t)r;
    }
    if (r < 0) die(path);
    // The kernel drops a block device's page cache when its last opener closes it, so a device
    // stays open for as long as we run.
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) return;
    close(fd);
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)ftw;
    if (type == FTW_F && S_ISREG(st->st_mode)) read_file(path);
    return cache_left == 0;  // nonzero stops the walk
}

static size_t fill_cache(char **paths, int npaths, size_t want) {
    for (int i = 0; i < npaths && cache_done < want; i++) {
        cache_left = (want - cache_done) / (size_t)(npaths - i);
        struct stat st;
        if (stat(paths[i], &st) != 0) die(paths[i]);
        if (S_ISDIR(st.st_mode)) {
            if (nftw(paths[i], walk_one, 16, FTW_PHYS) < 0) die(paths[i]);
        } else {
            read_file(paths[i]);
        }
    }
    return cache_done;
}

// Memory that is filled and then given back: the pages go back to the buddy allocator with
// their contents intact (the kernel has init_on_alloc, not init_on_free).
static void fill_and_unmap(size_t sz) {
    if (sz < PAGE) return;
    unsigned char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap freed");
    fill(p, sz, &dirty_mix);
    if (munmap(p, sz) != 0) die("munmap");
}

static unsigned long parse_num(const char *s) {
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*s == '\0' || *end != '\0') {
        fprintf(stderr, "memfill: bad number %s\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    unsigned long pct_anon = 25, pct_tmpfs = 15, pct_cache = 10, pct_freed = 25;
    unsigned long reserve_mb = 0;
    const char *tmpfs_dir = NULL;
    char *reads[16];
    int nreads = 0, keep = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--keep") == 0) { keep = 1; continue; }
        if (!v) { fprintf(stderr, "memfill: %s needs a value\n", a); return 2; }
        i++;
        if (strcmp(a, "--anon") == 0) pct_anon = parse_num(v);
        else if (strcmp(a, "--tmpfs") == 0) pct_tmpfs = parse_num(v);
        else if (strcmp(a, "--cache") == 0) pct_cache = parse_num(v);
        else if (strcmp(a, "--freed") == 0) pct_freed = parse_num(v);
        else if (strcmp(a, "--seed") == 0) rng_state ^= parse_num(v) * 0x9e3779b97f4a7c15ULL;
        else if (strcmp(a, "--reserve-mb") == 0) reserve_mb = parse_num(v);
        else if (strcmp(a, "--tmpfs-dir") == 0) tmpfs_dir = v;
        else if (strcmp(a, "--read") == 0 && nreads < 16) reads[nreads++] = (char *)v;
        else { fprintf(stderr, "memfill: unknown option %s\n", a); return 2; }
    }
    if (rng_state == 0) rng_state = 1;
    size_t total = meminfo_kb("MemTotal") * 1024UL;
    // Reserve: at least 24 MiB or 6% of RAM stays free for the kernel, kexec and /init.
    reserve_bytes = reserve_mb ? reserve_mb * MIB : total * 6 / 100;
    if (reserve_bytes < 24 * MIB) reserve_bytes = 24 * MIB;

    // --keep: the worker owns the memory and lives on; we wait until it says "filled".
    int ready[2] = {-1, -1};
    if (keep) {
        if (pipe(ready) != 0) die("pipe");
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid > 0) {
            close(ready[1]);
            char line[512];
            ssize_t n = read(ready[0], line, sizeof line - 1);
            if (n <= 0) { fprintf(stderr, "memfill: worker failed\n"); return 1; }
            line[n] = '\0';
            fputs(line, stdout);
            return 0;
        }
        close(ready[0]);
        setsid();
    }

    double t0 = now();
    build_corpus();
    size_t anon = fill_anon(min_sz(total / 100 * pct_anon, room("MemAvailable")));
    size_t tmpfs = 0;
    if (tmpfs_dir) tmpfs = fill_tmpfs(tmpfs_dir, min_sz(total / 100 * pct_tmpfs, room("MemAvailable")));
    size_t cache = fill_cache(reads, nreads, min_sz(total / 100 * pct_cache, room("MemAvailable")));
    // Freed last, and only from free memory, so nothing evicts the cache or reuses these pages.
    size_t freed_goal = min_sz(total / 100 * pct_freed, room("MemFree"));
    size_t freed_child = freed_goal * 2 / 5 & ~(PAGE - 1);
    fill_and_unmap(freed_goal - freed_child);
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        fill_and_unmap(freed_child);  // and the exit frees the rest of the child too
        _exit(0);
    }
    int st;
    if (waitpid(child, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "memfill: child failed\n");
        return 1;
    }

    char line[512];
    snprintf(line, sizeof line,
             "KK_MEMFILL total_mb=%zu anon_mb=%zu tmpfs_mb=%zu cache_mb=%zu freed_mb=%zu "
             "free_mb=%lu secs=%.1f\n",
             total / MIB, anon / MIB, tmpfs / MIB, cache / MIB, freed_goal / MIB,
             meminfo_kb("MemFree") / 1024, now() - t0);
    if (!keep) {
        fputs(line, stdout);
        return 0;
    }
    if (write(ready[1], line, strlen(line)) < 0) die("write");
    close(ready[1]);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
    for (;;) pause();  // keep the anonymous memory mapped until the guest panics
}
