# The Debian package: `cpack -G DEB` in a build tree (CPackConfig.cmake) makes
# heapsnap_<version>_<arch>.deb with everything `cmake --install` installs (cmake/install.cmake): the
# heapsnap command, libheapsnap_preload.so, the CMake package with its headers and static libraries,
# the docs and the reports' JSON schemas. Dependencies come from dpkg-shlibdeps (dpkg-dev).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME heapsnap)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "memory allocation and leak profiler for native programs")
set(CPACK_PACKAGE_DESCRIPTION "heapsnap records who allocated what in an unmodified C or C++ program
(heapsnap run), compares snapshots like Python's tracemalloc, finds leaks and reference cycles by
reachability, and gates CI on them (heapsnap check, heapsnap run --check).")
set(CPACK_PACKAGE_CONTACT "heapsnap developers <heapsnap@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# `heapsnap symbolize` loads libdebuginfod only to fetch from a server (symbols/debuginfod_library.h),
# so dpkg-shlibdeps cannot see it; without it, symbolize says so and uses local debug files.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS libdebuginfod1)
include(CPack)
