// The growth classifier (reporters/trend/trend_classifier) on hand-made series, and the trend report and
// growth gate on synthetic snapshot series.

#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "reporters/trend/growth_gate.h"
#include "reporters/trend/trend_classifier.h"
#include "reporters/trend/trend_json.h"
#include "reporters/trend/trend_report.h"
#include "reporters/trend/trend_text.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

std::vector<double> indices(std::size_t n) {
  std::vector<double> x;
  for (std::size_t i = 0; i < n; ++i) x.push_back(static_cast<double>(i));
  return x;
}

TrendClass classify(const std::vector<std::uint64_t>& sizes) { return classify_trend(indices(sizes.size()), sizes).trend_class; }

}  // namespace

TEST_CASE("steady growth is growing, with its slope, steps and tail", "[trend]") {
  const SiteTrend trend = classify_trend({0, 2, 4, 6, 8, 10}, {100, 200, 300, 400, 500, 600});
  CHECK(trend.trend_class == TrendClass::Growing);
  CHECK(trend.slope == Approx(50.0));  // 100 bytes every 2 seconds
  CHECK(trend.growth == 500);
  CHECK(trend.rising_steps == 5);
  CHECK(trend.falling_steps == 0);
  CHECK(trend.tail_start == 3);  // floor(2 * 5 / 3): the last third of the 5 steps
  CHECK(trend.tail_growth == 200);
  CHECK(trend.min == 100);
  CHECK(trend.max == 600);
}

TEST_CASE("growth with flat steps and one dip is still growing; a falling tail is not", "[trend]") {
  CHECK(classify({0, 100, 100, 200, 150, 300, 300, 400, 500}) == TrendClass::Growing);  // 1 of 8 steps falls
  CHECK(classify({0, 100, 200, 300, 400, 500, 600, 550, 700}) == TrendClass::Churn);    // falls in the tail
  CHECK(classify({0, 100, 50, 200, 100, 300, 200, 400, 500}) == TrendClass::Churn);     // 3 of 8 steps fall
}

TEST_CASE("a slow leak after a big start-up allocation is growing, not a plateau", "[trend]") {
  CHECK(classify({0, 10'000'000, 10'000'100, 10'000'200, 10'000'300, 10'000'400, 10'000'500}) == TrendClass::Growing);
}

TEST_CASE("growth that levels off is a plateau, jitter in the tail included", "[trend]") {
  CHECK(classify({100, 200, 300, 400, 400, 400, 400}) == TrendClass::Plateau);
  CHECK(classify({100, 200, 300, 400, 398, 402, 401}) == TrendClass::Plateau);  // within 10% of the level
  // A tail that moves by more than 10% is no plateau.
  CHECK(classify({100, 200, 300, 400, 300, 420, 400}) == TrendClass::Churn);
  // Grown and then freed: not a plateau either.
  CHECK(classify({0, 100, 200, 300, 300, 0}) == TrendClass::Churn);
}

TEST_CASE("up and down is churn; never changing is stable; only falling is shrinking", "[trend]") {
  CHECK(classify({3072, 1024, 4608, 1536, 3584, 512}) == TrendClass::Churn);
  CHECK(classify({4096, 4096, 4096, 4096}) == TrendClass::Stable);
  CHECK(classify({0, 0, 0}) == TrendClass::Stable);
  CHECK(classify({400, 300, 300, 100}) == TrendClass::Shrinking);
}

TEST_CASE("one late allocation is not steady growth", "[trend]") {
  // A single rising step: fewer than kMinRisingSteps.
  CHECK(classify({0, 0, 0, 0, 500}) != TrendClass::Growing);
  CHECK(classify({0, 0, 500, 1000}) == TrendClass::Growing);  // two rising steps, the tail still rising
}

