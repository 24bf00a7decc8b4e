// Catch2's main for the test binaries that have no main of their own.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
