/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * checker.c - the invariants of checker.h.
 */
#include "checker.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- the violation log ---------------------------------------------------- */

void violations_init(struct violations *v)
{
    v->count = 0;
    v->kept = 0;
}

static void add(struct violations *v, uint64_t n, const char *format, va_list args)
{
    v->count += n;
    if (v->kept >= CHECKER_KEEP)
        return;
    vsnprintf(v->text[v->kept], CHECKER_TEXT, format, args);
    v->kept++;
}

void violations_add(struct violations *v, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    add(v, 1, format, args);
    va_end(args);
}

void violations_add_n(struct violations *v, uint64_t n, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    add(v, n, format, args);
    va_end(args);
}

void violations_merge(struct violations *into, const struct violations *from)
{
    into->count += from->count;
    for (unsigned i = 0; i < from->kept && into->kept < CHECKER_KEEP; i++)
        memcpy(into->text[into->kept++], from->text[i], CHECKER_TEXT);
}

/* ---- the world --------------------------------------------------------------- */

/* Short: every entry's strings are read by the checker, and cache lines
 * touched per entry are most of its cost. */
static const wchar_t writer_description[] = L"chain";
static const wchar_t standing_description[] = L"standing";

#define WRITER_KEY_DATA1 0x46575354u /* "FWST" */
#define WRITER_KEY_DATA3 0x5354u
#define STANDING_TIMEOUT_BASE 100000u

static GUID writer_key(unsigned writer, uint64_t generation)
{
    GUID key = {.Data1 = WRITER_KEY_DATA1, .Data2 = (uint16_t)writer, .Data3 = WRITER_KEY_DATA3};
    for (int i = 0; i < 8; i++)
        key.Data4[i] = (uint8_t)(generation >> (56 - 8 * i));
    return key;
}

static UINT32 writer_timeout(uint64_t generation)
{
    return (UINT32)(generation % 1000u) + 1u;
}

/* Writes prefix, then n in decimal, at out; returns the end (NUL-terminated).
 * swprintf would do, at ten times the cost on every open. */
static wchar_t *put_number(wchar_t *out, const wchar_t *prefix, uint64_t n)
{
    while (*prefix != 0)
        *out++ = *prefix++;
    wchar_t digits[20];
    int count = 0;
    do {
        digits[count++] = (wchar_t)(L'0' + n % 10u);
        n /= 10u;
    } while (n != 0);
    while (count > 0)
        *out++ = digits[--count];
    *out = 0;
    return out;
}

/* wcscmp for the short strings here, without a library call per string. */
static bool wide_equal(const wchar_t *a, const wchar_t *b)
{
    for (; *a == *b; a++, b++)
        if (*a == 0)
            return true;
    return false;
}

wchar_t *checker_account_name(uid_t uid)
{
    struct passwd pw, *found = NULL;
    char buffer[4096];
    char digits[16];
    const char *name = digits;
    snprintf(digits, sizeof(digits), "%u", (unsigned)uid);
    if (getpwuid_r(uid, &pw, buffer, sizeof(buffer), &found) == 0 && found != NULL &&
        found->pw_name != NULL && found->pw_name[0] != 0)
        name = found->pw_name;
    size_t n = mbstowcs(NULL, name, 0);
    if (n == (size_t)-1) {
        name = digits;
        n = strlen(digits);
    }
    wchar_t *wide = calloc(n + 1, sizeof(wchar_t));
    if (wide != NULL)
        mbstowcs(wide, name, n + 1);
    return wide;
}

void checker_writer_session(FWPM_SESSION0 *s, wchar_t name[CHECKER_NAME_MAX], unsigned writer,
                            uint64_t generation)
{
    memset(s, 0, sizeof(*s));
    put_number(put_number(name, L"w", writer), L"/g", generation);
    s->sessionKey = writer_key(writer, generation);
    s->displayData.name = name;
    s->displayData.description = (wchar_t *)writer_description;
    s->flags = FWPM_SESSION_FLAG_DYNAMIC;
    s->txnWaitTimeoutInMSec = writer_timeout(generation);
}

