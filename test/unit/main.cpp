// Catch2's main for heapsnap_unit_tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
