# Installs the build into a scratch prefix, then configures, builds and runs a consumer project
# that finds it with find_package(heapsnap).
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "install failed: ${status}")
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
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE status OUTPUT_VARIABLE output)
message(STATUS "consumer: ${output}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the consumer failed: ${status}: ${output}")
endif()

# The installed `heapsnap run` finds the installed preload library (no build tree, no HEAPSNAP_PRELOAD).
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=HEAPSNAP_PRELOAD
                        ${WORK_DIR}/prefix/bin/heapsnap run --quiet -o ${WORK_DIR}/installed.json -- ${WORK_DIR}/build/consumer
                RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0 OR NOT EXISTS ${WORK_DIR}/installed.json)
  message(FATAL_ERROR "installed heapsnap run failed: ${status}")
endif()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/heapsnap check ${WORK_DIR}/installed.json RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the consumer leaks nothing, yet check exited with ${status}")
endif()