void checker_standing_session(FWPM_SESSION0 *s, wchar_t name[CHECKER_NAME_MAX], unsigned index)
{
    memset(s, 0, sizeof(*s));
    put_number(name, L"p", index);
    s->displayData.name = name;
    s->displayData.description = (wchar_t *)standing_description;
    s->txnWaitTimeoutInMSec = STANDING_TIMEOUT_BASE + index;
}

/* Reads a decimal number at *p (no sign, no leading zeros beyond "0"). */
static bool parse_number(const wchar_t **p, uint64_t *out)
{
    const wchar_t *s = *p;
    if (*s < L'0' || *s > L'9' || (s[0] == L'0' && s[1] >= L'0' && s[1] <= L'9'))
        return false;
    uint64_t n = 0;
    for (; *s >= L'0' && *s <= L'9'; s++) {
        if (n > (UINT64_MAX - 9u) / 10u)
            return false;
        n = n * 10u + (uint64_t)(*s - L'0');
    }
    *p = s;
    *out = n;
    return true;
}

/* "w<w>/g<g>" or "p<i>"; kind ENTRY_BAD when it is neither. */
static struct entry_id parse_name(const wchar_t *name)
{
    struct entry_id id = {.kind = ENTRY_BAD};
    uint64_t a, b;
    const wchar_t *p = name + 1;
    if (name[0] == L'w' && parse_number(&p, &a) && p[0] == L'/' && p[1] == L'g') {
        p += 2;
        if (parse_number(&p, &b) && *p == 0 && a <= UINT16_MAX) {
            id.kind = ENTRY_WRITER;
            id.index = (unsigned)a;
            id.generation = b;
        }
    } else if (name[0] == L'p' && parse_number(&p, &a) && *p == 0 && a <= UINT32_MAX) {
        id.kind = ENTRY_STANDING;
        id.index = (unsigned)a;
    }
    return id;
}

static bool is_generated_key(const GUID *key)
{
    return (key->Data3 & 0xF000u) == 0x4000u && (key->Data4[0] & 0xC0u) == 0x80u;
}

/* A short printable form of a wide string for descriptions. */
static const char *narrow(const wchar_t *s, char *buffer, size_t size)
{
    if (s == NULL)
        return "(null)";
    size_t i = 0;
    for (; s[i] != 0 && i + 1 < size; i++)
        buffer[i] = s[i] >= 0x20 && s[i] < 0x7F ? (char)s[i] : '?';
    buffer[i] = 0;
    return buffer;
}

/* The parts every entry shares, whoever opened it. */
static bool check_identity(const struct checker_world *world, struct violations *v,
                           const char *label, const char *who, const FWPM_SESSION0 *e)
{
    bool ok = true;
    if (e->processId != world->pid) {
        violations_add(v, "%s: %s has processId %u, expected %u", label, who,
                       (unsigned)e->processId, (unsigned)world->pid);
        ok = false;
    }
    if (e->kernelMode != FALSE) {
        violations_add(v, "%s: %s has kernelMode %d", label, who, (int)e->kernelMode);
        ok = false;
    }
    if (e->username == NULL) {
        violations_add(v, "%s: %s has a NULL username", label, who);
        ok = false;
    } else if (!wide_equal(e->username, world->username)) {
        char got[64];
        violations_add(v, "%s: %s has username \"%s\"", label, who,
                       narrow(e->username, got, sizeof(got)));
        ok = false;
    }
    const SID *sid = e->sid;
    if (sid == NULL) {
        violations_add(v, "%s: %s has a NULL SID", label, who);
        return false;
    }
    static const BYTE unix_user_authority[6] = {0, 0, 0, 0, 0, 22};
    if (sid->Revision != 1 || sid->SubAuthorityCount != 2 ||
        memcmp(sid->IdentifierAuthority.Value, unix_user_authority, 6) != 0) {
        violations_add(v, "%s: %s has a malformed SID (revision %u, %u sub-authorities)", label,
                       who, (unsigned)sid->Revision, (unsigned)sid->SubAuthorityCount);
        return false;
    }
    /* SubAuthority is declared [1]: read the second one through the storage. */
    DWORD sub[2];
    memcpy(sub, (const unsigned char *)sid + offsetof(SID, SubAuthority), sizeof(sub));
    if (sub[0] != 1 || sub[1] != world->uid) {
        violations_add(v, "%s: %s has SID S-1-22-%u-%u, expected S-1-22-1-%u", label, who,
                       (unsigned)sub[0], (unsigned)sub[1], (unsigned)world->uid);
        ok = false;
    }
    return ok;
}

