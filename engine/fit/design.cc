// Design construction: column extraction and validation, then the
// identification steps of absorb/identify.h (recursive singleton removal,
// components, largest component, dense re-coding).
#include "fit/design.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "table/id_coding.h"

namespace cwfx::fit {

namespace {

// Columns live within 1e-75 .. 1e75 in magnitude: the variance of a
// coefficient multiplies the outcome's scale squared by the inverse of the
// covariate's squared, so wider scales overflow or underflow in the standard
// errors (an outcome of 1e99 with a covariate of 1e-99 gave NaN standard
// errors; values of 1e-200 squared to 0 and read as collinear).
constexpr double kMaxModelMagnitude = 1e75;
constexpr double kMinModelMagnitude = 1e-75;

// `consumed` is the same table when the caller gave it up: each column's
// storage is then freed right after its last use, so the peak holds the
// design and one column of the table instead of both whole.
Design BuildDesignImpl(const table::Table& table, table::Table* consumed, const DesignSpec& spec,
                       DesignReport* report_out) {
  const std::string& file = table.source();
  if (spec.outcome.empty()) throw Error("design: no outcome column given");
  for (size_t q = 0; q < spec.absorb.size(); ++q)
    for (size_t p = 0; p < q; ++p)
      if (spec.absorb[p] == spec.absorb[q]) throw Error(Location{file, -1, spec.absorb[q]}, "is absorbed twice");
  // A column in two roles is a mistake, not a model: the outcome among the
  // covariates fits x = y exactly (a coefficient of 1e-17 with p = 1e-53),
  // an absorbed outcome gives R2 = 1.
  auto refuse_twice = [&](const std::string& name, const std::string& roles) {
    throw Error(Location{file, -1, name}, "is " + roles + "; each column can play one role in the model");
  };
  for (size_t k = 0; k < spec.covariates.size(); ++k) {
    if (spec.covariates[k] == spec.outcome) refuse_twice(spec.outcome, "both the outcome and a covariate");
    for (size_t l = 0; l < k; ++l)
      if (spec.covariates[l] == spec.covariates[k]) refuse_twice(spec.covariates[k], "listed twice among the covariates");
  }
  for (const auto& f : spec.absorb) {
    if (f == spec.outcome) refuse_twice(f, "both the outcome and an absorbed factor");
    for (const auto& x : spec.covariates)
      if (f == x) refuse_twice(f, "both a covariate and an absorbed factor");
  }
  if (!spec.weights.empty() && spec.weights == spec.outcome) refuse_twice(spec.weights, "both the outcome and the weights");
  const int64_t n_in = table.num_rows();
  DesignReport rep;
  rep.rows_in = n_in;

  // Validation of every used column (throws naming file/row/column).
  const std::span<const double> y_in = table.Numeric(spec.outcome);
  std::vector<std::span<const double>> x_in;
  for (const auto& name : spec.covariates) x_in.push_back(table.Numeric(name));
  // Values whose squares overflow (1.8e308 was reported as "collinear", a
  // weight of 1e300 gave garbage estimates) are refused by row.
  auto check_magnitude = [&](std::span<const double> v, const std::string& name) {
    double largest = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::abs(v[i]) > kMaxModelMagnitude) {
        std::ostringstream os;
        os << "value " << v[i] << " is too large for a regression (beyond |x| = 1e75 the standard errors "
           << "overflow); rescale the column";
        throw Error(Location{file, table.InputRow(static_cast<int64_t>(i)), name}, os.str());
      }
      largest = std::max(largest, std::abs(v[i]));
    }
    if (largest > 0 && largest < kMinModelMagnitude) {
      std::ostringstream os;
      os << "every value is tiny (the largest is " << largest << ", under 1e-75: its square underflows and the "
         << "column would read as constant); rescale the column";
      throw Error(Location{file, -1, name}, os.str());
    }
  };
  check_magnitude(y_in, spec.outcome);
  for (size_t k = 0; k < x_in.size(); ++k) check_magnitude(x_in[k], spec.covariates[k]);
  std::span<const double> w_in;
  if (!spec.weights.empty()) {
    w_in = table.Numeric(spec.weights);
    check_magnitude(w_in, spec.weights);
    for (int64_t i = 0; i < n_in; ++i)
      if (!(w_in[i] > 0)) {
        std::ostringstream os;
        os << "weights must be positive, found " << w_in[i];
        throw Error(Location{file, table.InputRow(i), spec.weights}, os.str());
      }
  }
  std::vector<table::IdCoding> codings;
  std::vector<absorb::Factor> full;
  for (const auto& name : spec.absorb) {
    codings.push_back(table::CodeIds(table, name));
    full.push_back(absorb::Factor{name, codings.back().codes_n, codings.back().num_levels});
    rep.levels_in_q.push_back(codings.back().num_levels);
  }
  table::IdCoding cluster;
  if (!spec.cluster.empty()) cluster = table::CodeIds(table, spec.cluster);

