// Synthetic panels for the peer benchmark (bench/peer/run.sh): the two
// designs of fixest's published benchmarks and our caseworker shape, any
// size, seeded, written as one CSV that every tool reads.
//
//   easy       citizens with `obs_per_citizen` responses each; every response
//              meets a caseworker of the citizen's job centre (probability
//              1 - cross_centre) or any caseworker: many movers, a graph that
//              mixes fast (fixest's "simple" design is the limit of it).
//   difficult  fixest's low-mobility design: 20 responses per citizen, each
//              response's caseworker drawn near citizen/8 (+-10), so the
//              caseworker graph is a long band that mixes slowly.
//
// Columns: y, x1..xk, citizen, caseworker (ids are integers). The outcome is
// y = sum_j 0.1 j x_j + citizen effect + caseworker effect + N(0, 1).
// Pure function of the flags: the same flags give the same bytes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Flags {
  std::string design = "easy";
  int64_t rows = 1000000;
  int64_t citizens = 0;     // 0 = from the design
  int64_t caseworkers = 0;  // 0 = from the design
  int covariates = 0;       // 0 = from the design
  int64_t job_centres = 0;  // easy only; 0 = caseworkers / 100
  double cross_centre = 0.1;
  uint64_t seed = 1;
  std::string out;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr,
               "peer_panel: %s\nusage: peer_panel --design easy|difficult --rows N [--citizens C] "
               "[--caseworkers W] [--covariates K] [--job-centres J] [--cross-centre P] [--seed S] --out FILE.csv\n",
               msg);
  std::exit(2);
}

Flags Parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--design") f.design = v;
    else if (a == "--rows") f.rows = static_cast<int64_t>(std::stod(v));
    else if (a == "--citizens") f.citizens = static_cast<int64_t>(std::stod(v));
    else if (a == "--caseworkers") f.caseworkers = static_cast<int64_t>(std::stod(v));
    else if (a == "--covariates") f.covariates = std::stoi(v);
    else if (a == "--job-centres") f.job_centres = static_cast<int64_t>(std::stod(v));
    else if (a == "--cross-centre") f.cross_centre = std::stod(v);
    else if (a == "--seed") f.seed = std::stoull(v);
    else if (a == "--out") f.out = v;
    else Usage(("unknown flag " + a).c_str());
  }
  if (f.design != "easy" && f.design != "difficult") Usage("--design must be easy or difficult");
  if (f.out.empty()) Usage("--out is required");
  if (f.rows < 100) Usage("--rows must be at least 100");
  if (f.design == "easy") {
    if (f.citizens == 0) f.citizens = f.rows / 5;
    if (f.caseworkers == 0) f.caseworkers = std::max<int64_t>(10, f.rows / 200);
    if (f.covariates == 0) f.covariates = 20;
    if (f.job_centres == 0) f.job_centres = std::max<int64_t>(1, f.caseworkers / 100);
  } else {
    if (f.citizens == 0) f.citizens = f.rows / 20;
    if (f.caseworkers == 0) f.caseworkers = std::max<int64_t>(1, f.citizens / 8);
    if (f.covariates == 0) f.covariates = 2;
  }
  return f;
}

// Appends a double with up to 17 significant digits (round trip).
void Put(std::string& line, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  line.append(buf, r.ptr);
}
void Put(std::string& line, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  line.append(buf, r.ptr);
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = Parse(argc, argv);
  std::mt19937_64 rng(f.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> citizen_effect(static_cast<size_t>(f.citizens)), caseworker_effect(static_cast<size_t>(f.caseworkers));
  for (auto& e : citizen_effect) e = normal(rng);
  for (auto& e : caseworker_effect) e = 0.3 * normal(rng);

  std::FILE* out = std::fopen(f.out.c_str(), "wb");
  if (out == nullptr) Usage(("cannot write " + f.out).c_str());
  std::string line = "y";
  for (int j = 1; j <= f.covariates; ++j) line += ",x" + std::to_string(j);
  line += ",citizen,caseworker\n";
  std::vector<double> x(static_cast<size_t>(f.covariates));
  const int64_t per_centre = std::max<int64_t>(1, f.caseworkers / std::max<int64_t>(1, f.job_centres));
  for (int64_t i = 0; i < f.rows; ++i) {
    int64_t citizen, caseworker;
    if (f.design == "easy") {
      citizen = i * f.citizens / f.rows;  // each citizen's responses are consecutive, as in a register
      const int64_t centre = citizen % f.job_centres;
      if (unit(rng) < f.cross_centre) {
        caseworker = static_cast<int64_t>(rng() % static_cast<uint64_t>(f.caseworkers));
      } else {
        caseworker = std::min(f.caseworkers - 1, centre * per_centre + static_cast<int64_t>(rng() % static_cast<uint64_t>(per_centre)));
      }
    } else {
      citizen = i * f.citizens / f.rows;
      caseworker = citizen * f.caseworkers / f.citizens + static_cast<int64_t>(rng() % 21) - 10;
      caseworker = std::clamp<int64_t>(caseworker, 0, f.caseworkers - 1);
    }
    double y = citizen_effect[static_cast<size_t>(citizen)] + caseworker_effect[static_cast<size_t>(caseworker)] + normal(rng);
    for (int j = 0; j < f.covariates; ++j) {
      x[static_cast<size_t>(j)] = std::round(normal(rng) * 1e6) / 1e6;
      y += 0.1 * (j + 1) * x[static_cast<size_t>(j)];
    }
    y = std::round(y * 1e6) / 1e6;
    Put(line, y);
    for (int j = 0; j < f.covariates; ++j) {
      line += ',';
      Put(line, x[static_cast<size_t>(j)]);
    }
    line += ',';
    Put(line, citizen + 1);
    line += ',';
    Put(line, caseworker + 1);
    line += '\n';
    if (line.size() > (1 << 20)) {
      if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) Usage("write failed (disk full?)");
      line.clear();
    }
  }
  if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fclose(out) != 0)
    Usage("write failed (disk full?)");
  return 0;
}
