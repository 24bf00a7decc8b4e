#pragma once
// `heapsnap check --gen-suppressions`: a suppression file with one rule per leak site of a report, in
// Valgrind's format (as its --gen-suppressions=all writes them), ready to paste into a file that
// --suppressions reads. Read back, the rules suppress exactly those sites.

#include <string>

#include "reporters/leaks/leak_report.h"

namespace heapsnap {

std::string generate_suppressions(const LeakReport& report);

}  // namespace heapsnap
