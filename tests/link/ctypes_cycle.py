#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A session cycle from Python ctypes, the way a language binding loads fwpm:
ctypes.CDLL (plain dlopen) with no environment settings, then open, create
an enumeration handle, page, free, destroy, close. Prints which allocator
serves the library, which must be the one expected.
Usage: /usr/bin/python3 ctypes_cycle.py PATH/libfwpm.so EXPECTED_ALLOCATOR"""
import ctypes
import sys

RPC_C_AUTHN_WINNT = 10
HANDLE = ctypes.c_void_p


def check(what, status):
    if status != 0:
        sys.exit(f"{what} failed ({status})")


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.fwpm_allocator_name.restype = ctypes.c_char_p
    lib.FwpmEngineOpen0.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p,
                                    ctypes.c_void_p, ctypes.POINTER(HANDLE)]
    lib.FwpmEngineClose0.argtypes = [HANDLE]
    lib.FwpmSessionCreateEnumHandle0.argtypes = [HANDLE, ctypes.c_void_p,
                                                 ctypes.POINTER(HANDLE)]
    lib.FwpmSessionEnum0.argtypes = [HANDLE, HANDLE, ctypes.c_uint32,
                                     ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.POINTER(ctypes.c_uint32)]
    lib.FwpmSessionDestroyEnumHandle0.argtypes = [HANDLE, HANDLE]
    lib.FwpmFreeMemory0.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.FwpmFreeMemory0.restype = None

    allocator = lib.fwpm_allocator_name().decode()
    print("allocator:", allocator)
    if allocator != sys.argv[2]:
        sys.exit(f"fwpm is served by {allocator}, not {sys.argv[2]}")
    engine, enum = HANDLE(), HANDLE()
    check("FwpmEngineOpen0",
          lib.FwpmEngineOpen0(None, RPC_C_AUTHN_WINNT, None, None, ctypes.byref(engine)))
    check("FwpmSessionCreateEnumHandle0",
          lib.FwpmSessionCreateEnumHandle0(engine, None, ctypes.byref(enum)))
    seen = 0
    while True:
        entries, n = ctypes.c_void_p(), ctypes.c_uint32()
        check("FwpmSessionEnum0", lib.FwpmSessionEnum0(engine, enum, 2, ctypes.byref(entries),
                                                       ctypes.byref(n)))
        seen += n.value
        lib.FwpmFreeMemory0(ctypes.byref(entries))
        if entries.value is not None:
            sys.exit("FwpmFreeMemory0 did not reset the pointer")
        if n.value == 0:
            break
    if seen == 0:
        sys.exit("the snapshot does not list the open session")
    check("FwpmSessionDestroyEnumHandle0", lib.FwpmSessionDestroyEnumHandle0(engine, enum))
    check("FwpmEngineClose0", lib.FwpmEngineClose0(engine))
    print(f"link_ctypes: 1 passed, 0 failed ({seen} session(s) listed)")


main()
