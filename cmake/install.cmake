# Installation and the exported CMake package (find_package(heapsnap)):
#   heapsnap::heapsnap   libheapsnap_preload.so: the allocator, tracing and the heapsnap:: in-process API
#                        (preload/api.h, preload/leak_api.h, preload/memory_resource.h)
#   heapsnap::analysis   static: snapshots as values -- statistics, compare_to, filter_traces, JSON
#                        save/load, tracemalloc's text forms (snapshot/statistics.h, snapshot_json.h,
#                        text_forms.h, linecache.h, format_size.h); needs no preloading, no Boost
#   heapsnap::gc         static: the precise collector for refcounted object graphs (gc/gc_*.h)
# Besides: the heapsnap command, heapsnap-tracemalloc-convert, the docs and the JSON schemas.
include(CMakePackageConfigHelpers)

set(HEAPSNAP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/heapsnap)
set(HEAPSNAP_HEADER_DIR ${CMAKE_INSTALL_INCLUDEDIR}/heapsnap)

target_include_directories(heapsnap_preload INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>            # <heapsnap/preload/api.h>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/heapsnap>)  # the headers' own "snapshot/..." includes
set_target_properties(heapsnap_preload PROPERTIES EXPORT_NAME heapsnap)

# The static libraries: heapsnap_snapshot (the snapshot model), heapsnap_gc (the precise collector),
# and what they link: the runtime, collector and allocator (private names), and heapsnap_warnings,
# whose compile options stay private (only its link options, empty outside sanitizer builds, reach a
# consumer).
foreach(library heapsnap_snapshot heapsnap_runtime heapsnap_collector heapsnap_gc)
  target_include_directories(${library} PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)  # <heapsnap/snapshot/...>
endforeach()
set_target_properties(heapsnap_snapshot PROPERTIES EXPORT_NAME analysis)
set_target_properties(heapsnap_gc PROPERTIES EXPORT_NAME gc)
set_target_properties(heapsnap_runtime PROPERTIES EXPORT_NAME runtime_private)
set_target_properties(heapsnap_collector PROPERTIES EXPORT_NAME collector_private)
set_target_properties(heapsnap_allocator PROPERTIES EXPORT_NAME allocator_private)
set_target_properties(heapsnap_warnings PROPERTIES EXPORT_NAME warnings_private)

install(TARGETS heapsnap_preload EXPORT heapsnapTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS heapsnap_snapshot heapsnap_runtime heapsnap_collector heapsnap_gc heapsnap_allocator heapsnap_warnings EXPORT heapsnapTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/heapsnap)
install(TARGETS heapsnap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/tracemalloc_to_heapsnap.py
  DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME heapsnap-tracemalloc-convert)
# The public headers, each folder's to include/heapsnap/<folder> (their own includes name the folder).
function(heapsnap_install_headers folder)
  list(TRANSFORM ARGN PREPEND ${PROJECT_SOURCE_DIR}/${folder}/)
  install(FILES ${ARGN} DESTINATION ${HEAPSNAP_HEADER_DIR}/${folder})
endfunction()
heapsnap_install_headers(preload api.h memory_resource.h leak_api.h)
heapsnap_install_headers(snapshot snapshot.h traceback.h frame.h statistics.h snapshot_json.h text_forms.h linecache.h
                         format_size.h)
heapsnap_install_headers(collector referrer.h)
heapsnap_install_headers(gc gc_collector.h gc_cycle_report.h gc_list.h gc_object.h gc_ref.h)
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
