// Inline SVG charts for the HTML report: pure functions from numbers to SVG
// text (no xmlns, no external references; valid inside HTML5).
#pragma once

#include <cmath>
#include <cstdint>
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

// Stacked columns of shares (0..1, drawn on a 0-100% axis), one column per
// item, segments bottom up in series order; each column is a <g class="item_class"> with a <title> (the
// item's label, shown on hover). Columns whose shares are all NaN stay empty.
struct StackedColumnsSpec {
  std::vector<std::string> labels;              // one per column
  std::vector<std::vector<double>> parts;       // per column, one share per series
  std::vector<std::string> series, colors;      // legend text and colour per series
  std::vector<double> dividers;                 // dashed vertical lines after this many columns
  std::string divider_label;                    // legend text of the dividers ("" none)
  std::string x_label, y_label;
  std::string item_class = "column";
  int width = 1000, height = 300;
  std::string aria_label;
};
std::string StackedColumnsSvg(const StackedColumnsSpec& spec);

// A caterpillar plot: one item per column, a point with a wide light interval
// (outer) and a narrow dark one (inner) on a vertical axis; optionally
// reversed (1 at the top, for ranks) and with a dashed horizontal reference
// line. Each item is a <g class="item_class"> with a <title>.
struct IntervalPlotSpec {
  std::vector<std::string> labels;              // one per item (hover text)
  std::vector<double> point;                    // NaN: no point
  std::vector<double> inner_lo, inner_hi;       // drawn when both finite
  std::vector<double> outer_lo, outer_hi;       // empty: none
  std::vector<uint8_t> highlight;               // 1: point in the highlight colour
  std::string inner_label, outer_label, highlight_label, point_label;  // legend
  double y_min = 0, y_max = 1;
  bool y_reversed = false;
  std::vector<double> y_ticks;                  // empty: automatic
  double reference = NAN;                       // NaN: no reference line
  std::string reference_label;
  std::string x_label, y_label;
  std::string item_class = "interval";
  int width = 1000, height = 340;
  std::string aria_label;
};
std::string IntervalPlotSvg(const IntervalPlotSpec& spec);

// A histogram of draws with the observed value marked by a vertical line
// (class mark_class) and labelled. Values are multiplied by `scale`;
// non-finite values are skipped. Each non-empty bin is a <rect class="bar_class">.
struct HistogramSpec {
  std::vector<double> values;
  double observed = NAN;
  double scale = 1.0;
  int bins = 30;
  std::string x_label, y_label = "replications", observed_label = "observed";
  std::string bar_class = "hist-bar", mark_class = "obs-mark";
  int width = 440, height = 260;
  std::string aria_label;
};
std::string HistogramSvg(const HistogramSpec& spec);

// Lines of points (x, y) with +-err whiskers, one per series, on numeric
// axes; each series is a <g class="series"> with a <title>. NaN points are
// left out.
struct LineSeries {
  std::string label, color;
  std::vector<double> x, y, err;  // err empty or NaN: no whisker
};
struct LineChartSpec {
  std::vector<LineSeries> series;
  std::string x_label, y_label;
  double reference = NAN;         // dashed horizontal line (e.g. 0.95 for coverage)
  std::string reference_label;
  int width = 440, height = 270;
  std::string aria_label;
};
std::string LineChartSvg(const LineChartSpec& spec);

// "Nice" axis ticks covering [lo, hi] (about `target` of them).
std::vector<double> NiceTicks(double lo, double hi, int target);

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace cwfx::report
