# Installation and the exported CMake package (find_package(heapsnap)):
#   heapsnap::heapsnap   libheapsnap_preload.so: the allocator, tracing and the heapsnap:: in-process API
#                        (profiler/api.h, collector/leak_api.h)
#   heapsnap::analysis   static: snapshots as values -- statistics, compare_to, filter_traces, JSON
#                        save/load, tracemalloc's text forms (profiler/statistics.h, snapshot_json.h,
#                        text_forms.h, linecache.h, format_size.h); needs no preloading
#   heapsnap::gc         static: the precise collector for refcounted object graphs (collector/gc_*.h)
# Besides: the heapsnap command, heapsnap-tracemalloc-convert, the docs and the JSON schemas.
include(CMakePackageConfigHelpers)

set(HEAPSNAP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/heapsnap)
set(HEAPSNAP_HEADER_DIR ${CMAKE_INSTALL_INCLUDEDIR}/heapsnap)

target_include_directories(heapsnap_preload INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>            # <heapsnap/profiler/api.h>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/heapsnap>)  # the headers' own "profiler/..." includes
set_target_properties(heapsnap_preload PROPERTIES EXPORT_NAME heapsnap)

# The static libraries: heapsnap_profiler (its analysis objects; a consumer's linker takes no more of
# it than it uses), heapsnap_collector (of which a consumer uses the gc objects), and what they link:
# heapsnap_allocator, and heapsnap_warnings, whose compile options stay private (only its link
# options, empty outside sanitizer builds, reach a consumer).
target_include_directories(heapsnap_profiler PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)  # <heapsnap/profiler/...>
set_target_properties(heapsnap_profiler PROPERTIES EXPORT_NAME analysis)
set_target_properties(heapsnap_collector PROPERTIES EXPORT_NAME gc)
set_target_properties(heapsnap_allocator PROPERTIES EXPORT_NAME allocator_private)
set_target_properties(heapsnap_warnings PROPERTIES EXPORT_NAME warnings_private)

install(TARGETS heapsnap_preload EXPORT heapsnapTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS heapsnap_profiler heapsnap_collector heapsnap_allocator heapsnap_warnings EXPORT heapsnapTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/heapsnap)
install(TARGETS heapsnap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/tracemalloc_to_heapsnap.py
  DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME heapsnap-tracemalloc-convert)
install(FILES
  ${PROJECT_SOURCE_DIR}/profiler/api.h
  ${PROJECT_SOURCE_DIR}/profiler/memory_resource.h
  ${PROJECT_SOURCE_DIR}/profiler/snapshot.h
  ${PROJECT_SOURCE_DIR}/profiler/traceback.h
  ${PROJECT_SOURCE_DIR}/profiler/frame.h
  ${PROJECT_SOURCE_DIR}/profiler/statistics.h
  ${PROJECT_SOURCE_DIR}/profiler/snapshot_json.h
  ${PROJECT_SOURCE_DIR}/profiler/text_forms.h
  ${PROJECT_SOURCE_DIR}/profiler/linecache.h
  ${PROJECT_SOURCE_DIR}/profiler/format_size.h
  DESTINATION ${HEAPSNAP_HEADER_DIR}/profiler)
install(FILES
  ${PROJECT_SOURCE_DIR}/collector/leak_api.h
  ${PROJECT_SOURCE_DIR}/collector/gc_collector.h
  ${PROJECT_SOURCE_DIR}/collector/gc_cycle_report.h
  ${PROJECT_SOURCE_DIR}/collector/gc_list.h
  ${PROJECT_SOURCE_DIR}/collector/gc_object.h
  ${PROJECT_SOURCE_DIR}/collector/gc_ref.h
  DESTINATION ${HEAPSNAP_HEADER_DIR}/collector)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
  FILES_MATCHING PATTERN "*.md" PATTERN "*.json")

install(EXPORT heapsnapTargets NAMESPACE heapsnap:: DESTINATION ${HEAPSNAP_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/heapsnapConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfig.cmake INSTALL_DESTINATION ${HEAPSNAP_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfigVersion.cmake
  DESTINATION ${HEAPSNAP_CMAKE_DIR})