static bool check_writer(struct violations *v, const char *label, const char *who,
                         const FWPM_SESSION0 *e, const struct entry_id *id)
{
    bool ok = true;
    GUID key = writer_key(id->index, id->generation);
    if (memcmp(&e->sessionKey, &key, sizeof(key)) != 0) {
        violations_add(v, "%s: %s has the wrong session key", label, who);
        ok = false;
    }
    if (e->flags != FWPM_SESSION_FLAG_DYNAMIC ||
        e->txnWaitTimeoutInMSec != writer_timeout(id->generation)) {
        violations_add(v, "%s: %s has flags 0x%x, timeout %u", label, who, (unsigned)e->flags,
                       (unsigned)e->txnWaitTimeoutInMSec);
        ok = false;
    }
    if (e->displayData.description == NULL ||
        !wide_equal(e->displayData.description, writer_description)) {
        violations_add(v, "%s: %s has the wrong description", label, who);
        ok = false;
    }
    return ok;
}

static bool check_standing(const struct checker_world *world, struct violations *v,
                           const char *label, const char *who, const FWPM_SESSION0 *e,
                           const struct entry_id *id)
{
    bool ok = true;
    if (id->index >= world->standing) {
        violations_add(v, "%s: unknown session %s", label, who);
        return false;
    }
    if (!is_generated_key(&e->sessionKey)) {
        violations_add(v, "%s: %s has a key that is not a generated version-4 GUID", label, who);
        ok = false;
    }
    if (e->flags != 0 || e->txnWaitTimeoutInMSec != STANDING_TIMEOUT_BASE + id->index) {
        violations_add(v, "%s: %s has flags 0x%x, timeout %u", label, who, (unsigned)e->flags,
                       (unsigned)e->txnWaitTimeoutInMSec);
        ok = false;
    }
    if (e->displayData.description == NULL ||
        !wide_equal(e->displayData.description, standing_description)) {
        violations_add(v, "%s: %s has the wrong description", label, who);
        ok = false;
    }
    return ok;
}

static bool check_anonymous(struct violations *v, const char *label, const FWPM_SESSION0 *e)
{
    if (e->displayData.description != NULL || e->flags != 0 || e->txnWaitTimeoutInMSec != 0 ||
        !is_generated_key(&e->sessionKey)) {
        violations_add(v,
                       "%s: an anonymous session has a description, flags, a timeout or a "
                       "key that is not generated",
                       label);
        return false;
    }
    return true;
}

struct entry_id checker_entry(const struct checker_world *world, struct violations *v,
                              const char *label, const FWPM_SESSION0 *e)
{
    struct entry_id bad = {.kind = ENTRY_BAD};
    if (e == NULL) {
        violations_add(v, "%s: a NULL entry", label);
        return bad;
    }
    char who[CHECKER_NAME_MAX + 2];
    const wchar_t *name = e->displayData.name;
    struct entry_id id;
    if (name == NULL) {
        snprintf(who, sizeof(who), "an anonymous session");
        id.kind = ENTRY_ANONYMOUS;
        id.index = 0;
        id.generation = 0;
    } else {
        /* Bounded: a torn or dangling string must not run away. */
        if (wcsnlen(name, CHECKER_NAME_MAX) >= CHECKER_NAME_MAX) {
            violations_add(v, "%s: a session name longer than any fwpm-stress opens", label);
            return bad;
        }
        narrow(name, who, sizeof(who));
        id = parse_name(name);
        if (id.kind == ENTRY_BAD) {
            violations_add(v, "%s: unknown session \"%s\"", label, who);
            return bad;
        }
    }
    bool ok = check_identity(world, v, label, who, e);
    if (id.kind == ENTRY_WRITER)
        ok = check_writer(v, label, who, e, &id) && ok;
    else if (id.kind == ENTRY_STANDING)
        ok = check_standing(world, v, label, who, e, &id) && ok;
    else
        ok = check_anonymous(v, label, e) && ok;
    return ok ? id : bad;
}