TEST_CASE("classify_trend rejects too few points and unordered positions", "[trend]") {
  CHECK_THROWS_AS(classify_trend({0, 1}, {1, 2}), std::invalid_argument);
  CHECK_THROWS_AS(classify_trend({0, 1, 2}, {1, 2}), std::invalid_argument);
  CHECK_THROWS_AS(classify_trend({0, 1, 1}, {1, 2, 3}), std::invalid_argument);
}

namespace {

const Traceback kCache = stack({frame("src/cache.cpp", 41, "remember"), frame("src/main.cpp", 9, "main")});
const Traceback kPool = stack({frame("src/pool.cpp", 12, "connect"), frame("src/main.cpp", 10, "main")});
const Traceback kSessions = stack({frame("src/session.cpp", 7, "open_session"), frame("src/main.cpp", 11, "main")});
const Traceback kConfig = stack({frame("src/config.cpp", 3, "load_config")});

// Snapshot `phase` of a service: the cache grows by 5 KiB a phase, the pool fills up in 4 phases, the
// sessions come and go, the configuration never changes.
NamedSnapshot service_snapshot(int phase, std::int64_t unix_time_ms) {
  constexpr std::uint64_t kOpenSessions[] = {3, 1, 4, 1, 5, 2, 6, 2, 6};
  SnapshotBuilder builder;
  builder.add(0, 5120 * static_cast<std::uint64_t>(phase + 1), kCache, 20 * static_cast<std::uint64_t>(phase + 1))
      .add(0, 1024 * static_cast<std::uint64_t>(std::min(phase + 1, 4)), kPool, 1)
      .add(0, 512 * kOpenSessions[phase], kSessions, kOpenSessions[phase])
      .add(0, 4096, kConfig, 1);
  NamedSnapshot named{"svc.snap-" + std::to_string(phase + 1) + ".json", builder.build()};
  named.snapshot.process.unix_time_ms = unix_time_ms;
  named.snapshot.process.reason = "interval";
  return named;
}

std::vector<NamedSnapshot> service_series(bool timed) {
  std::vector<NamedSnapshot> series;
  for (int phase = 0; phase < 9; ++phase) series.push_back(service_snapshot(phase, timed ? 1'000'000 + 500 * phase : 0));
  return series;
}

}  // namespace

TEST_CASE("the trend report ranks the growing site first and classifies the others", "[trend]") {
  auto series = service_series(true);
  std::swap(series[0], series[5]);  // given out of order: put in time order
  const TrendReport report = build_trend_report(series, GroupBy::Lineno);
  CHECK(report.axis == TrendAxis::Seconds);
  REQUIRE(report.snapshots.size() == 9);
  CHECK(report.snapshots.front().path == "svc.snap-1.json");
  CHECK(report.snapshots.back().x == Approx(4.0));
  CHECK(report.snapshots[1].size == 10240 + 2048 + 512 + 4096);
  REQUIRE(report.sites.size() == 4);
  CHECK(report.sites[0].traceback.frames.front().function == "remember");
  CHECK(report.sites[0].trend.trend_class == TrendClass::Growing);
  CHECK(report.sites[0].trend.slope == Approx(5120.0 / 0.5));  // bytes per second
  CHECK(report.sites[0].sizes.front() == 5120);
  CHECK(report.sites[0].counts.back() == 180);
  CHECK(report.sites[1].trend.trend_class == TrendClass::Plateau);
  CHECK(report.sites[2].trend.trend_class == TrendClass::Churn);
  CHECK(report.sites[3].trend.trend_class == TrendClass::Stable);
  CHECK(report.count(TrendClass::Growing) == 1);
  CHECK(report.count(TrendClass::Shrinking) == 0);
}

TEST_CASE("without distinct times the axis is the snapshot number", "[trend]") {
  const TrendReport report = build_trend_report(service_series(false), GroupBy::Lineno);
  CHECK(report.axis == TrendAxis::Snapshots);
  CHECK(report.snapshots.back().x == Approx(8.0));
  CHECK(report.sites[0].trend.slope == Approx(5120.0));  // bytes per snapshot
  CHECK_THROWS_AS(build_trend_report({service_snapshot(0, 1), service_snapshot(1, 2)}, GroupBy::Lineno),
                  std::invalid_argument);
}

