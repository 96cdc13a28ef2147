#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cwfx::report {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string TickText(double v, double step) {
  char buf[32];
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 4), v);
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

std::string SvgOpen(int width, double height, const std::string& aria_label) {
  return "<svg class=\"chart\" width=\"" + std::to_string(width) + "\" height=\"" + Num(height) +
         "\" viewBox=\"0 0 " + std::to_string(width) + " " + Num(height) + "\" role=\"img\" aria-label=\"" +
         HtmlEscape(aria_label) + "\">\n";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& attrs) {
  return "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" + Num(y2) + "\" " +
         attrs + "/>";
}

std::string Text(double x, double y, const std::string& cls, const std::string& anchor, const std::string& text) {
  return "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" class=\"" + cls + "\" text-anchor=\"" + anchor + "\">" +
         HtmlEscape(text) + "</text>";
}

// Horizontal grid lines with tick labels at the left of the plot, and the
// rotated y axis title.
template <typename YFn>
std::string YGrid(const std::vector<double>& ticks, double step, YFn Y, double left, double pw, double top, double ph,
                  const std::string& title) {
  std::string o;
  for (double t : ticks) {
    o += Line(left, Y(t), left + pw, Y(t), "class=\"grid\"") +
         Text(left - 6, Y(t) + 4, "tick", "end", TickText(t, step)) + "\n";
  }
  o += "<text class=\"axis-title\" transform=\"translate(14," + Num(top + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + HtmlEscape(title) + "</text>\n";
  return o;
}

// Ticks from NiceTicks, extended upwards until they cover hi.
std::vector<double> CoveringTicks(double lo, double hi, int target, double* step) {
  std::vector<double> t = NiceTicks(lo, hi, target);
  *step = t.size() > 1 ? t[1] - t[0] : 1.0;
  while (t.back() < hi - 1e-12) t.push_back(t.back() + *step);
  return t;
}

// A legend entry: a swatch (SVG text drawn at x, y) and its text; returns the x after it.
double LegendEntry(std::string* o, double x, double y, const std::string& swatch, const std::string& text) {
  *o += swatch + Text(x + 18, y + 4, "tick", "start", text);
  return x + 30 + 6.2 * static_cast<double>(text.size());
}

}  // namespace

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1.0;
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> t;
  for (double v = std::floor(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::string BarChartSvg(const BarChartSpec& s) {
  const size_t nb = s.values.size();
  const double base = std::isnan(s.baseline) ? 0.0 : s.baseline;
  double lo = base, hi = base;
  auto upd = [&](double v) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  };
  for (size_t i = 0; i < nb; ++i) {
    upd(s.values[i] * s.scale);
    if (i < s.err_lo.size()) upd(s.err_lo[i] * s.scale);
    if (i < s.err_hi.size()) upd(s.err_hi[i] * s.scale);
  }
  // Headroom for the value labels above (below) the bars.
  const double room = 0.12 * (hi - lo > 0 ? hi - lo : 1.0);
  if (hi > base) hi += room;
  if (lo < base) lo -= room;
  std::vector<double> ticks = NiceTicks(lo, hi, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  while (!ticks.empty() && ticks.back() < hi - 1e-12) ticks.push_back(ticks.back() + step);
  const double y0 = ticks.front(), y1 = ticks.back();
  const double left = 58, right = 12, top = 22, bottom = 42;
  const double pw = s.width - left - right, ph = s.height - top - bottom;
  auto Y = [&](double v) { return top + ph * (1.0 - (v - y0) / (y1 - y0)); };

  std::string o = "<svg class=\"chart\" width=\"" + std::to_string(s.width) + "\" height=\"" +
                  std::to_string(s.height) + "\" viewBox=\"0 0 " + std::to_string(s.width) + " " +
                  std::to_string(s.height) + "\" role=\"img\" aria-label=\"" + HtmlEscape(s.aria_label) + "\">\n";
  for (double t : ticks) {
    o += "<line x1=\"" + Num(left) + "\" x2=\"" + Num(left + pw) + "\" y1=\"" + Num(Y(t)) + "\" y2=\"" + Num(Y(t)) +
         "\" class=\"grid\"/>";
    o += "<text x=\"" + Num(left - 6) + "\" y=\"" + Num(Y(t) + 4) + "\" class=\"tick\" text-anchor=\"end\">" +
         TickText(t, step) + "</text>\n";
  }
  o += "<text class=\"axis-title\" transform=\"translate(14," + Num(top + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + HtmlEscape(s.y_label) + "</text>\n";
  const double slot = pw / static_cast<double>(std::max<size_t>(nb, 1));
  const double bw = slot * 0.58;
  for (size_t i = 0; i < nb; ++i) {
    const double cx = left + slot * (static_cast<double>(i) + 0.5);
    const double v = s.values[i] * s.scale;
    const std::string color = i < s.colors.size() ? s.colors[i] : "#4a6fa5";
    if (std::isfinite(v)) {
      const double ya = Y(std::max(v, base)), yb = Y(std::min(v, base));
      o += "<rect x=\"" + Num(cx - bw / 2) + "\" y=\"" + Num(ya) + "\" width=\"" + Num(bw) + "\" height=\"" +
           Num(std::max(yb - ya, 0.5)) + "\" fill=\"" + color + "\"/>";
    }
    const double el = i < s.err_lo.size() ? s.err_lo[i] * s.scale : NAN;
    const double eh = i < s.err_hi.size() ? s.err_hi[i] * s.scale : NAN;
    if (std::isfinite(el) && std::isfinite(eh)) {
      o += "<line class=\"err\" x1=\"" + Num(cx) + "\" x2=\"" + Num(cx) + "\" y1=\"" + Num(Y(el)) + "\" y2=\"" +
           Num(Y(eh)) + "\"/>";
      for (double e : {el, eh}) {
        o += "<line class=\"err\" x1=\"" + Num(cx - bw / 5) + "\" x2=\"" + Num(cx + bw / 5) + "\" y1=\"" + Num(Y(e)) +
             "\" y2=\"" + Num(Y(e)) + "\"/>";
      }
    }
    if (i < s.value_text.size() && !s.value_text[i].empty() && std::isfinite(v)) {
      // Above the bar and its whisker (below both for a bar under the baseline).
      double label_y;
      if (v >= base) {
        label_y = Y(std::isfinite(eh) ? std::max(v, eh) : v) - 6;
      } else {
        label_y = Y(std::isfinite(el) ? std::min(v, el) : v) + 15;
      }
      o += "<text x=\"" + Num(cx) + "\" y=\"" + Num(label_y) + "\" class=\"val\" text-anchor=\"middle\">" +
           HtmlEscape(s.value_text[i]) + "</text>";
    }
    o += "<text x=\"" + Num(cx) + "\" y=\"" + Num(top + ph + 18) + "\" class=\"xlab\" text-anchor=\"middle\">" +
         HtmlEscape(i < s.labels.size() ? s.labels[i] : "") + "</text>\n";
  }
  o += "<line class=\"axis\" x1=\"" + Num(left) + "\" x2=\"" + Num(left + pw) + "\" y1=\"" + Num(Y(base)) +
       "\" y2=\"" + Num(Y(base)) + "\"/>";
  o += "<line class=\"axis\" x1=\"" + Num(left) + "\" x2=\"" + Num(left) + "\" y1=\"" + Num(top) + "\" y2=\"" +
       Num(top + ph) + "\"/>\n</svg>";
  return o;
}

std::string DotPlotSvg(const std::vector<DotRow>& rows, const std::vector<std::string>& series,
                       const std::vector<std::string>& colors, const std::string& x_label, int width) {
  double hi = 0;
  for (const auto& r : rows)
    for (double v : r.values)
      if (std::isfinite(v)) hi = std::max(hi, v);
  std::vector<double> ticks = NiceTicks(0, hi > 0 ? hi : 1, 6);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  while (ticks.back() < hi - 1e-12) ticks.push_back(ticks.back() + step);
  const double x1 = ticks.back();
  const double left = 330, right = 40, top = 34, row_h = 19, bottom = 40;
  const double height = top + row_h * static_cast<double>(rows.size()) + bottom;
  const double pw = width - left - right;
  auto X = [&](double v) { return left + pw * v / x1; };
  std::string o = "<svg class=\"chart\" width=\"" + std::to_string(width) + "\" height=\"" + Num(height) +
                  "\" viewBox=\"0 0 " + std::to_string(width) + " " + Num(height) +
                  "\" role=\"img\" aria-label=\"dot plot\">\n";
  // Legend.
  double lx = left;
  for (size_t k = 0; k < series.size(); ++k) {
    o += "<circle cx=\"" + Num(lx + 5) + "\" cy=\"14\" r=\"5\" fill=\"" + colors[k % colors.size()] + "\"/>";
    o += "<text x=\"" + Num(lx + 14) + "\" y=\"18\" class=\"tick\">" + HtmlEscape(series[k]) + "</text>";
    lx += 110;
  }
  const double plot_bottom = top + row_h * static_cast<double>(rows.size());
  for (double t : ticks) {
    o += "<line class=\"grid\" x1=\"" + Num(X(t)) + "\" x2=\"" + Num(X(t)) + "\" y1=\"" + Num(top) + "\" y2=\"" +
         Num(plot_bottom) + "\"/>";
    o += "<text class=\"tick\" x=\"" + Num(X(t)) + "\" y=\"" + Num(plot_bottom + 14) + "\" text-anchor=\"middle\">" +
         TickText(t, step) + "</text>";
  }
  o += "<text class=\"axis-title\" x=\"" + Num(left + pw / 2) + "\" y=\"" + Num(plot_bottom + 32) +
       "\" text-anchor=\"middle\">" + HtmlEscape(x_label) + "</text>\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const double cy = top + row_h * (static_cast<double>(r) + 0.5);
    if (r % 2 == 0) {
      o += "<rect x=\"0\" y=\"" + Num(cy - row_h / 2) + "\" width=\"" + std::to_string(width) + "\" height=\"" +
           Num(row_h) + "\" class=\"band\"/>";
    }
    o += "<text class=\"xlab\" x=\"" + Num(left - 8) + "\" y=\"" + Num(cy + 4) + "\" text-anchor=\"end\">" +
         HtmlEscape(rows[r].label) + "</text>";
    double lo_v = 1e300, hi_v = -1e300;
    for (double v : rows[r].values)
      if (std::isfinite(v)) {
        lo_v = std::min(lo_v, v);
        hi_v = std::max(hi_v, v);
      }
    if (hi_v >= lo_v) {
      o += "<line class=\"range\" x1=\"" + Num(X(lo_v)) + "\" x2=\"" + Num(X(hi_v)) + "\" y1=\"" + Num(cy) +
           "\" y2=\"" + Num(cy) + "\"/>";
    }
    for (size_t k = 0; k < rows[r].values.size(); ++k) {
      const double v = rows[r].values[k];
      if (!std::isfinite(v)) continue;
      o += "<circle cx=\"" + Num(X(v)) + "\" cy=\"" + Num(cy) + "\" r=\"4.5\" fill=\"" + colors[k % colors.size()] +
           "\"/>";
    }
    if (!rows[r].mark.empty()) {
      o += "<text class=\"mark\" x=\"" + Num(left + pw + 6) + "\" y=\"" + Num(cy + 4) + "\">" +
           HtmlEscape(rows[r].mark) + "</text>";
    }
    o += "\n";
  }
  o += "</svg>";
  return o;
}

std::string StackedColumnsSvg(const StackedColumnsSpec& s) {
  const size_t n = s.parts.size();
  const double left = 58, right = 12, top = 34, bottom = 34;
  const double pw = s.width - left - right, ph = s.height - top - bottom;
  auto Y = [&](double share) { return top + ph * (1.0 - share); };
  auto YPercent = [&](double percent) { return Y(percent / 100); };
  std::string o = SvgOpen(s.width, s.height, s.aria_label);
  o += YGrid({0, 25, 50, 75, 100}, 25, YPercent, left, pw, top, ph, s.y_label);
  double lx = left;
  for (size_t k = 0; k < s.series.size(); ++k) {
    const std::string color = k < s.colors.size() ? s.colors[k] : "#4a6fa5";
    lx = LegendEntry(&o, lx, 12,
                     "<rect x=\"" + Num(lx) + "\" y=\"7\" width=\"12\" height=\"10\" fill=\"" + color + "\"/>",
                     s.series[k]);
  }
  if (!s.divider_label.empty() && !s.dividers.empty()) {
    LegendEntry(&o, lx, 12, Line(lx, 12, lx + 12, 12, "stroke=\"#1d2733\" stroke-dasharray=\"3 2\""),
                s.divider_label);
  }
  const double slot = pw / static_cast<double>(std::max<size_t>(n, 1));
  const double bw = slot >= 5 ? slot * 0.86 : slot;
  for (size_t i = 0; i < n; ++i) {
    const double x = left + slot * static_cast<double>(i) + (slot - bw) / 2;
    o += "<g class=\"" + HtmlEscape(s.item_class) + "\"><title>" + HtmlEscape(i < s.labels.size() ? s.labels[i] : "") +
         "</title>";
    double cum = 0;
    for (size_t k = 0; k < s.parts[i].size(); ++k) {
      const double v = s.parts[i][k];
      if (!std::isfinite(v) || v <= 0) continue;
      const std::string color = k < s.colors.size() ? s.colors[k] : "#4a6fa5";
      o += "<rect x=\"" + Num(x) + "\" y=\"" + Num(Y(std::min(cum + v, 1.0))) + "\" width=\"" + Num(bw) +
           "\" height=\"" + Num(ph * std::min(v, 1.0 - cum)) + "\" fill=\"" + color + "\"/>";
      cum += v;
    }
    o += "</g>";
    if (n <= 24 && i < s.labels.size()) o += Text(x + bw / 2, top + ph + 14, "tick", "middle", s.labels[i]);
    o += "\n";
  }
  for (double d : s.dividers) {
    const double x = left + slot * d;
    o += Line(x, top - 4, x, top + ph + 4, "stroke=\"#1d2733\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"");
  }
  o += Text(left + pw / 2, top + ph + (n <= 24 ? 30 : 20), "axis-title", "middle", s.x_label);
  o += Line(left, top + ph, left + pw, top + ph, "class=\"axis\"") + Line(left, top, left, top + ph, "class=\"axis\"");
  o += "\n</svg>";
  return o;
}

std::string IntervalPlotSvg(const IntervalPlotSpec& s) {
  const size_t n = s.labels.size();
  const double left = 58, right = 12, top = 34, bottom = 34;
  const double pw = s.width - left - right, ph = s.height - top - bottom;
  const double y0 = s.y_min, y1 = s.y_max > s.y_min ? s.y_max : s.y_min + 1;
  auto Y = [&](double v) {
    const double f = (v - y0) / (y1 - y0);
    return s.y_reversed ? top + ph * f : top + ph * (1.0 - f);
  };
  std::vector<double> ticks = s.y_ticks;
  double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  if (ticks.empty()) {
    for (double t : NiceTicks(y0, y1, 6)) {
      if (t >= y0 - 1e-9 && t <= y1 + 1e-9) ticks.push_back(t);
    }
    step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  }
  std::string o = SvgOpen(s.width, s.height, s.aria_label);
  o += YGrid(ticks, step, Y, left, pw, top, ph, s.y_label);
  const std::string kOuter = "#c9d5e5", kInner = "#3f6fae", kPoint = "#1d2733", kHigh = "#b0372b";
  double lx = left;
  auto Swatch = [](double x, const std::string& color, double w) {
    return Line(x, 12, x + 12, 12, "stroke=\"" + color + "\" stroke-width=\"" + Num(w) + "\"");
  };
  auto Dot = [](double x, const std::string& color) {
    return "<circle cx=\"" + Num(x + 6) + "\" cy=\"12\" r=\"3.5\" fill=\"" + color + "\"/>";
  };
  if (!s.point_label.empty()) lx = LegendEntry(&o, lx, 12, Dot(lx, kPoint), s.point_label);
  if (!s.highlight_label.empty()) lx = LegendEntry(&o, lx, 12, Dot(lx, kHigh), s.highlight_label);
  if (!s.inner_label.empty()) lx = LegendEntry(&o, lx, 12, Swatch(lx, kInner, 3), s.inner_label);
  if (!s.outer_label.empty()) lx = LegendEntry(&o, lx, 12, Swatch(lx, kOuter, 7), s.outer_label);
  const double slot = pw / static_cast<double>(std::max<size_t>(n, 1));
  const double w_outer = std::clamp(slot * 0.75, 1.5, 9.0), w_inner = std::clamp(slot * 0.3, 1.0, 3.0);
  const double radius = std::clamp(slot * 0.33, 1.4, 3.5);
  auto Segment = [&](double cx, double lo, double hi, const std::string& color, double w) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return std::string();
    double ya = Y(lo), yb = Y(hi);
    if (std::fabs(yb - ya) < 2) {  // a single value: still visible
      const double mid = (ya + yb) / 2;
      ya = mid - 1;
      yb = mid + 1;
    }
    return Line(cx, ya, cx, yb, "stroke=\"" + color + "\" stroke-width=\"" + Num(w) + "\"");
  };
  auto At = [](const std::vector<double>& v, size_t i) { return i < v.size() ? v[i] : NAN; };
  for (size_t i = 0; i < n; ++i) {
    const double cx = left + slot * (static_cast<double>(i) + 0.5);
    o += "<g class=\"" + HtmlEscape(s.item_class) + "\"><title>" + HtmlEscape(s.labels[i]) + "</title>";
    o += Segment(cx, At(s.outer_lo, i), At(s.outer_hi, i), kOuter, w_outer);
    o += Segment(cx, At(s.inner_lo, i), At(s.inner_hi, i), kInner, w_inner);
    const double p = At(s.point, i);
    if (std::isfinite(p)) {
      const bool high = i < s.highlight.size() && s.highlight[i];
      o += "<circle cx=\"" + Num(cx) + "\" cy=\"" + Num(Y(p)) + "\" r=\"" + Num(radius) + "\" fill=\"" +
           (high ? kHigh : kPoint) + "\"/>";
    }
    o += "</g>\n";
  }
  if (std::isfinite(s.reference)) {
    const double y = Y(s.reference);
    o += Line(left, y, left + pw, y, "stroke=\"" + kHigh + "\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"");
    if (!s.reference_label.empty()) {
      // A white halo keeps the label readable over the intervals.
      o += "<text x=\"" + Num(left + pw - 4) + "\" y=\"" + Num(s.y_reversed ? y + 14 : y - 5) +
           "\" class=\"mark\" text-anchor=\"end\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">" +
           HtmlEscape(s.reference_label) + "</text>";
    }
  }
  o += Text(left + pw / 2, top + ph + 20, "axis-title", "middle", s.x_label);
  o += Line(left, top + ph, left + pw, top + ph, "class=\"axis\"") + Line(left, top, left, top + ph, "class=\"axis\"");
  o += "\n</svg>";
  return o;
}

std::string HistogramSvg(const HistogramSpec& s) {
  std::vector<double> v;
  for (double x : s.values) {
    if (std::isfinite(x * s.scale)) v.push_back(x * s.scale);
  }
  const double obs = s.observed * s.scale;
  const double left = 58, right = 16, top = 26, bottom = 42;
  const double pw = s.width - left - right, ph = s.height - top - bottom;
  std::string o = SvgOpen(s.width, s.height, s.aria_label);
  if (v.empty()) {
    return o + Text(s.width / 2.0, s.height / 2.0, "tick", "middle", "no finite draws") + "\n</svg>";
  }
  // Bins span the draws; the axis spans the draws and the observed value.
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (!(hi > lo)) {
    const double pad = std::fabs(lo) > 0 ? 0.1 * std::fabs(lo) : 1.0;
    lo -= pad;
    hi += pad;
  }
  const int bins = std::max(s.bins, 1);
  const double width = (hi - lo) / bins;
  std::vector<int64_t> count(static_cast<size_t>(bins), 0);
  for (double x : v) {
    const int b = std::min(bins - 1, static_cast<int>((x - lo) / width));
    ++count[static_cast<size_t>(std::max(b, 0))];
  }
  const double axis_lo = std::isfinite(obs) ? std::min(lo, obs) : lo;
  const double axis_hi = std::isfinite(obs) ? std::max(hi, obs) : hi;
  double xstep = 1, ystep = 1;
  const std::vector<double> xt = CoveringTicks(axis_lo, axis_hi, 5, &xstep);
  const double x0 = xt.front(), x1 = xt.back();
  const std::vector<double> yt =
      CoveringTicks(0, static_cast<double>(*std::max_element(count.begin(), count.end())), 4, &ystep);
  auto X = [&](double x) { return left + pw * (x - x0) / (x1 - x0); };
  auto Y = [&](double c) { return top + ph * (1.0 - c / yt.back()); };
  o += YGrid(yt, ystep, Y, left, pw, top, ph, s.y_label);
  for (int b = 0; b < bins; ++b) {
    const double c = static_cast<double>(count[static_cast<size_t>(b)]);
    if (c <= 0) continue;
    const double xa = X(lo + width * b), xb = X(lo + width * (b + 1));
    o += "<rect class=\"" + HtmlEscape(s.bar_class) + "\" x=\"" + Num(xa + 0.5) + "\" y=\"" + Num(Y(c)) +
         "\" width=\"" + Num(std::max(xb - xa - 1, 0.8)) + "\" height=\"" + Num(Y(0) - Y(c)) +
         "\" fill=\"#7298cb\"/>";
  }
  o += "\n";
  for (double t : xt) {
    o += Text(X(t), top + ph + 15, "tick", "middle", TickText(t, xstep));
  }
  if (std::isfinite(obs)) {
    const double x = X(obs);
    o += "\n" + Line(x, top - 4, x, top + ph, "class=\"" + HtmlEscape(s.mark_class) +
                                              "\" stroke=\"#b0372b\" stroke-width=\"2\"");
    const bool right_side = x > left + pw * 0.6;
    o += Text(right_side ? x - 5 : x + 5, top + 8, "mark", right_side ? "end" : "start", s.observed_label);
  }
  o += Text(left + pw / 2, top + ph + 34, "axis-title", "middle", s.x_label);
  o += Line(left, top + ph, left + pw, top + ph, "class=\"axis\"") + Line(left, top, left, top + ph, "class=\"axis\"");
  o += "\n</svg>";
  return o;
}

std::string LineChartSvg(const LineChartSpec& s) {
  const double left = 58, right = 14, top = 34, bottom = 38;
  const double pw = s.width - left - right, ph = s.height - top - bottom;
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const auto& l : s.series) {
    for (size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) continue;
      const double e = i < l.err.size() && std::isfinite(l.err[i]) ? l.err[i] : 0.0;
      xlo = std::min(xlo, l.x[i]);
      xhi = std::max(xhi, l.x[i]);
      ylo = std::min(ylo, l.y[i] - e);
      yhi = std::max(yhi, l.y[i] + e);
    }
  }
  if (std::isfinite(s.reference)) {
    ylo = std::min(ylo, s.reference);
    yhi = std::max(yhi, s.reference);
  }
  if (!std::isfinite(xlo)) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  if (xhi <= xlo) xlo -= 0.5, xhi += 0.5;
  if (yhi <= ylo) ylo -= 0.5, yhi += 0.5;
  std::vector<double> ticks = NiceTicks(ylo, yhi, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0;
  while (ticks.front() > ylo + 1e-12) ticks.insert(ticks.begin(), ticks.front() - step);
  while (ticks.back() < yhi - 1e-12) ticks.push_back(ticks.back() + step);
  const double y0 = ticks.front(), y1 = ticks.back() > y0 ? ticks.back() : y0 + 1;
  const double pad = (xhi - xlo) * 0.05;
  const double x0 = xlo - pad, x1 = xhi + pad;
  auto X = [&](double v) { return left + pw * (v - x0) / (x1 - x0); };
  auto Y = [&](double v) { return top + ph * (1.0 - (v - y0) / (y1 - y0)); };
  std::string o = SvgOpen(s.width, s.height, s.aria_label);
  o += YGrid(ticks, step, Y, left, pw, top, ph, s.y_label);
  std::vector<double> xt = NiceTicks(xlo, xhi, 5);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1.0;
  for (double t : xt) {
    if (t < x0 - 1e-12 || t > x1 + 1e-12) continue;
    o += Line(X(t), top + ph, X(t), top + ph + 4, "class=\"axis\"") +
         Text(X(t), top + ph + 16, "tick", "middle", TickText(t, xstep)) + "\n";
  }
  double lx = left;
  for (const auto& l : s.series) {
    lx = LegendEntry(&o, lx, 12,
                     Line(lx, 12, lx + 12, 12, "stroke=\"" + l.color + "\" stroke-width=\"2\""), l.label);
  }
  for (const auto& l : s.series) {
    o += "<g class=\"series\"><title>" + HtmlEscape(l.label) + "</title>";
    std::string path;
    bool gap = true;  // a NaN point breaks the line
    for (size_t i = 0; i < l.x.size() && i < l.y.size(); ++i) {
      if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) {
        gap = true;
        continue;
      }
      path += (gap ? (path.empty() ? "M" : " M") : " L") + Num(X(l.x[i])) + " " + Num(Y(l.y[i]));
      gap = false;
      const double e = i < l.err.size() ? l.err[i] : NAN;
      if (std::isfinite(e) && e > 0) {
        o += Line(X(l.x[i]), Y(l.y[i] - e), X(l.x[i]), Y(l.y[i] + e), "stroke=\"" + l.color + "\" stroke-width=\"1\"");
      }
      o += "<circle cx=\"" + Num(X(l.x[i])) + "\" cy=\"" + Num(Y(l.y[i])) + "\" r=\"3\" fill=\"" + l.color + "\"/>";
    }
    if (!path.empty()) o += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + l.color + "\" stroke-width=\"1.6\"/>";
    o += "</g>\n";
  }
  if (std::isfinite(s.reference)) {
    const double y = Y(s.reference);
    o += Line(left, y, left + pw, y, "stroke=\"#b0372b\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"");
    if (!s.reference_label.empty()) o += Text(left + pw - 4, y - 5, "mark", "end", s.reference_label);
  }
  o += Text(left + pw / 2, top + ph + 32, "axis-title", "middle", s.x_label);
  o += Line(left, top + ph, left + pw, top + ph, "class=\"axis\"") + Line(left, top, left, top + ph, "class=\"axis\"");
  o += "\n</svg>";
  return o;
}

}  // namespace cwfx::report