/* ---- one snapshot ----------------------------------------------------------- */

bool snapshot_check_init(struct snapshot_check *c, const struct checker_world *world)
{
    memset(c, 0, sizeof(*c));
    c->world = world;
    /* calloc(0) may return NULL: allocate at least one element. */
    c->writer_seen = calloc(world->writers + 1u, sizeof(*c->writer_seen));
    c->writer_generations = calloc(world->writers + 1u, sizeof(*c->writer_generations));
    c->standing_seen = calloc(world->standing + 1u, sizeof(*c->standing_seen));
    if (c->writer_seen == NULL || c->writer_generations == NULL || c->standing_seen == NULL) {
        snapshot_check_destroy(c);
        return false;
    }
    return true;
}

void snapshot_check_destroy(struct snapshot_check *c)
{
    free(c->writer_seen);
    free(c->writer_generations);
    free(c->standing_seen);
    c->writer_seen = NULL;
    c->writer_generations = NULL;
    c->standing_seen = NULL;
}

void snapshot_check_begin(struct snapshot_check *c, const char *label)
{
    snprintf(c->label, sizeof(c->label), "%s", label);
    c->entries = 0;
    c->anonymous_seen = 0;
    memset(c->writer_seen, 0, c->world->writers * sizeof(*c->writer_seen));
    memset(c->standing_seen, 0, c->world->standing * sizeof(*c->standing_seen));
}

void snapshot_check_entry(struct snapshot_check *c, struct violations *v,
                          const FWPM_SESSION0 *entry)
{
    c->entries++;
    struct entry_id id = checker_entry(c->world, v, c->label, entry);
    switch (id.kind) {
    case ENTRY_WRITER:
        if (id.index >= c->world->writers) {
            violations_add(v, "%s: session of writer %u, but there are only %u writers", c->label,
                           id.index, c->world->writers);
            break;
        }
        for (uint32_t i = 0; i < c->writer_seen[id.index] && i < 3; i++) {
            if (c->writer_generations[id.index][i] == id.generation) {
                violations_add(v, "%s: w%u/g%llu delivered twice", c->label, id.index,
                               (unsigned long long)id.generation);
                return;
            }
        }
        if (c->writer_seen[id.index] < 3)
            c->writer_generations[id.index][c->writer_seen[id.index]] = id.generation;
        c->writer_seen[id.index]++;
        break;
    case ENTRY_STANDING:
        if (++c->standing_seen[id.index] == 2)
            violations_add(v, "%s: p%u delivered twice", c->label, id.index);
        break;
    case ENTRY_ANONYMOUS:
        c->anonymous_seen++;
        break;
    case ENTRY_BAD:
        break;
    }
}

/* The writer's state in this snapshot, or false (and a report) when the
 * generations seen are not one or two consecutive ones. */
static bool writer_state(struct snapshot_check *c, struct violations *v, bool complete, unsigned w,
                         uint64_t *state)
{
    uint32_t seen = c->writer_seen[w];
    const uint64_t *g = c->writer_generations[w];
    if (seen == 0) {
        if (complete)
            violations_add(v, "%s: writer %u missing (none of its generations)", c->label, w);
        return false;
    }
    if (seen >= 3) {
        violations_add(v, "%s: writer %u shows %u generations (g%llu, g%llu, g%llu...)", c->label,
                       w, seen, (unsigned long long)g[0], (unsigned long long)g[1],
                       (unsigned long long)g[2]);
        return false;
    }
    if (seen == 1) {
        /* An abandoned page stream may have cut the pair: no state then. */
        *state = checker_state(g[0], false);
        return complete;
    }
    uint64_t low = g[0] < g[1] ? g[0] : g[1], high = g[0] < g[1] ? g[1] : g[0];
    if (high != low + 1) {
        violations_add(v, "%s: writer %u shows g%llu and g%llu, not consecutive", c->label, w,
                       (unsigned long long)low, (unsigned long long)high);
        return false;
    }
    *state = checker_state(low, true);
    return true;
}