  // Numeric columns in the order they are copied; a consumed column is freed
  // after the last copy that reads it.
  std::vector<std::string> copy_order{spec.outcome};
  copy_order.insert(copy_order.end(), spec.covariates.begin(), spec.covariates.end());
  if (!spec.weights.empty()) copy_order.push_back(spec.weights);
  auto release_after = [&](size_t position) {
    if (consumed == nullptr) return;
    const std::string& name = copy_order[position];
    for (size_t later = position + 1; later < copy_order.size(); ++later)
      if (copy_order[later] == name) return;
    std::vector<double>().swap(consumed->mutable_column(name).numeric);
  };
  if (consumed != nullptr) {
    for (const std::string& name : spec.absorb) {
      if (std::find(copy_order.begin(), copy_order.end(), name) != copy_order.end()) continue;
      table::Column& c = consumed->mutable_column(name);
      std::vector<double>().swap(c.numeric);
      std::vector<std::string>().swap(c.text);
    }
  }

  std::vector<int64_t> rows;
  if (spec.drop_singletons && !full.empty()) {
    absorb::SingletonReport srep;
    rows = absorb::KeptRows(absorb::FindNonSingletons(full, &srep));
    rep.singletons_dropped = srep.dropped;
    rep.singleton_rounds = srep.rounds;
  } else {
    rows.resize(static_cast<size_t>(n_in));
    for (int64_t i = 0; i < n_in; ++i) rows[i] = i;
  }
  if (rows.empty()) {
    std::ostringstream os;
    os << "no observations left";
    if (rep.singletons_dropped > 0) {
      os << " after removing " << rep.singletons_dropped << " singleton observation(s) of the absorbed factors";
      for (size_t q = 0; q < spec.absorb.size(); ++q) os << (q ? ", '" : " '") << spec.absorb[q] << "'";
      os << " in " << rep.singleton_rounds << " round(s)";
      // A factor with a level per row is an id of the rows or a continuous
      // variable absorbed by mistake.
      for (size_t q = 0; q < spec.absorb.size(); ++q)
        if (rep.levels_in_q[q] == n_in)
          os << "; every row has its own level of '" << spec.absorb[q]
             << "' (a continuous variable or a row id cannot be absorbed)";
    }
    os << " (" << n_in << " rows in " << (file.empty() ? std::string("the table") : file) << ")";
    throw Error(os.str());
  }

  auto subset = [&](const std::vector<int64_t>& kept, std::vector<std::vector<int32_t>>* old_level_q) {
    std::vector<absorb::Factor> fs;
    old_level_q->clear();
    for (const auto& f : full) {
      absorb::SubsetResult s = absorb::SubsetFactor(f, kept);
      fs.push_back(std::move(s.factor));
      old_level_q->push_back(std::move(s.old_level_g));
    }
    return fs;
  };
  std::vector<std::vector<int32_t>> old_level_q;
  std::vector<absorb::Factor> factors;
  if (static_cast<int64_t>(rows.size()) == n_in) {
    // Every row kept: the codes as coded (every level occurs).
    for (absorb::Factor& f : full) {
      std::vector<int32_t> identity(static_cast<size_t>(f.num_levels));
      for (size_t g = 0; g < identity.size(); ++g) identity[g] = static_cast<int32_t>(g);
      old_level_q.push_back(std::move(identity));
      factors.push_back(std::move(f));
    }
    full.clear();
  } else {
    factors = subset(rows, &old_level_q);
  }

  std::optional<absorb::Components> components;
  if (spec.keep_largest_component && factors.size() >= 2) {
    absorb::Components comps = absorb::FindComponents(factors);
    rep.components_before = comps.count;
    if (comps.count > 1) {
      const std::vector<uint8_t> keep = absorb::KeepLargestComponent(comps);
      std::vector<int64_t> rows2, positions;
      for (size_t j = 0; j < rows.size(); ++j)
        if (keep[j]) {
          rows2.push_back(rows[j]);
          positions.push_back(static_cast<int64_t>(j));
        }
      rep.rows_dropped_component = static_cast<int64_t>(rows.size() - rows2.size());
      rows = std::move(rows2);
      for (size_t q = 0; q < factors.size(); ++q) {
        absorb::SubsetResult s = absorb::SubsetFactor(factors[q], positions);
        for (int32_t& g : s.old_level_g) g = old_level_q[q][static_cast<size_t>(g)];
        factors[q] = std::move(s.factor);
        old_level_q[q] = std::move(s.old_level_g);
      }
    } else {
      components = std::move(comps);
    }
  }

