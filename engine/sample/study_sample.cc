// Study sample restrictions; see study_sample.h for the steps and their order.
//
// CONVENTION: suffix _n: length = rows of the input; _w: caseworker levels;
// _i: citizen levels; _k: rows kept so far.
#include "sample/study_sample.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <span>

#include "core/error.h"
#include "table/id_coding.h"

namespace cwfx::sample {
namespace {

// YYYY-MM-DD, then nothing or a separator ('T' or ' ') and a time.
bool IsIsoDate(const std::string& v) {
  if (v.size() < 10) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (v[static_cast<size_t>(i)] < '0' || v[static_cast<size_t>(i)] > '9') return false;
  }
  if (v[4] != '-' || v[7] != '-') return false;
  return v.size() == 10 || v[10] == 'T' || v[10] == ' ';
}

int64_t CountDistinct(std::span<const int32_t> codes_n, std::span<const int64_t> rows_k, int32_t levels) {
  std::vector<char> seen(static_cast<size_t>(levels), 0);
  int64_t count = 0;
  for (int64_t r : rows_k) {
    char& s = seen[static_cast<size_t>(codes_n[static_cast<size_t>(r)])];
    count += s == 0 ? 1 : 0;
    s = 1;
  }
  return count;
}

}  // namespace

void SampleOptions::Validate() const {
  auto fail = [](const std::string& field, const std::string& what) {
    throw Error(Location{"SampleOptions", -1, field}, what);
  };
  if (min_citizens_per_caseworker < 0) fail("min_citizens_per_caseworker", "expected >= 0");
  if (min_responses_per_citizen < 0) fail("min_responses_per_citizen", "expected >= 0");
  if (min_caseworkers_remaining < 0) fail("min_caseworkers_remaining", "expected >= 0");
  if (citizen_column.empty()) fail("citizen_column", "expected a column name");
  if (caseworker_column.empty()) fail("caseworker_column", "expected a column name");
  if ((add_changes || drop_first_response) && date_column.empty()) fail("date_column", "expected a column name");
  if (add_changes && change_prefix.empty()) fail("change_prefix", "expected a non-empty prefix");
}

std::string SampleReport::Summary() const {
  std::string out;
  char line[256];
  for (const SampleStep& s : steps) {
    std::snprintf(line, sizeof line, "%-40s %10lld -> %10lld rows (%lld removed)\n", s.name.c_str(),
                  static_cast<long long>(s.rows_before), static_cast<long long>(s.rows_after),
                  static_cast<long long>(s.removed));
    out += line;
  }
  std::snprintf(line, sizeof line, "remaining: %lld responses, %lld caseworkers, %lld citizens\n",
                static_cast<long long>(responses), static_cast<long long>(caseworkers),
                static_cast<long long>(citizens));
  out += line;
  return out;
}

