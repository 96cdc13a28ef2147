// `--config FILE` for every subcommand. CLI11 2.1 reads configuration files
// only for the main program, so a subcommand's `set_config` silently did
// nothing. Here the file is read before parsing and its keys become flags of
// the chosen subcommand, placed before the command line's own, so that:
//   - a flag on the command line wins over the same key in the file;
//   - every key goes through the flag's own checks (type, range, choices);
//   - an unknown key, a flag given a wrong kind of value, or a missing or
//     unreadable file is an error naming the file (and the key).
// Keys are the flags' long names without "--" (`min-citizens`, or
// `min_citizens`); a section header, if any, must name the subcommand.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cwfx::cli {

// args = argv[1..argc) in order. Returns them with `--config FILE` replaced by
// the file's flags (unchanged when no subcommand or no --config is given).
// Throws cwfx::Error for a bad file or key.
std::vector<std::string> ExpandConfigFile(const CLI::App& app, const std::vector<std::string>& args);

// The --config file of this run ("" if none): an input like the data, which
// no output may replace.
const std::string& ConfigFilePath();

// Flags that came from the config file, by long name ("--threads"), so that
// a parse error on one can name the file and key.
bool FlagFromConfigFile(const std::string& flag);

}  // namespace cwfx::cli
