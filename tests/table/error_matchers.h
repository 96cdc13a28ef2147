// Assertions on where a cwfx::Error points (file, row, column) and what it says.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"

namespace cwfx::testing {

// Runs `body`, which must throw cwfx::Error at (row, column) with a message
// containing `text`; file must be `file` unless empty.
inline ::testing::AssertionResult ThrowsAt(const std::function<void()>& body, const std::string& file,
                                           int64_t row, const std::string& column, const std::string& text) {
  try {
    body();
  } catch (const cwfx::Error& e) {
    const Location& w = e.where();
    if ((!file.empty() && w.file != file) || w.row != row || w.column != column ||
        std::string(e.what()).find(text) == std::string::npos) {
      return ::testing::AssertionFailure() << "got Error{file=" << w.file << ", row=" << w.row << ", column='"
                                           << w.column << "'}: " << e.what() << "\nwanted row=" << row
                                           << " column='" << column << "' text containing '" << text << "'";
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-cwfx exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace cwfx::testing