void snapshot_check_end(struct snapshot_check *c, struct violations *v, bool complete,
                        const uint64_t *lo, const uint64_t *hi, uint64_t *last)
{
    const struct checker_world *world = c->world;
    for (unsigned w = 0; w < world->writers; w++) {
        uint64_t state;
        if (!writer_state(c, v, complete, w, &state))
            continue;
        if (lo != NULL && state < lo[w])
            violations_add(v,
                           "%s: writer %u at state %llu, but it had completed state %llu "
                           "before the snapshot was requested",
                           c->label, w, (unsigned long long)state, (unsigned long long)lo[w]);
        if (hi != NULL && state > hi[w])
            violations_add(v,
                           "%s: writer %u at state %llu, but it had started no later than "
                           "state %llu when the snapshot was returned",
                           c->label, w, (unsigned long long)state, (unsigned long long)hi[w]);
        if (last != NULL) {
            if (state < last[w])
                violations_add(v,
                               "%s: writer %u went back from state %llu to %llu since this "
                               "observer's previous snapshot",
                               c->label, w, (unsigned long long)last[w], (unsigned long long)state);
            else
                last[w] = state;
        }
    }
    if (!complete)
        return;
    unsigned missing = 0, first_missing = 0;
    for (unsigned i = 0; i < world->standing; i++) {
        if (c->standing_seen[i] == 0) {
            if (missing++ == 0)
                first_missing = i;
        }
    }
    /* Each missing session is a breach; one description names the first. */
    if (missing > 0)
        violations_add_n(v, missing, "%s: %u standing session(s) missing, the first p%u", c->label,
                         missing, first_missing);
    if (c->anonymous_seen != world->anonymous)
        violations_add(v, "%s: %llu anonymous sessions, expected %u", c->label,
                       (unsigned long long)c->anonymous_seen, world->anonymous);
}

/* ---- pages -------------------------------------------------------------------- */

void page_stream_init(struct page_stream *p)
{
    p->exhausted = false;
    p->pages = 0;
    p->delivered = 0;
}

void checker_page(struct page_stream *p, struct violations *v, const char *label, UINT32 requested,
                  FWPM_SESSION0 *const *entries, UINT32 returned)
{
    p->pages++;
    p->delivered += returned;
    if (returned > requested)
        violations_add(v, "%s: page of %u entries for a request of %u", label, (unsigned)returned,
                       (unsigned)requested);
    if (returned == 0 && entries != NULL)
        violations_add(v, "%s: empty page with a non-NULL array", label);
    if (returned > 0 && entries == NULL)
        violations_add(v, "%s: page of %u entries with a NULL array", label, (unsigned)returned);
    if (p->exhausted && returned > 0)
        violations_add(v, "%s: %u entries after a short page ended the enumeration", label,
                       (unsigned)returned);
    if (returned < requested)
        p->exhausted = true;
}

/* ---- memory -------------------------------------------------------------------- */

void checker_memory(struct violations *v, const FWPM_MEMORY_STATS0 *baseline,
                    const FWPM_MEMORY_STATS0 *end)
{
    if (end->liveBytes != baseline->liveBytes || end->liveAllocations != baseline->liveAllocations)
        violations_add(v,
                       "memory: %llu bytes in %llu blocks after the run, %llu bytes in %llu "
                       "blocks before",
                       (unsigned long long)end->liveBytes, (unsigned long long)end->liveAllocations,
                       (unsigned long long)baseline->liveBytes,
                       (unsigned long long)baseline->liveAllocations);
    if (end->openSessions != baseline->openSessions)
        violations_add(v, "memory: %llu sessions open after the run, %llu before",
                       (unsigned long long)end->openSessions,
                       (unsigned long long)baseline->openSessions);
    if (end->liveSnapshots != baseline->liveSnapshots)
        violations_add(v, "memory: %llu snapshot versions live after the run, %llu before",
                       (unsigned long long)end->liveSnapshots,
                       (unsigned long long)baseline->liveSnapshots);
}
