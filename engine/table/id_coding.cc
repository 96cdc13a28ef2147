// Dense coding of id columns (see id_coding.h). Codes follow the sorted order
// of the distinct ids so that a register read in any row order yields the same
// codes, and hence the same fixed-effect vector order downstream.
#include "table/id_coding.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "table/number_format.h"

namespace cwfx::table {
namespace {

constexpr int64_t kMaxLevels = std::numeric_limits<int32_t>::max();

void CheckLevelCount(const Table& table, const std::string& column, size_t num_levels) {
  if (num_levels > static_cast<size_t>(kMaxLevels)) {
    throw Error(Location{table.source(), -1, column}, "has " + std::to_string(num_levels) +
                                                          " distinct ids; at most " +
                                                          std::to_string(kMaxLevels) + " are supported");
  }
}

// Integer ids spanning a range no wider than a few times the row count (a
// register numbered 1..n, the usual case) are coded by direct addressing:
// two O(n) passes instead of an O(n log n) sort and a binary search per row
// (at 10^7 rows a second per factor). Same codes as the sort: ascending ids.
std::optional<IdCoding> CodeSmallIntegers(const Table& table, const Column& c) {
  const std::vector<double>& ids_n = c.numeric;
  if (ids_n.empty()) return std::nullopt;
  double lo = ids_n[0], hi = ids_n[0];
  bool integral = true;
  for (double v : ids_n) {
    integral = integral && v == std::trunc(v);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double max_span = std::max(4.0 * static_cast<double>(ids_n.size()), 1048576.0);
  if (!integral || hi - lo >= max_span) return std::nullopt;
  const auto base = static_cast<int64_t>(lo);
  std::vector<int32_t> code_of_offset(static_cast<size_t>(static_cast<int64_t>(hi) - base) + 1, 0);
  for (double v : ids_n) code_of_offset[static_cast<size_t>(static_cast<int64_t>(v) - base)] = 1;
  IdCoding out;
  int64_t levels = 0;
  for (int32_t& code : code_of_offset) {
    if (code == 0) {
      code = -1;
      continue;
    }
    code = static_cast<int32_t>(levels++);
  }
  CheckLevelCount(table, c.name, static_cast<size_t>(levels));
  out.num_levels = static_cast<int32_t>(levels);
  out.codes_n.resize(ids_n.size());
  for (size_t r = 0; r < ids_n.size(); ++r)
    out.codes_n[r] = code_of_offset[static_cast<size_t>(static_cast<int64_t>(ids_n[r]) - base)];
  out.labels.reserve(static_cast<size_t>(levels));
  for (size_t k = 0; k < code_of_offset.size(); ++k)
    if (code_of_offset[k] >= 0) out.labels.push_back(FormatNumber(static_cast<double>(base + static_cast<int64_t>(k))));
  return out;
}

IdCoding CodeNumeric(const Table& table, const Column& c) {
  const std::vector<double>& ids_n = c.numeric;
  for (size_t r = 0; r < ids_n.size(); ++r) {
    if (!std::isfinite(ids_n[r])) {
      throw Error(Location{table.source(), table.InputRow(static_cast<int64_t>(r)), c.name},
                  std::isnan(ids_n[r]) ? "missing id" : "non-finite id");
    }
    // Numeric ids travel as doubles; beyond 2^53 two different ids can be the
    // same double and would be merged into one level without a word.
    if (std::fabs(ids_n[r]) >= 9007199254740992.0) {
      throw Error(Location{table.source(), table.InputRow(static_cast<int64_t>(r)), c.name},
                  "numeric id too large to be held exactly (|id| >= 2^53); store this id column as "
                  "text");
    }
  }
  if (auto direct = CodeSmallIntegers(table, c)) return std::move(*direct);
  // -0.0 == 0.0, so sort/unique already merges them into one level.
  std::vector<double> levels_g(ids_n);
  std::sort(levels_g.begin(), levels_g.end());
  levels_g.erase(std::unique(levels_g.begin(), levels_g.end()), levels_g.end());
  CheckLevelCount(table, c.name, levels_g.size());

  IdCoding out;
  out.num_levels = static_cast<int32_t>(levels_g.size());
  out.codes_n.resize(ids_n.size());
  for (size_t r = 0; r < ids_n.size(); ++r) {
    const auto it = std::lower_bound(levels_g.begin(), levels_g.end(), ids_n[r]);
    out.codes_n[r] = static_cast<int32_t>(it - levels_g.begin());
  }
  out.labels.reserve(levels_g.size());
  for (double v : levels_g) out.labels.push_back(FormatNumber(v == 0.0 ? 0.0 : v));
  return out;
}

IdCoding CodeText(const Table& table, const Column& c) {
  const std::vector<std::string>& ids_n = c.text;
  // First a hash pass to find the distinct spellings (few relative to rows),
  // each mapped to its canonical id (CanonicalIdText: "01", "1" and "1.0"
  // are one id, as in a numeric column, whatever else the column holds),
  // then a sort of only the distinct ids, then a relabel pass: O(n + g log g).
  std::unordered_map<std::string_view, int32_t> code_of_spelling;
  std::unordered_map<std::string, int32_t> code_of_id;
  std::vector<int32_t> provisional_n(ids_n.size());
  std::vector<std::string> distinct_ids;
  for (size_t r = 0; r < ids_n.size(); ++r) {
    if (ids_n[r].empty()) {
      throw Error(Location{table.source(), table.InputRow(static_cast<int64_t>(r)), c.name}, "missing id");
    }
    auto [it, inserted] = code_of_spelling.try_emplace(ids_n[r], 0);
    if (inserted) {
      auto [id_it, new_id] =
          code_of_id.try_emplace(CanonicalIdText(ids_n[r]), static_cast<int32_t>(distinct_ids.size()));
      if (new_id) {
        CheckLevelCount(table, c.name, distinct_ids.size() + 1);
        distinct_ids.push_back(id_it->first);
      }
      it->second = id_it->second;
    }
    provisional_n[r] = it->second;
  }
  const std::vector<std::string>& distinct_g = distinct_ids;
  std::vector<int32_t> order_g(distinct_g.size());
  for (size_t g = 0; g < order_g.size(); ++g) order_g[g] = static_cast<int32_t>(g);
  std::sort(order_g.begin(), order_g.end(),
            [&](int32_t a, int32_t b) { return distinct_g[a] < distinct_g[b]; });
  std::vector<int32_t> final_of_provisional_g(distinct_g.size());
  IdCoding out;
  out.num_levels = static_cast<int32_t>(distinct_g.size());
  out.labels.reserve(distinct_g.size());
  for (size_t rank = 0; rank < order_g.size(); ++rank) {
    final_of_provisional_g[order_g[rank]] = static_cast<int32_t>(rank);
    out.labels.emplace_back(distinct_g[order_g[rank]]);
  }
  out.codes_n.resize(ids_n.size());
  for (size_t r = 0; r < ids_n.size(); ++r) out.codes_n[r] = final_of_provisional_g[provisional_n[r]];
  return out;
}

}  // namespace

IdCoding CodeIds(const Table& table, const std::string& column) {
  const Column& c = table.column(column);
  return c.kind == ColumnKind::kNumeric ? CodeNumeric(table, c) : CodeText(table, c);
}

}  // namespace cwfx::table
