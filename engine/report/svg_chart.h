// Inline SVG charts for the HTML report: pure functions from numbers to SVG
// text (no xmlns, no external references; valid inside HTML5).
#pragma once

#include <string>
#include <vector>

namespace cwfx::report {

struct BarChartSpec {
  std::vector<std::string> labels;   // one per bar
  std::vector<double> values;        // NaN bars are left out
  std::vector<double> err_lo, err_hi;  // whisker ends (NaN or empty: none)
  std::vector<std::string> value_text; // printed above each bar ("" none)
  std::vector<std::string> colors;   // CSS colours per bar
  std::string y_label;               // axis title
  double scale = 1.0;                // display value = value * scale
  // Baseline of the bars (display units); NaN: 0. Ratings use the scale's minimum.
  double baseline = 0.0;
  int width = 440, height = 270;
  std::string aria_label;
};

// A vertical bar chart with error bars and a labelled y axis.
std::string BarChartSvg(const BarChartSpec& spec);

struct DotRow {
  std::string label;
  std::vector<double> values;  // one per series, display units
  std::string mark;            // significance mark printed at the right
};

// A dot plot: one row per item, one coloured dot per series (quartile),
// x axis from 0 to the largest value (rounded up).
std::string DotPlotSvg(const std::vector<DotRow>& rows, const std::vector<std::string>& series,
                       const std::vector<std::string>& colors, const std::string& x_label, int width);

// "Nice" axis ticks covering [lo, hi] (about `target` of them).
std::vector<double> NiceTicks(double lo, double hi, int target);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace cwfx::report
