# Installation and the exported CMake package:
#   find_package(heapsnap) ; target_link_libraries(app PRIVATE heapsnap::heapsnap)
# links a program against libheapsnap_preload.so (allocator + tracing + heapsnap:: API).
include(CMakePackageConfigHelpers)

set(HEAPSNAP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/heapsnap)

target_include_directories(heapsnap_preload INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>            # <heapsnap/profiler/api.h>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/heapsnap>)  # the headers' own "profiler/..." includes
set_target_properties(heapsnap_preload PROPERTIES EXPORT_NAME heapsnap)

install(TARGETS heapsnap_preload EXPORT heapsnapTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS heapsnap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES
  ${PROJECT_SOURCE_DIR}/profiler/api.h
  ${PROJECT_SOURCE_DIR}/profiler/memory_resource.h
  ${PROJECT_SOURCE_DIR}/profiler/snapshot.h
  ${PROJECT_SOURCE_DIR}/profiler/traceback.h
  ${PROJECT_SOURCE_DIR}/profiler/frame.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/heapsnap/profiler)
install(FILES ${PROJECT_SOURCE_DIR}/collector/leak_api.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/heapsnap/collector)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")

install(EXPORT heapsnapTargets NAMESPACE heapsnap:: DESTINATION ${HEAPSNAP_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/heapsnapConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfig.cmake INSTALL_DESTINATION ${HEAPSNAP_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/heapsnapConfigVersion.cmake
  DESTINATION ${HEAPSNAP_CMAKE_DIR})
