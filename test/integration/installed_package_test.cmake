# Installs the build into a scratch prefix (or, with -DDEB=ON, makes the Debian package with cpack and
# unpacks it with dpkg -x into a scratch root), then configures, builds and runs a consumer project
# that finds it with find_package(heapsnap) and uses all three targets (heapsnap::heapsnap,
# heapsnap::analysis, heapsnap::gc); then the installed programs, docs and schemas.
file(REMOVE_RECURSE ${WORK_DIR})
if(DEB)
  execute_process(COMMAND cpack -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${WORK_DIR}/package
                  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  file(GLOB packages ${WORK_DIR}/package/heapsnap_*.deb)
  list(LENGTH packages count)
  if(NOT status EQUAL 0 OR NOT count EQUAL 1)
    message(FATAL_ERROR "cpack failed: ${status}: ${output}")
  endif()
  execute_process(COMMAND dpkg-deb --field ${packages} Package Depends OUTPUT_VARIABLE fields)
  message(STATUS "package ${packages}:\n${fields}")
  if(NOT fields MATCHES "Package: heapsnap" OR NOT fields MATCHES "libc6")
    message(FATAL_ERROR "the package's control fields: ${fields}")
  endif()
  execute_process(COMMAND dpkg -x ${packages} ${WORK_DIR}/root RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "dpkg -x failed: ${status}")
  endif()
  file(RENAME ${WORK_DIR}/root/usr ${WORK_DIR}/prefix)  # what follows reads ${WORK_DIR}/prefix
else()
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE status OUTPUT_QUIET)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "install failed: ${status}")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/test/integration/consumer -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=RelWithDebInfo
                RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed: ${status}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "building the consumer failed: ${status}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer ${WORK_DIR} RESULT_VARIABLE status OUTPUT_VARIABLE output)
message(STATUS "consumer: ${output}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the consumer failed: ${status}: ${output}")
endif()

# The installed `heapsnap run` finds the installed preload library (no build tree, no HEAPSNAP_PRELOAD).
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=HEAPSNAP_PRELOAD
                        ${WORK_DIR}/prefix/bin/heapsnap run --quiet -o ${WORK_DIR}/installed.json -- ${WORK_DIR}/build/consumer ${WORK_DIR}
                RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0 OR NOT EXISTS ${WORK_DIR}/installed.json)
  message(FATAL_ERROR "installed heapsnap run failed: ${status}")
endif()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/heapsnap check ${WORK_DIR}/installed.json RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the consumer leaks nothing, yet check exited with ${status}")
endif()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/heapsnap cycles ${WORK_DIR}/installed.json
                RESULT_VARIABLE status OUTPUT_VARIABLE output)
if(NOT status EQUAL 0 OR NOT output MATCHES "^No leaked cycles in ")
  message(FATAL_ERROR "installed heapsnap cycles: ${status}: ${output}")
endif()

# The tracemalloc converter, installed as a program: a real tracemalloc dump through it and `stats`.
set(python /usr/bin/python3)
execute_process(COMMAND ${python} -c "import tracemalloc; tracemalloc.start(); kept = [bytes(1000) for _ in range(10)]; tracemalloc.take_snapshot().dump('${WORK_DIR}/python.dump')"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "dumping a tracemalloc snapshot failed: ${status}")
endif()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/heapsnap-tracemalloc-convert ${WORK_DIR}/python.dump ${WORK_DIR}/python.json
                RESULT_VARIABLE status ERROR_VARIABLE error)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "installed heapsnap-tracemalloc-convert failed: ${status}: ${error}")
endif()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/heapsnap stats ${WORK_DIR}/python.json --limit 1
                RESULT_VARIABLE status OUTPUT_VARIABLE output)
if(NOT status EQUAL 0 OR NOT output MATCHES "size=")
  message(FATAL_ERROR "stats on the converted snapshot: ${status}: ${output}")
endif()

# Documentation and the JSON schemas of the reports.
foreach(file README.md leak-report.md snapshot-format.md suppressions.md schemas/stats.schema.json schemas/diff.schema.json
             schemas/leak-report.schema.json)
  if(NOT EXISTS ${WORK_DIR}/prefix/share/doc/heapsnap/${file})
    message(FATAL_ERROR "not installed: share/doc/heapsnap/${file}")
  endif()
endforeach()