TEST_CASE("a site absent from some snapshots counts 0 there", "[trend]") {
  std::vector<NamedSnapshot> series = service_series(true);
  series[0].snapshot = SnapshotBuilder().add(0, 4096, kConfig, 1).build();  // before the service started
  series[0].snapshot.process.unix_time_ms = 999'000;
  const TrendReport report = build_trend_report(series, GroupBy::Filename);
  const auto cache = std::find_if(report.sites.begin(), report.sites.end(), [](const TrendSite& site) {
    return site.traceback.frames.front().filename == "src/cache.cpp";
  });
  REQUIRE(cache != report.sites.end());
  CHECK(cache->sizes.front() == 0);
  CHECK(cache->traceback.frames.front().lineno == 0);  // grouped by file
  CHECK(cache->trend.trend_class == TrendClass::Growing);
}

TEST_CASE("the growth gate fails on growing sites beyond the limit only", "[trend][check]") {
  const TrendReport report = build_trend_report(service_series(true), GroupBy::Lineno);
  const GateResult failed = evaluate_growth_gate(report, 1024);
  CHECK_FALSE(failed.passed);
  REQUIRE(failed.reasons.size() == 1);  // the pool grew by 3 KiB too, but it plateaus
  CHECK(failed.reasons[0] ==
        "src/cache.cpp:41 (remember) grew steadily by 40.0 KiB (40960 bytes) over 9 snapshots, exceeding --max-growth 1024");
  CHECK(evaluate_growth_gate(report, 40960).passed);
  CHECK_FALSE(evaluate_growth_gate(report, 40959).passed);
}

TEST_CASE("trend text and JSON", "[trend]") {
  const TrendReport report = build_trend_report(service_series(true), GroupBy::Lineno);
  std::ostringstream text;
  TrendTextReporter(report, 2).render(text);
  CHECK(text.str() ==
        "Trend of 9 snapshots by line, 0 s to 4.0 s: svc.snap-1.json ... svc.snap-9.json\n"
        "1 growing, 1 plateau, 1 churn, 0 shrinking, 1 stable\n"
        "\n"
        " #  class    first → last       slope        site\n"
        " 1  growing  5120 B → 45.0 KiB  +10.0 KiB/s  src/cache.cpp:41 (remember)\n"
        " 2  plateau  1024 B → 4096 B    +683 B/s     src/pool.cpp:12 (connect)\n"
        "2 other sites (--limit 0 shows all)\n");

  std::ostringstream json_text;
  TrendJsonReporter(report, 0).render(json_text);
  const auto json = nlohmann::json::parse(json_text.str());
  CHECK(json["format"] == "heapsnap-trend");
  CHECK(json["version"] == 1);
  CHECK(json["group_by"] == "lineno");
  CHECK(json["axis"] == "seconds");
  CHECK(json["slope_unit"] == "bytes/s");
  CHECK(json["snapshots"].size() == 9);
  CHECK(json["snapshots"][8]["unix_time_ms"] == 1'004'000);
  CHECK(json["totals"] == nlohmann::json{{"sites", 4}, {"growing", 1}, {"plateau", 1}, {"churn", 1}, {"shrinking", 0}, {"stable", 1}});
  REQUIRE(json["sites"].size() == 4);
  CHECK(json["sites"][0]["class"] == "growing");
  CHECK(json["sites"][0]["traceback"][0]["function"] == "remember");
  CHECK(json["sites"][0]["growth"] == 40960);
  CHECK(json["sites"][0]["sizes"].size() == 9);
  CHECK(json["sites"][2]["falling_steps"] == 4);
}
