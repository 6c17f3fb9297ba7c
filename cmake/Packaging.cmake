# SPDX-License-Identifier: BSD-2-Clause
# cmake/Packaging.cmake - the documents `cmake --install` adds beside the
# targets, and the Debian packages `cpack -G DEB` (or `cmake --build build
# --target package`) makes from the install components:
#
#   runtime -> libfwpm0      the shared library
#   dev     -> libfwpm-dev   headers, static library, pkg-config and CMake
#                            files, manual pages of sections 3 and 7, the contract
#   tools   -> fwpm-tools    fwpm-stress (and the host engine's programs), with
#                            their section 1 and 8 pages
#
# The library's install() rules name their component; a rule that names none
# lands in tools (CMAKE_INSTALL_DEFAULT_COMPONENT_NAME, set at the top), and
# tests/install/package.sh fails on a file that lands in no package.

# ---- documents -----------------------------------------------------------------
install(FILES ${PROJECT_SOURCE_DIR}/docs/contract.md
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/fwpm COMPONENT dev)
# Debian wants each package's licence in /usr/share/doc/<package>/copyright.
foreach(pair runtime=libfwpm0 dev=libfwpm-dev tools=fwpm-tools)
  string(REPLACE "=" ";" pair ${pair})
  list(GET pair 0 component)
  list(GET pair 1 package)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE RENAME copyright
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component})
endforeach()

# ---- Debian packages -------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fwpm)
set(CPACK_PACKAGE_VENDOR "fwpm")
set(CPACK_PACKAGE_CONTACT "fwpm maintainers <fwpm-maintainers@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it before every
# component's own summary line (the first line of its description).
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)     # Depends of the ELF files, from dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON) # libfwpm0's shlibs file and ldconfig trigger
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(fwpm_deb_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
# The paragraph every package's long description opens with.
set(fwpm_deb_about "fwpm brings the Windows Filtering Platform session-management API
(FwpmEngineOpen0, FwpmSessionEnum0, ...) to Linux, with lock-free
enumeration and atomic snapshots.")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libfwpm0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# Named, not only found by dpkg-shlibdeps: the library may load jemalloc at
# run time instead of through DT_NEEDED, and serves from it wherever it can.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libjemalloc2")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "WFP session management for Linux: shared library
${fwpm_deb_about}

This package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libfwpm-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# `pkg-config --libs fwpm` links -ljemalloc (libjemalloc.so: libjemalloc-dev);
# libfwpm.a carries its own ck and jemalloc and needs no other -dev package.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libfwpm0 (= ${fwpm_deb_version}), libjemalloc-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "WFP session management for Linux: development files
${fwpm_deb_about}

This package holds the headers (<fwpmu.h>), the static library, the
pkg-config and CMake files, the manual pages and the contract.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME fwpm-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libfwpm0 (= ${fwpm_deb_version})")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
  "WFP session management for Linux: tools
${fwpm_deb_about}

This package holds fwpm-stress, a multithreaded workload that checks the
library's guarantees online.")

include(CPack)

if(FWPM_BUILD_TESTS AND NOT FWPM_SANITIZE)
  # What a release must satisfy file by file: a licence line on every source
  # file, no issue-tracker numbers, no Markdown link leaving the repository.
  add_test(NAME product_files COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-product-files
    ${PROJECT_SOURCE_DIR})
  set_tests_properties(product_files PROPERTIES LABELS license)

  # The packages install into a scratch root and serve a client built with
  # pkg-config against them.
  add_test(NAME package_deb
    COMMAND ${PROJECT_SOURCE_DIR}/tests/install/package.sh ${PROJECT_BINARY_DIR}
      ${PROJECT_SOURCE_DIR})
  set_tests_properties(package_deb PROPERTIES LABELS install TIMEOUT 300)
endif()
