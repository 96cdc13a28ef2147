// Ranking caseworkers by estimated effect and splitting them into quartiles
// (REPORT.md, Method 3).
//
// CONVENTION: suffix _g caseworkers (levels of the caseworker factor), _q quartiles.
//
// Rules:
//   rank      1 = the largest effect. Ties (equal effects) are broken by the
//             caseworker id, the smaller id ranking first; ids that are all
//             integers compare numerically, otherwise as text.
//   sizes     G caseworkers, b = floor(G/4), r = G mod 4: the top quartile
//             gets b, and the r remaining caseworkers go one each to the
//             quartiles below it, from the bottom up: sizes (bottom..top) =
//             b + [r>=1], b + [r>=2], b + [r>=3], b. For G = 115: 29, 29, 29,
//             28 (the study's sizes); G = 114: 29, 29, 28, 28; G = 113: 29, 28,
//             28, 28. The top quartile is never larger than the others, so its
//             mean is never diluted by an extra, weaker caseworker.
//   quartile  1 = bottom ... 4 = top; ranks 1..b are quartile 4, the next
//             ones quartile 3, and so on.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cwfx::study {

inline constexpr int32_t kNumQuartiles = 4;

// Quartile sizes, bottom first. Throws cwfx::Error when G < 4.
std::vector<int32_t> QuartileSizes(int32_t num_caseworkers);

struct QuartileAssignment {
  std::vector<int32_t> rank_g;      // 1 = largest effect
  std::vector<int32_t> quartile_g;  // 1 = bottom ... 4 = top
  std::vector<int32_t> sizes_q;     // bottom first
};

// effect_g and ids_g have one entry per caseworker (equal lengths, checked);
// effects must be finite. Throws cwfx::Error when fewer than 4 caseworkers.
QuartileAssignment AssignQuartiles(std::span<const double> effect_g, std::span<const std::string> ids_g);

}  // namespace cwfx::study
