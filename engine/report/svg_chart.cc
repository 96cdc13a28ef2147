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

}  // namespace cwfx::report
