#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_corpus.py - writes the seed corpus of fwpm-fuzz (tests/fuzz/corpus).

Each seed is a short program in the input format that fwpm_fuzz.c decodes;
the helpers below mirror its decoder. Run from anywhere:
    python3 tests/fuzz/make_corpus.py
"""
import os
import struct

OPEN, CLOSE, CREATE, PAGE, DESTROY, FREE, VERIFY, RECLAIM, OPEN_MANY, CLOSE_MANY = range(10)


def u16(v): return struct.pack('<H', v)
def u32(v): return struct.pack('<I', v)
def u64(v): return struct.pack('<Q', v)


def op(code, fault=None):
    """An operation byte; fault=n arms memory_fail_nth(1 + n % 16)."""
    return bytes([code]) if fault is None else bytes([0xC0 | code, fault])


# Strings -------------------------------------------------------------------
NULL_STR = b'\x00'
EMPTY_STR = b'\x80'


def short(text):
    """Up to 127 chars; ASCII as is, 0x80.. picks unusual wide chars."""
    data = text if isinstance(text, bytes) else text.encode('latin-1')
    assert 0 < len(data) < 0x80
    return bytes([len(data)]) + data


def raw_chars(values):
    """Chars given as 32-bit values (each encoded as 0xFF + u32)."""
    assert 0 < len(values) < 0x80
    return bytes([len(values)]) + b''.join(b'\xff' + u32(v) for v in values)


def near_limit(delta, pattern=0):
    """32767 + delta generated chars (delta in -15..16)."""
    return bytes([0x90 + delta, pattern])


def sized(length, pattern=0):
    return bytes([0xA1]) + u16(length) + (bytes([pattern]) if length else b'')


def million(pattern=0):
    return bytes([0xFF, pattern])


# Handles -------------------------------------------------------------------
def live(k=0): return bytes([0, k])        # a live handle of the expected kind
def stale(k=0): return bytes([4, k])       # closed / destroyed
def other_kind(k=0): return bytes([5, k])  # a live handle of the other kind
def garbage(v): return bytes([6, 0]) + u64(v)
def special(k): return bytes([7, 0, k]) + (b'\x05' if k % 6 in (4, 5) else b'')
def owner_or_live(k=0): return bytes([0, k])  # for page/destroy: the enum's owner
def any_live(k=0): return bytes([3, k])       # for page/destroy: any live engine


# Operations ----------------------------------------------------------------
def open_(server=False, authn=0, identity=False, null_session=False, null_out=False,
          key=None, flags=0, timeout=None, name=NULL_STR, desc=NULL_STR, fault=None,
          raw_authn=None):
    """key: None (zero), bytes (16), ('live', k) or ('closed', k).
    flags: 0 none, 1 DYNAMIC, ('raw', v), 'reserved', 'reserved+dynamic'."""
    key_mode, key_bytes = 0, b''
    if isinstance(key, bytes):
        key_mode, key_bytes = 1, key
    elif isinstance(key, tuple) and key[0] == 'live':
        key_mode, key_bytes = 2, u16(key[1])
    elif isinstance(key, tuple):
        key_mode, key_bytes = 3, bytes([key[1]])
    if raw_authn is not None:
        authn = 2
    mode = (server | authn << 1 | identity << 3 | null_session << 4 | null_out << 5
            | key_mode << 6)
    out = op(OPEN, fault) + bytes([mode])
    if authn == 2:
        out += u32(raw_authn)
    out += key_bytes
    if isinstance(flags, tuple):
        flags_mode, extra = 2, u32(flags[1])
    elif flags == 'reserved':
        flags_mode, extra = 3, b''
    elif flags == 'reserved+dynamic':
        flags_mode, extra = 3 | 4, b''
    else:
        flags_mode, extra = flags, b''
    if timeout is not None:
        flags_mode |= 8
    out += bytes([flags_mode]) + extra
    if timeout is not None:
        out += u32(timeout)
    return out + name + desc


def close(handle=None, fault=None):
    return op(CLOSE, fault) + (handle or live())


def create(engine=None, null_out=False, template=0, reserved=0, fault=None):
    """template: 0 NULL, 1 zero reserved, 2 reserved (u64, forced non-zero)."""
    out = op(CREATE, fault) + bytes([null_out | template << 1])
    if template == 2:
        out += u64(reserved)
    return out + (engine or live())


REQ = {'zero': 0, 'one': 1, 'byte': 2, 'infinite': 3, 'u32': 4, 'remaining': 5,
       'remaining+1': 6, 'half': 7}


def page(req='infinite', arg=None, enum=None, engine=None, null_entries=False,
         null_count=False, fault=None):
    out = op(PAGE, fault) + (enum or live()) + (engine or owner_or_live())
    out += bytes([REQ[req]])
    if req == 'byte':
        out += bytes([arg])
    elif req == 'u32':
        out += u32(arg)
    return out + bytes([null_entries | null_count << 1])


def destroy(enum=None, engine=None, fault=None):
    return op(DESTROY, fault) + (enum or live()) + (engine or owner_or_live())


def free(k=2, fault=None):
    """k % 4: 0 FwpmFreeMemory0(NULL), 1 *p == NULL, else array (k >> 2)."""
    return op(FREE, fault) + bytes([k])


def bulk(count):
    """The count byte of the bulk operations: 1..240, or multiples of 512 up to 8192."""
    if count <= 240:
        return bytes([count - 1])
    assert count % 512 == 0 and count <= 8192
    return bytes([239 + count // 512])


def open_many(count, named=False, dynamic=False, seed=0x5EED, fault=None):
    """count sessions with keys derived from seed (Data1) and their index."""
    return op(OPEN_MANY, fault) + bulk(count) + bytes([dynamic | named << 1]) + u32(seed)


def close_many(count, start=0, fault=None):
    return op(CLOSE_MANY, fault) + bulk(count) + u16(start)


def verify(k=0): return op(VERIFY) + bytes([k])
def reclaim(): return op(RECLAIM)


KEY_A = bytes(range(1, 17))
KEY_B = bytes([0xAB] * 16)

SEEDS = {
    'open_anonymous': open_(null_session=True) * 3 + open_() + verify(),
    'open_named': (open_(name=short('firewall agent'), desc=short(b'\x80\x81\x83\x8dz'),
                         flags=1, timeout=5000)
                   + open_(name=EMPTY_STR, desc=raw_chars([0x1F600, 0x10FFFF, 0xFFFFFFFF, 0x41]))
                   + open_(identity=True, authn=1, name=short('x')) + verify(1)),
    'open_errors': (open_(server=True) + open_(raw_authn=9) + open_(raw_authn=0)
                    + open_(flags='reserved') + open_(flags='reserved+dynamic')
                    + open_(flags=('raw', 0x2)) + open_(null_out=True)
                    + open_(server=True, raw_authn=3, null_out=True, flags='reserved')
                    + open_() + verify()),
    'keys': (open_(key=KEY_A, name=short('a')) + open_(key=KEY_A)
             + open_(key=('live', 0)) + open_(key=KEY_B) + close(live(0))
             + open_(key=('closed', 0), name=short('again')) + verify()
             + open_(null_session=True, key=KEY_B)),
    'strings_limit': (open_(name=near_limit(0), desc=near_limit(0, 0x41))
                      + open_(name=near_limit(1)) + open_(desc=near_limit(1, 2))
                      + open_(name=near_limit(-1, 3), desc=sized(0)) + verify()
                      + create() + page('one') + page('infinite') + free(2) + free(6)),
    'strings_huge': (open_(name=million()) + open_(desc=million(1))
                     + open_(name=million(0x80) + u16(100))
                     + open_(name=sized(40000, 0x82) + u16(32767))
                     + open_(name=sized(40000, 0x82) + u16(32768)) + verify()),
    'enumerate_pages': (open_() * 5 + create() + page('zero') + page('one')
                        + page('byte', 2) + page('remaining') + page('one')
                        + page('infinite') + create() + page('remaining+1') + page('u32', 0)
                        + create() + page('half') + create() + page('u32', 0xFFFFFFFE)
                        + free(2) + free(6) + free(10) + destroy() + destroy()
                        + destroy() + destroy()),
    'null_pointers': (open_() + create(null_out=True) + create() + page(null_entries=True)
                      + page(null_count=True) + page(null_entries=True, null_count=True)
                      + free(0) + free(1) + destroy()),
    'template': (open_() + create(template=1) + create(template=2, reserved=1)
                 + create(template=2, reserved=1 << 63) + page() + destroy()),
    'bad_handles': (open_() + open_() + create(live(0)) + close(stale())
                    + close(other_kind()) + close(garbage(0x123456789A)) + close(special(0))
                    + close(special(1)) + close(special(2)) + close(special(3))
                    + close(special(4)) + close(special(5)) + create(other_kind())
                    + page(enum=other_kind()) + page(enum=garbage(0xA))
                    + page(engine=garbage(0x1000000A)) + destroy(enum=special(4))
                    + close(live(1)) + close(stale()) + page(enum=stale())
                    + destroy(stale()) + create(stale()) + reclaim()),
    'wrong_session': (open_() + open_() + create(live(0)) + page(engine=any_live(1))
                      + destroy(engine=any_live(1)) + page(engine=any_live(0))
                      + destroy(engine=any_live(0)) + page(enum=stale())),
    'arrays_outlive': (open_(name=short('kept')) + open_(desc=short('also kept')) + create()
                       + page('one') + destroy() + create(live(1)) + page('infinite')
                       + close(live(0)) + close(live(0)) + reclaim() + free(2) + free(6)),
    'close_destroys_enums': (open_() + open_() + create(live(0)) + create(live(0))
                             + create(live(1)) + close(live(0)) + page(enum=stale(0))
                             + destroy(enum=stale(1)) + page(enum=live(0)) + verify()),
    'faults': (open_(name=short('f'), fault=0) + open_(fault=1) + open_(fault=2)
               + open_(desc=short('abc'), fault=3) + open_() + create(fault=0)
               + create(fault=1) + page(fault=0) + page('one', fault=1)
               + destroy(fault=0) + close(fault=0) + close(fault=1) + close(fault=2)
               + free(2, fault=0) + verify()),
    'churn': (open_() * 8 + (close() + open_(name=short('c')) + create()
                             + page('byte', 3) + free(2)) * 6 + verify() + reclaim()),
    'tree_one_level': (open_many(100, named=True) + create() + page('byte', 63) + page('byte', 2)
                       + close_many(40, 3) + open_many(30, seed=7) + create() + page('u32', 65)
                       + page('infinite') + close_many(50, 10) + verify() + page('infinite')
                       + open_many(10, seed=0x5EED) + free(2) + free(6) + free(6)),
    'tree_two_levels': (open_many(4608, dynamic=True) + create() + page('byte', 250)
                        + close_many(1024, 100) + page('u32', 4000) + open_many(64, seed=9)
                        + verify(3) + close_many(1536, 1) + page('infinite') + create()
                        + page('infinite') + free(2) + free(6) + free(10)),
    'many_faults': (open_many(70) + create(fault=2) + close_many(5, fault=1)
                    + open_many(3, seed=1, fault=1) + page('infinite', fault=0) + verify()),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = os.path.join(here, 'corpus')
    os.makedirs(corpus, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(corpus, name), 'wb') as f:
            f.write(data)
    print(f'{len(SEEDS)} seeds written to {corpus}')


if __name__ == '__main__':
    main()
