#include "study/quartiles.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace cwfx::study {
namespace {

TEST(Quartiles, StudySizesAndTheRemainderRule) {
  EXPECT_EQ(QuartileSizes(115), (std::vector<int32_t>{29, 29, 29, 28}));  // the study
  EXPECT_EQ(QuartileSizes(116), (std::vector<int32_t>{29, 29, 29, 29}));
  EXPECT_EQ(QuartileSizes(114), (std::vector<int32_t>{29, 29, 28, 28}));
  EXPECT_EQ(QuartileSizes(113), (std::vector<int32_t>{29, 28, 28, 28}));
  EXPECT_EQ(QuartileSizes(4), (std::vector<int32_t>{1, 1, 1, 1}));
  EXPECT_EQ(QuartileSizes(7), (std::vector<int32_t>{2, 2, 2, 1}));
  for (int32_t G = 4; G < 300; ++G) {
    const auto s = QuartileSizes(G);
    EXPECT_EQ(s[0] + s[1] + s[2] + s[3], G);
    EXPECT_EQ(s[3], G / 4);  // the top quartile gets floor(G/4)
    EXPECT_GE(s[0], s[1]);
    EXPECT_GE(s[1], s[2]);
    EXPECT_GE(s[2], s[3]);
  }
  EXPECT_THROW(QuartileSizes(3), Error);
}

TEST(Quartiles, RanksByEffectAndBreaksTiesByNumericId) {
  // Ids "10" and "9" tie; numerically 9 < 10, so 9 ranks first.
  const std::vector<double> effect = {0.5, 0.1, 0.5, -0.2, 0.3, 0.0, 0.2};
  const std::vector<std::string> id = {"10", "2", "9", "4", "5", "6", "7"};
  const QuartileAssignment a = AssignQuartiles(effect, id);
  EXPECT_EQ(a.sizes_q, (std::vector<int32_t>{2, 2, 2, 1}));
  EXPECT_EQ(a.rank_g, (std::vector<int32_t>{2, 5, 1, 7, 3, 6, 4}));
  EXPECT_EQ(a.quartile_g, (std::vector<int32_t>{3, 2, 4, 1, 3, 1, 2}));
  const std::vector<std::string> text_id = {"b", "x", "a", "y", "z", "w", "v"};
  const QuartileAssignment t = AssignQuartiles(effect, text_id);
  EXPECT_EQ(t.rank_g[2], 1);  // "a" < "b"
  EXPECT_EQ(t.rank_g[0], 2);
}

TEST(Quartiles, FewerThanFourCaseworkersIsAClearError) {
  const std::vector<double> effect = {1, 2, 3};
  const std::vector<std::string> id = {"1", "2", "3"};
  try {
    AssignQuartiles(effect, id);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 4 caseworkers"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cwfx::study
