// One rule for every file a command writes, checked before any work starts:
// no output is (by device and inode) one of the run's inputs or another of
// its outputs, no existing file is replaced unless the user said so, and
// every output's directory exists and takes a new file. A run that would
// fail at the end, or destroy what it was given, fails at once instead.
#pragma once

#include <string>
#include <vector>

namespace cwfx {

// A path and the flag or role that named it, for messages ("--out").
struct NamedPath {
  std::string path;
  std::string role;
};

struct OutputPathCheck {
  std::vector<NamedPath> inputs;   // files the run reads (must exist)
  std::vector<NamedPath> outputs;  // files the run creates or replaces
  // Existing outputs may be replaced (the command's --overwrite).
  bool overwrite = false;
  // The flag that allows replacing, named in the refusal; empty when the
  // command has none (then existing outputs are refused outright).
  std::string overwrite_flag = "--overwrite";
  // Outputs a resumed run continues in place: their existence is expected.
  std::vector<std::string> continued;
  // The output that the command's --resume would continue (named in the
  // refusal when it exists), or empty.
  std::string resumable;
};

// Throws cwfx::Error naming the path and its role when a rule is broken.
// Inputs are compared by device and inode, so a symlink or a different
// spelling of the same file is caught; outputs that do not exist yet are
// compared by their normalised absolute paths.
// Also refused: an empty output path, an existing output that is not a
// regular file (a device or pipe would be replaced by a file), an output
// named like another output's journal ("<out>.journal"), and an existing
// temporary file of an output (TemporaryPathFor) - it may be a symlink to an
// input or a file of the user's, and writing through it would destroy it.
void CheckOutputPaths(const OutputPathCheck& check);

// Where an output is written before it is renamed into place: "<path>.tmp",
// or, when that name would exceed the file system's name limit (a legal
// 252-255 byte name), ".cwfx-<hash>.tmp" in the same directory.
std::string TemporaryPathFor(const std::string& path);

}  // namespace cwfx
