/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpvi.h - version-independent names for the versioned WFP API, as in the
 * Windows SDK: FwpmSessionEnum means FwpmSessionEnum0, and so on.
 */
#ifndef FWPVI_H
#define FWPVI_H

#define FWPM_DISPLAY_DATA FWPM_DISPLAY_DATA0
#define FWPM_SESSION FWPM_SESSION0
#define FWPM_SESSION_ENUM_TEMPLATE FWPM_SESSION_ENUM_TEMPLATE0

#define FwpmEngineOpen FwpmEngineOpen0
#define FwpmEngineClose FwpmEngineClose0
#define FwpmSessionCreateEnumHandle FwpmSessionCreateEnumHandle0
#define FwpmSessionEnum FwpmSessionEnum0
#define FwpmSessionDestroyEnumHandle FwpmSessionDestroyEnumHandle0
#define FwpmFreeMemory FwpmFreeMemory0

#endif /* FWPVI_H */
