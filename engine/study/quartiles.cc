#include "study/quartiles.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace cwfx::study {

std::vector<int32_t> QuartileSizes(int32_t num_caseworkers) {
  if (num_caseworkers < kNumQuartiles) {
    throw Error("the study needs at least 4 caseworkers to form quartiles, found " +
                std::to_string(num_caseworkers));
  }
  const int32_t b = num_caseworkers / kNumQuartiles;
  const int32_t r = num_caseworkers % kNumQuartiles;
  std::vector<int32_t> sizes(kNumQuartiles, b);
  for (int32_t q = 0; q < r; ++q) sizes[static_cast<size_t>(q)] += 1;  // bottom first; r <= 3
  return sizes;
}

QuartileAssignment AssignQuartiles(std::span<const double> effect_g, std::span<const std::string> ids_g) {
  CWFX_CHECK(effect_g.size() == ids_g.size(), "one id per effect");
  const auto G = static_cast<int32_t>(effect_g.size());
  QuartileAssignment a;
  a.sizes_q = QuartileSizes(G);
  for (double e : effect_g) {
    if (!std::isfinite(e)) throw Error("a caseworker effect is not finite; cannot rank caseworkers");
  }
  // Integer ids compare numerically.
  std::vector<int64_t> num(static_cast<size_t>(G), 0);
  bool all_int = true;
  for (int32_t g = 0; g < G && all_int; ++g) {
    const std::string& s = ids_g[static_cast<size_t>(g)];
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), num[static_cast<size_t>(g)]);
    all_int = !s.empty() && ec == std::errc() && p == s.data() + s.size();
  }
  std::vector<int32_t> order(static_cast<size_t>(G));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
    const double ex = effect_g[static_cast<size_t>(x)], ey = effect_g[static_cast<size_t>(y)];
    if (ex != ey) return ex > ey;
    if (all_int) return num[static_cast<size_t>(x)] < num[static_cast<size_t>(y)];
    return ids_g[static_cast<size_t>(x)] < ids_g[static_cast<size_t>(y)];
  });
  a.rank_g.assign(static_cast<size_t>(G), 0);
  a.quartile_g.assign(static_cast<size_t>(G), 0);
  int32_t pos = 0;
  for (int32_t q = kNumQuartiles; q >= 1; --q) {
    for (int32_t k = 0; k < a.sizes_q[static_cast<size_t>(q - 1)]; ++k, ++pos) {
      const auto g = static_cast<size_t>(order[static_cast<size_t>(pos)]);
      a.rank_g[g] = pos + 1;
      a.quartile_g[g] = q;
    }
  }
  return a;
}

}  // namespace cwfx::study
