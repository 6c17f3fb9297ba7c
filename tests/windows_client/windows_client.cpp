/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * windows_client.cpp - session-management client code in the style of real
 * Windows WFP clients, built as C++17 with -Wall -Wextra -Werror -pedantic
 * against <fwpmu.h> alone and the shared library (contract §1, §1.3 "Windows base
 * names"). It uses only the version-independent names of fwpvi.h and the
 * Windows base names (INVALID_HANDLE_VALUE, ZeroMemory, PCWSTR, ...):
 *   - Engine: an RAII wrapper that opens a dynamic session with a display
 *     name and description and closes it in its destructor;
 *   - EnumerateSessions: a callback enumerator with the classic do/while
 *     page loop, ending on the first short page;
 *   - Enumerator<Create, Enum, Destroy>: a template over
 *     decltype(&::FwpmSessionCreateEnumHandle) and its siblings that keeps
 *     entry pointers, each page's array held by a PageOwner until it frees it.
 * It asserts what it sees: its own sessions with pid, name, description and
 * flags, every session exactly once, the number of pages a short page ends,
 * entries readable after their sessions closed, and ERROR_INVALID_HANDLE for
 * INVALID_HANDLE_VALUE. Exits non-zero on the first failed check.
 */
#include <fwpmu.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace
{

[[noreturn]] void Fail(const char *file, int line, const char *what)
{
    std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    std::exit(1);
}

#define CHECK(condition) ((condition) ? (void)0 : Fail(__FILE__, __LINE__, #condition))
#define CHECK_RESULT(call, expected)                                                               \
    do {                                                                                           \
        DWORD result_ = (call);                                                                    \
        if (result_ != (expected)) {                                                               \
            std::fprintf(stderr, "%s returned %#x, expected %#x\n", #call, (unsigned)result_,      \
                         (unsigned)(expected));                                                    \
            Fail(__FILE__, __LINE__, #call);                                                       \
        }                                                                                          \
    } while (0)

// The API's prototypes, as Windows declares them; decltype of the
// version-independent names must give exactly these.
using CreateEnumHandleFn = DWORD(WINAPI *)(HANDLE, const FWPM_SESSION_ENUM_TEMPLATE *, HANDLE *);
using SessionEnumFn = DWORD(WINAPI *)(HANDLE, HANDLE, UINT32, FWPM_SESSION ***, UINT32 *);
using DestroyEnumHandleFn = DWORD(WINAPI *)(HANDLE, HANDLE);
static_assert(std::is_same<decltype(&::FwpmSessionCreateEnumHandle), CreateEnumHandleFn>::value,
              "FwpmSessionCreateEnumHandle");
static_assert(std::is_same<decltype(&::FwpmSessionEnum), SessionEnumFn>::value, "FwpmSessionEnum");
static_assert(std::is_same<decltype(&::FwpmSessionDestroyEnumHandle), DestroyEnumHandleFn>::value,
              "FwpmSessionDestroyEnumHandle");
static_assert(std::is_same<decltype(&::FwpmEngineClose), DWORD(WINAPI *)(HANDLE)>::value,
              "FwpmEngineClose");
static_assert(std::is_same<decltype(&::FwpmFreeMemory), void(WINAPI *)(void **)>::value,
              "FwpmFreeMemory");
static_assert(std::is_same<FWPM_SESSION, FWPM_SESSION0>::value &&
                  std::is_same<FWPM_DISPLAY_DATA, FWPM_DISPLAY_DATA0>::value &&
                  std::is_same<FWPM_SESSION_ENUM_TEMPLATE, FWPM_SESSION_ENUM_TEMPLATE0>::value,
              "version-independent type names");

// A failed Win32 call, as wrappers of the API usually report it.
class Win32Error : public std::runtime_error
{
  public:
    Win32Error(const char *what, DWORD code) : std::runtime_error(what), code_(code) {}
    DWORD code() const
    {
        return code_;
    }

  private:
    DWORD code_;
};

// One dynamic session of the filter engine, open for the object's lifetime.
class Engine
{
  public:
    Engine(PCWSTR name, PCWSTR description, UINT32 extraFlags = 0)
    {
        FWPM_SESSION session;
        ZeroMemory(&session, sizeof(session));
        session.displayData.name = const_cast<PWSTR>(name);
        session.displayData.description = const_cast<PWSTR>(description);
        session.flags = FWPM_SESSION_FLAG_DYNAMIC | extraFlags;
        session.txnWaitTimeoutInMSec = INFINITE;
        DWORD result = FwpmEngineOpen(nullptr, RPC_C_AUTHN_WINNT, nullptr, &session, &handle_);
        if (result != ERROR_SUCCESS) {
            CHECK(handle_ == INVALID_HANDLE_VALUE); // a failed open leaves the handle alone
            throw Win32Error("FwpmEngineOpen", result);
        }
        CHECK(handle_ != INVALID_HANDLE_VALUE && handle_ != nullptr);
    }

    ~Engine()
    {
        if (handle_ != INVALID_HANDLE_VALUE)
            CHECK_RESULT(FwpmEngineClose(handle_), ERROR_SUCCESS);
    }

    Engine(Engine &&other) noexcept : handle_(std::exchange(other.handle_, INVALID_HANDLE_VALUE)) {}
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;
    Engine &operator=(Engine &&) = delete;

    HANDLE get() const
    {
        return handle_;
    }

  private:
    HANDLE handle_ = INVALID_HANDLE_VALUE;
};

using SessionCallback = std::function<void(const FWPM_SESSION &)>;

// Delivers every session of a fresh snapshot to callback, pageSize at a time;
// *pages counts the FwpmSessionEnum calls. Returns the first failure.
DWORD EnumerateSessions(HANDLE engine, UINT32 pageSize, const SessionCallback &callback,
                        size_t *pages)
{
    HANDLE enumHandle = INVALID_HANDLE_VALUE;
    DWORD result = FwpmSessionCreateEnumHandle(engine, nullptr, &enumHandle);
    if (result != ERROR_SUCCESS) {
        CHECK(enumHandle == INVALID_HANDLE_VALUE);
        return result;
    }
    *pages = 0;
    FWPM_SESSION **entries = nullptr;
    UINT32 numEntries = 0;
    do {
        result = FwpmSessionEnum(engine, enumHandle, pageSize, &entries, &numEntries);
        if (result != ERROR_SUCCESS)
            break;
        ++*pages;
        CHECK(numEntries <= pageSize);
        for (UINT32 i = 0; i < numEntries; ++i)
            callback(*entries[i]);
        FwpmFreeMemory((void **)&entries);
        CHECK(entries == nullptr);
    } while (numEntries == pageSize);
    DWORD destroyed = FwpmSessionDestroyEnumHandle(engine, enumHandle);
    return result != ERROR_SUCCESS ? result : destroyed;
}

// The argument types of an Enum function: DWORD (HANDLE, HANDLE, UINT32,
// Entry ***, UINT32 *).
template <typename EnumFn> struct EnumFunctionTraits;
template <typename Entry>
struct EnumFunctionTraits<DWORD(WINAPI *)(HANDLE, HANDLE, UINT32, Entry ***, UINT32 *)> {
    using EntryType = Entry;
};

// Owns one array an Enum function returned; frees it with FwpmFreeMemory.
template <typename Entry> class PageOwner
{
  public:
    PageOwner() = default;
    ~PageOwner()
    {
        reset();
    }
    PageOwner(PageOwner &&other) noexcept : entries_(std::exchange(other.entries_, nullptr)) {}
    PageOwner(const PageOwner &) = delete;
    PageOwner &operator=(const PageOwner &) = delete;
    PageOwner &operator=(PageOwner &&) = delete;

    // The out-parameter for the Enum call; the owner must be empty.
    Entry ***receive()
    {
        CHECK(entries_ == nullptr);
        return &entries_;
    }
    Entry *operator[](UINT32 i) const
    {
        return entries_[i];
    }
    bool empty() const
    {
        return entries_ == nullptr;
    }

    void reset()
    {
        if (entries_ != nullptr) {
            FwpmFreeMemory((void **)&entries_);
            CHECK(entries_ == nullptr);
        }
    }

  private:
    Entry **entries_ = nullptr;
};

// Collects the entries of one snapshot as pointers into the returned arrays;
// the pointers stay valid while the Enumerator (which owns the pages) lives,
// whatever happens to the enumeration handle or the sessions.
template <typename CreateFn, typename EnumFn, typename DestroyFn> class Enumerator
{
  public:
    using Entry = typename EnumFunctionTraits<EnumFn>::EntryType;

    Enumerator(CreateFn create, EnumFn enumerate, DestroyFn destroy)
        : create_(create), enumerate_(enumerate), destroy_(destroy)
    {
    }

    // Pages through a new enumeration handle of engine; the handle is
    // destroyed before returning, the pages are kept.
    DWORD Collect(HANDLE engine, UINT32 pageSize)
    {
        HANDLE enumHandle = INVALID_HANDLE_VALUE;
        DWORD result = create_(engine, nullptr, &enumHandle);
        if (result != ERROR_SUCCESS)
            return result;
        UINT32 numEntries = 0;
        do {
            PageOwner<Entry> page;
            result = enumerate_(engine, enumHandle, pageSize, page.receive(), &numEntries);
            if (result != ERROR_SUCCESS)
                break;
            for (UINT32 i = 0; i < numEntries; ++i)
                entries_.push_back(page[i]);
            if (!page.empty())
                pages_.push_back(std::move(page));
        } while (numEntries == pageSize);
        DWORD destroyed = destroy_(engine, enumHandle);
        return result != ERROR_SUCCESS ? result : destroyed;
    }

    const std::vector<const Entry *> &entries() const
    {
        return entries_;
    }
    size_t pages() const
    {
        return pages_.size();
    }

    // Frees every page; the entry pointers go with them.
    void Release()
    {
        entries_.clear();
        pages_.clear();
    }

  private:
    CreateFn create_;
    EnumFn enumerate_;
    DestroyFn destroy_;
    std::vector<PageOwner<Entry>> pages_;
    std::vector<const Entry *> entries_;
};

using SessionEnumerator =
    Enumerator<decltype(&::FwpmSessionCreateEnumHandle), decltype(&::FwpmSessionEnum),
               decltype(&::FwpmSessionDestroyEnumHandle)>;
static_assert(std::is_same<SessionEnumerator::Entry, FWPM_SESSION>::value, "entry type");

SessionEnumerator MakeSessionEnumerator()
{
    return SessionEnumerator(&::FwpmSessionCreateEnumHandle, &::FwpmSessionEnum,
                             &::FwpmSessionDestroyEnumHandle);
}

std::string KeyOf(const GUID &key)
{
    return std::string(reinterpret_cast<const char *>(&key), sizeof(key));
}

std::wstring Text(const wchar_t *s)
{
    return s != nullptr ? std::wstring(s) : std::wstring();
}

constexpr int kSessions = 6;

std::wstring NameOf(int i)
{
    return L"fwpm-windows-client-" + std::to_wstring(i);
}
std::wstring DescriptionOf(int i)
{
    return L"RAII engine number " + std::to_wstring(i);
}

// The session is one of ours, with what we opened it with and what the
// engine fills in.
void CheckOwnSession(const FWPM_SESSION &s, int i)
{
    CHECK(Text(s.displayData.name) == NameOf(i));
    CHECK(Text(s.displayData.description) == DescriptionOf(i));
    CHECK(s.flags == FWPM_SESSION_FLAG_DYNAMIC);
    CHECK(s.txnWaitTimeoutInMSec == INFINITE);
    CHECK(s.processId == static_cast<DWORD>(getpid()));
    CHECK(s.kernelMode == FALSE);
    CHECK(s.sid != nullptr && s.username != nullptr);
}

// Which of our sessions an entry is, or -1.
int OwnIndex(const FWPM_SESSION &s)
{
    for (int i = 0; i < kSessions; ++i)
        if (Text(s.displayData.name) == NameOf(i))
            return i;
    return -1;
}

// The number of Enum calls a do/while loop makes over n entries: it stops
// on the first short page, which is empty when pageSize divides n.
size_t ExpectedPages(size_t n, UINT32 pageSize)
{
    return n / pageSize + 1;
}

void CheckCallbackEnumerator(const std::vector<Engine> &engines)
{
    const UINT32 pageSizes[] = {1, 2, 3, 4, kSessions, kSessions + 1, 1000};
    for (UINT32 pageSize : pageSizes) {
        std::map<int, int> seen;
        std::set<std::string> keys;
        size_t delivered = 0;
        size_t pages = 0;
        CHECK_RESULT(EnumerateSessions(
                         engines[0].get(), pageSize,
                         [&](const FWPM_SESSION &s) {
                             ++delivered;
                             CHECK(keys.insert(KeyOf(s.sessionKey)).second); // exactly once
                             int i = OwnIndex(s);
                             CHECK(i >= 0); // the in-process engine holds only ours
                             CheckOwnSession(s, i);
                             ++seen[i];
                         },
                         &pages),
                     ERROR_SUCCESS);
        CHECK(delivered == kSessions);
        CHECK(seen.size() == kSessions);
        for (const auto &entry : seen)
            CHECK(entry.second == 1);
        CHECK(pages == ExpectedPages(kSessions, pageSize));
    }
}

void CheckTemplatedEnumerator(std::vector<Engine> &engines)
{
    SessionEnumerator enumerator = MakeSessionEnumerator();
    CHECK_RESULT(enumerator.Collect(engines[0].get(), 4), ERROR_SUCCESS);
    CHECK(enumerator.entries().size() == kSessions);
    CHECK(enumerator.pages() == 2); // 4 + 2: the short page ends it, nothing empty kept
    std::set<std::string> keys;
    for (const FWPM_SESSION *s : enumerator.entries()) {
        CHECK(keys.insert(KeyOf(s->sessionKey)).second);
        CHECK(OwnIndex(*s) >= 0);
    }

    // Close every session: the entries stay readable until their pages are
    // freed (ASan would report a read of freed memory).
    std::vector<std::wstring> namesBefore;
    for (const FWPM_SESSION *s : enumerator.entries())
        namesBefore.push_back(Text(s->displayData.name));
    engines.clear();
    size_t i = 0;
    for (const FWPM_SESSION *s : enumerator.entries()) {
        CHECK(Text(s->displayData.name) == namesBefore[i++]);
        CheckOwnSession(*s, OwnIndex(*s));
    }
    enumerator.Release();
    CHECK(enumerator.entries().empty() && enumerator.pages() == 0);

    // A fresh snapshot sees only what is open now.
    Engine last(L"fwpm-windows-client-last", nullptr);
    CHECK_RESULT(enumerator.Collect(last.get(), 1000), ERROR_SUCCESS);
    CHECK(enumerator.entries().size() == 1);
    CHECK(Text(enumerator.entries()[0]->displayData.name) == L"fwpm-windows-client-last");
    CHECK(enumerator.entries()[0]->displayData.description == nullptr);
}

void CheckInvalidHandleValue()
{
    Engine engine(L"fwpm-windows-client-bad-handles", L"INVALID_HANDLE_VALUE checks");
    HANDLE enumHandle = INVALID_HANDLE_VALUE;
    size_t pages = 0;
    CHECK_RESULT(EnumerateSessions(
                     INVALID_HANDLE_VALUE, 10, [](const FWPM_SESSION &) { CHECK(false); }, &pages),
                 ERROR_INVALID_HANDLE);
    SessionEnumerator enumerator = MakeSessionEnumerator();
    CHECK_RESULT(enumerator.Collect(INVALID_HANDLE_VALUE, 10), ERROR_INVALID_HANDLE);
    CHECK(enumerator.entries().empty());

    FWPM_SESSION **entries = nullptr;
    UINT32 numEntries = 0;
    CHECK_RESULT(FwpmSessionEnum(engine.get(), enumHandle, 10, &entries, &numEntries),
                 ERROR_INVALID_HANDLE);
    CHECK(entries == nullptr && numEntries == 0);
    CHECK_RESULT(FwpmSessionDestroyEnumHandle(engine.get(), enumHandle), ERROR_INVALID_HANDLE);
    CHECK_RESULT(FwpmEngineClose(INVALID_HANDLE_VALUE), ERROR_INVALID_HANDLE);

    // With a real enumeration handle, a bad engine handle is still just bad.
    CHECK_RESULT(FwpmSessionCreateEnumHandle(engine.get(), nullptr, &enumHandle), ERROR_SUCCESS);
    CHECK(enumHandle != INVALID_HANDLE_VALUE);
    CHECK_RESULT(FwpmSessionEnum(INVALID_HANDLE_VALUE, enumHandle, 10, &entries, &numEntries),
                 ERROR_INVALID_HANDLE);
    CHECK_RESULT(FwpmSessionDestroyEnumHandle(INVALID_HANDLE_VALUE, enumHandle),
                 ERROR_INVALID_HANDLE);
    CHECK_RESULT(FwpmSessionDestroyEnumHandle(engine.get(), enumHandle), ERROR_SUCCESS);

    // A failing Engine constructor throws with the code and leaves nothing open.
    try {
        Engine reserved(L"reserved flag", nullptr, FWPM_SESSION_FLAG_RESERVED);
        CHECK(false);
    } catch (const Win32Error &e) {
        CHECK(e.code() == FWP_E_INVALID_FLAGS);
    }
    SessionEnumerator after = MakeSessionEnumerator();
    CHECK_RESULT(after.Collect(engine.get(), 10), ERROR_SUCCESS);
    CHECK(after.entries().size() == 1);
}

} // namespace

int main()
{
    std::vector<Engine> engines;
    engines.reserve(kSessions);
    for (int i = 0; i < kSessions; ++i)
        engines.emplace_back(NameOf(i).c_str(), DescriptionOf(i).c_str());
    CheckCallbackEnumerator(engines);
    CheckTemplatedEnumerator(engines); // closes them all
    CheckInvalidHandleValue();
    std::puts("windows_client: ok");
    return 0;
}