table::Table ApplyStudySample(const table::Table& responses, const SampleOptions& options,
                              SampleReport* report) {
  options.Validate();
  SampleReport local;
  SampleReport& rep = report != nullptr ? *report : local;
  rep = SampleReport{};

  const table::IdCoding citizen = table::CodeIds(responses, options.citizen_column);
  const table::IdCoding caseworker = table::CodeIds(responses, options.caseworker_column);
  const int64_t n_n = responses.num_rows();
  std::vector<int64_t> rows_k(static_cast<size_t>(n_n));
  std::iota(rows_k.begin(), rows_k.end(), int64_t{0});

  auto record = [&](const std::string& name, int64_t before) {
    rep.steps.push_back(SampleStep{name, before, static_cast<int64_t>(rows_k.size()),
                                   before - static_cast<int64_t>(rows_k.size())});
  };

  // Step 1: caseworkers with enough distinct citizens.
  if (options.min_citizens_per_caseworker > 0) {
    const int64_t before = static_cast<int64_t>(rows_k.size());
    std::vector<int64_t> pairs;
    pairs.reserve(rows_k.size());
    for (int64_t r : rows_k) {
      const size_t u = static_cast<size_t>(r);
      pairs.push_back(static_cast<int64_t>(caseworker.codes_n[u]) * citizen.num_levels + citizen.codes_n[u]);
    }
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::vector<int64_t> citizens_w(static_cast<size_t>(caseworker.num_levels), 0);
    for (int64_t p : pairs) ++citizens_w[static_cast<size_t>(p / citizen.num_levels)];
    std::erase_if(rows_k, [&](int64_t r) {
      return citizens_w[static_cast<size_t>(caseworker.codes_n[static_cast<size_t>(r)])] <
             options.min_citizens_per_caseworker;
    });
    record("caseworkers with >= " + std::to_string(options.min_citizens_per_caseworker) + " citizens", before);
  }

  // Step 2: citizens with enough responses among the remaining rows.
  if (options.min_responses_per_citizen > 0) {
    const int64_t before = static_cast<int64_t>(rows_k.size());
    std::vector<int64_t> responses_i(static_cast<size_t>(citizen.num_levels), 0);
    for (int64_t r : rows_k) ++responses_i[static_cast<size_t>(citizen.codes_n[static_cast<size_t>(r)])];
    std::erase_if(rows_k, [&](int64_t r) {
      return responses_i[static_cast<size_t>(citizen.codes_n[static_cast<size_t>(r)])] <
             options.min_responses_per_citizen;
    });
    record("citizens with >= " + std::to_string(options.min_responses_per_citizen) + " responses", before);
  }

  // Order the remaining rows by (citizen, date, input row); mark each
  // citizen's first response and link every other row to its predecessor.
  std::vector<int64_t> previous_n;  // previous row of the same citizen, -1 for the first
  if (options.add_changes || options.drop_first_response) {
    const table::Column& date = responses.column(options.date_column);
    std::vector<int64_t> order_k = rows_k;
    if (date.kind == table::ColumnKind::kNumeric) {
      const std::span<const double> d = responses.Numeric(options.date_column, /*require_finite=*/true);
      std::sort(order_k.begin(), order_k.end(), [&](int64_t a, int64_t b) {
        const int32_t ca = citizen.codes_n[static_cast<size_t>(a)];
        const int32_t cb = citizen.codes_n[static_cast<size_t>(b)];
        if (ca != cb) return ca < cb;
        const double da = d[static_cast<size_t>(a)];
        const double db = d[static_cast<size_t>(b)];
        if (da != db) return da < db;
        return a < b;
      });
    } else {
      // Text dates are ordered as text, which is chronological only for ISO
      // dates (YYYY-MM-DD, optionally followed by a time); refuse anything else
      // rather than order responses wrongly in silence.
      for (int64_t r : order_k) {
        const std::string& v = date.text[static_cast<size_t>(r)];
        if (v.empty()) throw Error(Location{responses.source(), responses.InputRow(r), date.name}, "missing date");
        if (!IsIsoDate(v)) {
          throw Error(Location{responses.source(), responses.InputRow(r), date.name},
                      "date '" + v + "' is not an ISO date (YYYY-MM-DD); convert the column to ISO "
                      "dates or to a number (e.g. days since an origin)");
        }
      }
      std::sort(order_k.begin(), order_k.end(), [&](int64_t a, int64_t b) {
        const int32_t ca = citizen.codes_n[static_cast<size_t>(a)];
        const int32_t cb = citizen.codes_n[static_cast<size_t>(b)];
        if (ca != cb) return ca < cb;
        const int cmp = date.text[static_cast<size_t>(a)].compare(date.text[static_cast<size_t>(b)]);
        if (cmp != 0) return cmp < 0;
        return a < b;
      });
    }
    previous_n.assign(static_cast<size_t>(n_n), -1);
    for (size_t k = 1; k < order_k.size(); ++k) {
      const int64_t r = order_k[k];
      const int64_t q = order_k[k - 1];
      if (citizen.codes_n[static_cast<size_t>(r)] == citizen.codes_n[static_cast<size_t>(q)]) {
        previous_n[static_cast<size_t>(r)] = q;
      }
    }
  }

  // Step 3: changes since the previous response (computed before dropping).
  std::vector<std::vector<double>> changes;
  if (options.add_changes) {
    for (const std::string& name : options.change_columns) {
      if (responses.Has(options.change_prefix + name)) {
        throw Error(Location{responses.source(), -1, options.change_prefix + name},
                    "the change column to be added already exists");
      }
      const std::span<const double> v = responses.Numeric(name, /*require_finite=*/false);
      std::vector<double> change_k;
      change_k.reserve(rows_k.size());
      for (int64_t r : rows_k) {
        const int64_t q = previous_n[static_cast<size_t>(r)];
        change_k.push_back(q < 0 ? std::numeric_limits<double>::quiet_NaN()
                                 : v[static_cast<size_t>(r)] - v[static_cast<size_t>(q)]);
      }
      changes.push_back(std::move(change_k));
    }
  }

  // Step 4: drop each citizen's first response.
  if (options.drop_first_response) {
    const int64_t before = static_cast<int64_t>(rows_k.size());
    size_t out = 0;
    for (size_t k = 0; k < rows_k.size(); ++k) {
      if (previous_n[static_cast<size_t>(rows_k[k])] < 0) continue;
      for (auto& change_k : changes) change_k[out] = change_k[k];
      rows_k[out++] = rows_k[k];
    }
    rows_k.resize(out);
    for (auto& change_k : changes) change_k.resize(out);
    record("drop each citizen's first response", before);
  }

  rep.responses = static_cast<int64_t>(rows_k.size());
  rep.citizens = CountDistinct(citizen.codes_n, rows_k, citizen.num_levels);
  rep.caseworkers = CountDistinct(caseworker.codes_n, rows_k, caseworker.num_levels);
  if (rep.caseworkers < options.min_caseworkers_remaining) {
    throw Error(Location{responses.source(), -1, options.caseworker_column},
                "only " + std::to_string(rep.caseworkers) + " caseworkers remain after the sample restrictions (" +
                    std::to_string(options.min_caseworkers_remaining) + " or more are needed)");
  }

  table::Table out = responses.SelectRows(rows_k);
  for (size_t c = 0; c < changes.size(); ++c) {
    out.AddNumeric(options.change_prefix + options.change_columns[c], std::move(changes[c]));
  }
  return out;
}

}  // namespace cwfx::sample
