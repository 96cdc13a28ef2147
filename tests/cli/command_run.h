// Shared by the command-line suites: run a shell command and capture what it
// prints, and compare two draw files bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "store/draw_file.h"

namespace cwfx::testing {

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// `command` through the shell, stderr merged into stdout.
inline CommandRun RunCommand(const std::string& command) {
  CommandRun run;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return run;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, got);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Both files complete, the same rows stored, every dataset equal bit for bit (NaN included).
inline void ExpectSameDraws(const std::string& a, const std::string& b) {
  const store::DrawSet x = store::ReadDraws(a), y = store::ReadDraws(b);
  EXPECT_EQ(x.status, "complete");
  EXPECT_EQ(y.status, "complete");
  EXPECT_EQ(x.completed, y.completed);
  ASSERT_EQ(x.datasets.size(), y.datasets.size());
  for (size_t d = 0; d < x.datasets.size(); ++d) {
    const auto& u = x.datasets[d].values_rc;
    const auto& v = y.datasets[d].values_rc;
    ASSERT_EQ(u.size(), v.size()) << x.datasets[d].name;
    EXPECT_EQ(std::memcmp(u.data(), v.data(), u.size() * sizeof(double)), 0) << x.datasets[d].name;
  }
}

}  // namespace cwfx::testing
