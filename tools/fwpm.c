/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpm.c - the command line for the host engine: its sessions and metrics.
 */
#include "host_client.h"
#include "host_mode.h"

#include <fwpm_linux.h>

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

static const char usage[] =
    "Usage: fwpm [--engine unix:PATH] COMMAND [OPTIONS]\n"
    "Inspects the fwpm host engine (fwpmd).\n"
    "\n"
    "Commands:\n"
    "  sessions [--json] [--watch]  every session open on the host engine: key, PID,\n"
    "                               user, flags, name, description (needs root or the\n"
    "                               daemon's enumeration group); --json: one JSON array;\n"
    "                               --watch: redraw every second until interrupted\n"
    "  metrics                      the daemon's metrics, Prometheus text format\n"
    "\n"
    "Options:\n"
    "  --engine unix:PATH  the daemon's socket (default: FWPM_ENGINE if it names a\n"
    "                      host engine, else " HOST_MODE_DEFAULT_SOCKET ")\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n";

/* Writes a wide string as UTF-8 (JSON-escaped when json). */
static void put_wide(const wchar_t *s, bool json)
{
    if (s == NULL)
        return;
    for (; *s != 0; s++) {
        wchar_t c = *s;
        if (json && (c == L'"' || c == L'\\')) {
            printf("\\%c", (char)c);
        } else if (json && c < 0x20) {
            printf("\\u%04x", (unsigned)c);
        } else if (c < 0x80) {
            putchar((int)c);
        } else {
            char mb[8];
            int n = wctomb(mb, c);
            if (n > 0)
                fwrite(mb, 1, (size_t)n, stdout);
            else
                putchar('?');
        }
    }
}

static void put_key(const GUID *g)
{
    printf("%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->Data1, g->Data2, g->Data3,
           g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5],
           g->Data4[6], g->Data4[7]);
}

static void print_table(FWPM_SESSION0 **e, UINT32 n)
{
    printf("%-36s %8s %-12s %-8s %-24s %s\n", "KEY", "PID", "USER", "FLAGS", "NAME", "DESCRIPTION");
    for (UINT32 i = 0; i < n; i++) {
        put_key(&e[i]->sessionKey);
        printf(" %8u %-12ls %-8s ", e[i]->processId, e[i]->username,
               e[i]->flags & FWPM_SESSION_FLAG_DYNAMIC ? "dynamic" : "-");
        printf("%-24ls ", e[i]->displayData.name != NULL ? e[i]->displayData.name : L"");
        put_wide(e[i]->displayData.description, false);
        putchar('\n');
    }
}

static void print_json(FWPM_SESSION0 **e, UINT32 n)
{
    putchar('[');
    for (UINT32 i = 0; i < n; i++) {
        printf("%s{\"key\":\"", i == 0 ? "" : ",");
        put_key(&e[i]->sessionKey);
        printf("\",\"pid\":%u,\"user\":\"", e[i]->processId);
        put_wide(e[i]->username, true);
        printf("\",\"flags\":%u,\"name\":", e[i]->flags);
        if (e[i]->displayData.name == NULL)
            printf("null");
        else {
            putchar('"');
            put_wide(e[i]->displayData.name, true);
            putchar('"');
        }
        printf(",\"description\":");
        if (e[i]->displayData.description == NULL)
            printf("null");
        else {
            putchar('"');
            put_wide(e[i]->displayData.description, true);
            putchar('"');
        }
        putchar('}');
    }
    printf("]\n");
}

/* One listing through a session of our own (shown too: it is open). */
static int list_sessions(bool json)
{
    FWPM_SESSION0 me = {.displayData = {.name = L"fwpm sessions"}};
    HANDLE engine, e;
    DWORD r = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, &me, &engine);
    if (r == ERROR_SUCCESS) {
        r = FwpmSessionCreateEnumHandle0(engine, NULL, &e);
        if (r == ERROR_SUCCESS) {
            FWPM_SESSION0 **entries = NULL;
            UINT32 n = 0;
            r = FwpmSessionEnum0(engine, e, INFINITE, &entries, &n);
            if (r == ERROR_SUCCESS) {
                if (json)
                    print_json(entries, n);
                else
                    print_table(entries, n);
                FwpmFreeMemory0((void **)&entries);
            }
            FwpmSessionDestroyEnumHandle0(engine, e);
        }
        FwpmEngineClose0(engine);
    }
    if (r != ERROR_SUCCESS) {
        fprintf(stderr, "fwpm: %s\n", fwpm_strerror(r));
        return 1;
    }
    fflush(stdout);
    return 0;
}

static int sessions(int argc, char **argv)
{
    bool json = false, watch = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--watch") == 0)
            watch = true;
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!watch)
        return list_sessions(json);
    for (;;) {
        if (!json)
            fputs("\033[H\033[2J", stdout);
        if (list_sessions(json) != 0)
            return 1;
        sleep(1);
    }
}

static int metrics(void)
{
    char *text = NULL;
    DWORD r = host_client_metrics(&text);
    if (r != ERROR_SUCCESS) {
        fprintf(stderr, "fwpm: %s\n", fwpm_strerror(r));
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"engine", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    setlocale(LC_CTYPE, "");
    const char *engine = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "+e:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'e':
            engine = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            printf("fwpm %s\n", FWPM_VERSION);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (engine != NULL) {
        if (strncmp(engine, "unix:", 5) != 0) {
            fprintf(stderr, "fwpm: --engine takes unix:PATH\n");
            return 2;
        }
        host_mode_force_host(engine + 5);
    } else if (!host_mode_is_host()) {
        host_mode_force_host(HOST_MODE_DEFAULT_SOCKET);
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    const char *command = argv[optind];
    if (strcmp(command, "sessions") == 0)
        return sessions(argc - optind - 1, argv + optind + 1);
    if (strcmp(command, "metrics") == 0 && optind + 1 == argc)
        return metrics();
    fputs(usage, stderr);
    return 2;
}
