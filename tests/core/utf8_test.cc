#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace cwfx {
namespace {

constexpr size_t kValid = std::string::npos;

TEST(Utf8Test, AcceptsEveryWellFormedLength) {
  EXPECT_EQ(FindInvalidUtf8(""), kValid);
  EXPECT_EQ(FindInvalidUtf8("caseworker 17"), kValid);
  EXPECT_EQ(FindInvalidUtf8("Jens S\xC3\xB8rensen"), kValid);          // 2 bytes
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82\xAC 5"), kValid);                // 3 bytes (euro)
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F\x98\x80"), kValid);              // 4 bytes
  EXPECT_EQ(FindInvalidUtf8("\xF4\x8F\xBF\xBF"), kValid);              // U+10FFFF
}

TEST(Utf8Test, FindsTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8("S\xF8rensen"), 1u);             // Latin-1 o-slash
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);                  // stray continuation byte
  EXPECT_EQ(FindInvalidUtf8("\xC3"), 0u);                    // cut short
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);                // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);            // overlong, 3 bytes
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);           // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);        // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xFF"), 0u);
  EXPECT_EQ(FindInvalidUtf8("ok\xE2\x82"), 2u);              // 3-byte form cut short
}

}  // namespace
}  // namespace cwfx
