/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_windows_names.cpp - check_windows_names.c compiled as C++: the same
 * names, from C++ code (see that file).
 */
#include "check_windows_names.c"
