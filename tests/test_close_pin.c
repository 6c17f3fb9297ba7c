/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_close_pin.c - a closing thread holds no section, so the winning
 * write pins the session record for it (session.h): the record is freed
 * exactly once, by whichever of the two ends last - its grace period
 * (session_free_deferred) or the closing thread (session_unpin_after_close).
 * Both orders are forced here on one thread, through the real retire and
 * reclaim paths; a close has to be preempted for the first to happen in a
 * run.
 */
#include "session.h"
#include "stress.h"

#include <wchar.h>

static const FWPM_SESSION0 named = {.displayData = {.name = L"pinned"}};

/* A new record, pinned as a winning close pins it; *bytes: its size. */
static struct session *pinned_record_new(UINT64 *bytes)
{
    struct session *s = NULL;
    DWORD status = session_create(&named, NULL, &s);
    STRESS_CHECK(status == ERROR_SUCCESS, "session_create: %s", fwpm_strerror(status));
    if (s != NULL) {
        *bytes = session_record_bytes(s);
        session_pin_for_close(s);
    }
    return s;
}

/* The record is still allocated (live memory holds at least its size
 * class), after `when`. */
static void expect_record_held(UINT64 baseline, UINT64 bytes, const char *when)
{
    UINT64 live = stress_live_bytes(); /* runs every callback whose grace period ended */
    STRESS_CHECK(live >= baseline + bytes, "%s: %llu bytes live, want the pinned record's %llu",
                 when, (unsigned long long)(live - baseline), (unsigned long long)bytes);
}

/* The grace period ends first: the callback leaves the record to the
 * closing thread, which can still read it and then frees it. */
static void grace_period_ends_first(UINT64 baseline)
{
    UINT64 bytes = 0;
    struct session *s = pinned_record_new(&bytes);
    if (s == NULL)
        return;
    session_retire(s);
    expect_record_held(baseline, bytes, "grace period first, its callback run");
    STRESS_CHECK(wcscmp(s->view.displayData.name, L"pinned") == 0,
                 "grace period first: the pinned record no longer reads its name");
    session_unpin_after_close(s); /* frees it */
    stress_expect_baseline(baseline);
}

/* The closing thread ends first: the unpin frees nothing, and the callback
 * frees the record after its grace period. */
static void closing_thread_ends_first(UINT64 baseline)
{
    UINT64 bytes = 0;
    struct session *s = pinned_record_new(&bytes);
    if (s == NULL)
        return;
    session_unpin_after_close(s);
    expect_record_held(baseline, bytes, "closing thread first, unpinned");
    session_retire(s);
    stress_expect_baseline(baseline); /* the callback freed it */
}

int main(void)
{
    UINT64 baseline = stress_baseline();
    grace_period_ends_first(baseline);
    closing_thread_ends_first(baseline);
    return stress_report("test_close_pin", 2);
}
