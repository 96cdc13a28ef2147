// The study's sample restrictions (REPORT.md, Method 1) and the progression
// regressors, each configurable.
//
// Steps, in this order (the order of the report's sentence):
//   1. caseworkers: keep the responses of caseworkers who answered for at
//      least min_citizens_per_caseworker distinct citizens (counted over the
//      input rows);
//   2. citizens: keep citizens with at least min_responses_per_citizen
//      responses among the rows that survived step 1;
//   3. changes (add_changes): for each column C in change_columns add
//      "<change_prefix>C" = C minus C at the same citizen's previous response
//      among the rows surviving step 2, responses ordered by date (ties by
//      input row). A citizen's first response has no previous one: NaN;
//   4. first response (drop_first_response): drop each citizen's earliest
//      surviving response (the rows whose change is NaN).
// Why this order: every kept row's change then refers to a response that is
// itself in the analysed register (not to one the restrictions removed), and
// every citizen loses exactly one row in step 4, as in the report (6,164
// responses = 8,865 - 2,701 citizens). Restrictions are applied once, not
// iterated: a caseworker may end below the threshold after steps 2 and 4,
// as in the report. Output rows keep the input order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "table/table.h"

namespace cwfx::sample {

struct SampleOptions {
  // Step 1: minimum number of distinct citizens per caseworker (0 disables).
  int min_citizens_per_caseworker = 10;
  // Step 2: minimum number of responses per citizen ("more than one" = 2; 0 disables).
  int min_responses_per_citizen = 2;
  // Step 4: drop each citizen's first response.
  bool drop_first_response = true;
  // Step 3: add change columns.
  bool add_changes = true;
  // Columns whose change since the previous response is added.
  std::vector<std::string> change_columns = {"B1", "B2", "B3", "B4",  "B5", "B6",
                                             "B7", "B8", "B9", "B10", "B11"};
  // Name of a change column: prefix + column name ("dB1").
  std::string change_prefix = "d";
  // Id and ordering columns (numeric or text; dates as numbers or ISO text).
  std::string citizen_column = "citizen_id";
  std::string caseworker_column = "caseworker_id";
  std::string date_column = "date";
  // Throw cwfx::Error if fewer caseworkers than this remain.
  int min_caseworkers_remaining = 4;

  void Validate() const;  // throws cwfx::Error
};

struct SampleStep {
  std::string name;
  int64_t rows_before = 0;
  int64_t rows_after = 0;
  int64_t removed = 0;
};

struct SampleReport {
  std::vector<SampleStep> steps;
  int64_t caseworkers = 0;  // distinct caseworkers in the result
  int64_t citizens = 0;     // distinct citizens in the result
  int64_t responses = 0;    // rows in the result

  // One line per step plus the totals.
  std::string Summary() const;
};

// Applies the steps above. Throws cwfx::Error (naming the column) for missing
// id/date values or columns, and when fewer than min_caseworkers_remaining
// caseworkers remain. `report` may be null.
table::Table ApplyStudySample(const table::Table& responses, const SampleOptions& options,
                              SampleReport* report = nullptr);

}  // namespace cwfx::sample
