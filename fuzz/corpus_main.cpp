// Replays a fuzz target's corpus: every file of the directories given, in name order, through
// fuzz_one(). A crash or an escaping exception fails the run, as under libFuzzer. Files named
// "accept-*" must be accepted and "reject-*" rejected: the seeds say what they are for.
// Exit 0 when every file passed, 1 otherwise (also when there are no files at all).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"

int main(int argc, char** argv) {
  using heapsnap::fuzz::Outcome;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "no corpus files in the directories given\n";
    return 1;
  }
  std::size_t accepted = 0;
  std::size_t mislabelled = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string input{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) {
      std::cerr << file.string() << ": cannot read\n";
      return 1;
    }
    const Outcome outcome = heapsnap::fuzz::fuzz_one(input);
    accepted += outcome == Outcome::Accepted ? 1 : 0;
    const std::string name = file.filename().string();
    const bool expect_accept = name.starts_with("accept-");
    const bool expect_reject = name.starts_with("reject-");
    if ((expect_accept && outcome != Outcome::Accepted) || (expect_reject && outcome != Outcome::Rejected)) {
      std::cerr << file.string() << ": " << (outcome == Outcome::Accepted ? "accepted" : "rejected")
                << ", but its name says otherwise\n";
      ++mislabelled;
    }
  }
  std::cout << files.size() << " inputs: " << accepted << " accepted, " << files.size() - accepted
            << " rejected with the reader's error\n";
  return mislabelled == 0 ? 0 : 1;
}