  for (size_t q = 0; q < factors.size(); ++q) {
    rep.levels_out_q.push_back(factors[q].num_levels);
    if (factors[q].num_levels < 2) {
      std::ostringstream os;
      os << "the absorbed factor has a single level ('" << codings[q].labels[old_level_q[q][0]] << "')";
      if (rep.singletons_dropped + rep.rows_dropped_component > 0) os << " after the sample restrictions";
      os << "; absorbing it is the same as an intercept: remove it from the absorbed factors";
      throw Error(Location{file, -1, spec.absorb[q]}, os.str());
    }
  }

  const int64_t kept = static_cast<int64_t>(rows.size());
  {
    bool constant = true;
    const double y0 = y_in[static_cast<size_t>(rows[0])];
    for (int64_t i : rows) constant = constant && y_in[static_cast<size_t>(i)] == y0;
    if (constant) {
      std::ostringstream os;
      os << "the outcome is constant (" << y0 << ") on the " << kept
         << " observation(s) used: there is nothing to explain";
      throw Error(Location{file, -1, spec.outcome}, os.str());
    }
  }
  Design d;
  d.source = file;
  d.outcome_name = spec.outcome;
  d.covariate_names = spec.covariates;
  d.weights_name = spec.weights;
  d.cluster_name = spec.cluster;
  d.y_n.resize(kept);
  d.X_nk.resize(kept, static_cast<Eigen::Index>(spec.covariates.size()));
  if (!spec.weights.empty()) d.weights_n.resize(static_cast<size_t>(kept));
  auto gather = [&](std::span<const double> from, double* to) {
    for (int64_t j = 0; j < kept; ++j) to[j] = from[static_cast<size_t>(rows[j])];
  };
  gather(y_in, d.y_n.data());
  release_after(0);
  for (size_t k = 0; k < x_in.size(); ++k) {
    gather(x_in[k], d.X_nk.col(static_cast<Eigen::Index>(k)).data());
    release_after(1 + k);
  }
  if (!spec.weights.empty()) {
    gather(w_in, d.weights_n.data());
    release_after(copy_order.size() - 1);
  }
  const bool every_row = kept == n_in;  // rows is then 0, 1, 2, ...
  if (!every_row) d.source_row_n = rows;
  // The input file's rows too: the table may have lost rows since it was read.
  if (!every_row || !table.input_rows().empty()) {
    d.input_row_n.reserve(rows.size());
    for (int64_t i : rows) d.input_row_n.push_back(table.InputRow(i) - 1);
  }
  if (!spec.cluster.empty()) {
    std::vector<int32_t> new_of_old(static_cast<size_t>(cluster.num_levels), -1);
    for (int64_t i : rows) new_of_old[cluster.codes_n[i]] = 1;
    for (int32_t g = 0; g < cluster.num_levels; ++g)
      if (new_of_old[g] == 1) {
        new_of_old[g] = d.num_clusters++;
        d.cluster_labels.push_back(cluster.labels[g]);
      }
    d.cluster_n.reserve(static_cast<size_t>(kept));
    for (int64_t i : rows) d.cluster_n.push_back(new_of_old[cluster.codes_n[i]]);
  }
  for (size_t q = 0; q < factors.size(); ++q) {
    std::vector<std::string> labels;
    labels.reserve(old_level_q[q].size());
    for (int32_t old : old_level_q[q]) labels.push_back(codings[q].labels[old]);
    d.level_labels_q.push_back(std::move(labels));
  }
  d.factors = std::move(factors);
  if (components) {
    d.components = std::move(*components);
  } else if (!d.factors.empty()) {
    d.components = absorb::FindComponents(d.factors);
  }
  if (rep.components_before == 0) rep.components_before = d.components.count;
  rep.rows_out = kept;
  d.report = rep;
  if (report_out != nullptr) *report_out = rep;
  return d;
}

}  // namespace

std::vector<int64_t> Design::InputRows() const {
  if (!input_row_n.empty()) return input_row_n;
  std::vector<int64_t> rows(static_cast<size_t>(num_obs()));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  return rows;
}

Design BuildDesign(const table::Table& table, const DesignSpec& spec, DesignReport* report) {
  return BuildDesignImpl(table, nullptr, spec, report);
}

Design BuildDesign(table::Table&& table, const DesignSpec& spec, DesignReport* report) {
  table::Table consumed = std::move(table);
  return BuildDesignImpl(consumed, &consumed, spec, report);
}

}  // namespace cwfx::fit
