// --config for subcommands (see config_file.h).
#include "config_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace cwfx::cli {
namespace {

std::string g_config_path;
std::vector<std::string> g_config_flags;

bool GivenOnCommandLine(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
}

// CLI11's TOML reader is lenient: an unterminated quote becomes part of the
// value ('outcome = "y' asks for a column '"y') and a NUL byte cuts a line.
// Those are errors in the file, named by its line.
void CheckConfigSyntax(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    auto fail = [&](const std::string& what) {
      throw Error(file + ", line " + std::to_string(number) + ": " + what);
    };
    if (line.find('\0') != std::string::npos) fail("a NUL byte: not a text configuration file");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    const std::string text = line.substr(first, line.find_last_not_of(" \t") - first + 1);
    if (text[0] == '[') {
      if (text.back() != ']') fail("a section header needs its closing ']'");
      continue;
    }
    const size_t eq = text.find('=');
    if (eq == std::string::npos) fail("expected 'key = value', found '" + text + "'");
    const size_t v = text.find_first_not_of(" \t", eq + 1);
    if (v == std::string::npos) fail("the key has no value");
    const char open = text[v];
    if (open == '"' || open == '\'') {
      const size_t close = text.find(open, v + 1);
      if (close == std::string::npos) fail(std::string("unterminated quoted value (no closing ") + open + ")");
      const size_t after = text.find_first_not_of(" \t", close + 1);
      if (after != std::string::npos && text[after] != '#')
        fail("unexpected text after the quoted value: '" + text.substr(after) + "'");
    } else if (open == '[' && text.find(']', v) == std::string::npos) {
      fail("unterminated list (no closing ])");
    }
  }
}

}  // namespace

std::vector<std::string> ExpandConfigFile(const CLI::App& app, const std::vector<std::string>& args) {
  // The subcommand: the first argument naming one.
  size_t at = args.size();
  const CLI::App* sub = nullptr;
  for (size_t i = 0; i < args.size() && sub == nullptr; ++i) {
    for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
      if (s->get_name() == args[i]) sub = s, at = i;
  }
  if (sub == nullptr) return args;
  std::string file;
  std::vector<std::string> rest;  // the command line after the subcommand, without --config
  for (size_t i = at + 1; i < args.size(); ++i) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) throw Error("--config needs a file name");
      file = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (file.empty()) return args;
  if (!std::filesystem::is_regular_file(file)) throw Error(file + ": configuration file not found");
  g_config_path = file;
  CheckConfigSyntax(file);

  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(file);
  } catch (const CLI::Error& e) {
    throw Error(file + ": not a readable TOML/INI configuration file (" + e.what() + ")");
  }
  std::vector<std::string> flags;
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // CLI11's markers of a section's start and end
    for (const std::string& parent : item.parents)
      if (parent != sub->get_name() && parent != "default")
        throw Error(file + ": section [" + parent + "] is not the subcommand '" + sub->get_name() + "'");
    std::string name = item.name;
    const CLI::Option* option = sub->get_option_no_throw("--" + name);
    if (option == nullptr) {
      std::replace(name.begin(), name.end(), '_', '-');
      option = sub->get_option_no_throw("--" + name);
    }
    if (option == nullptr || name == "config" || name == "help")
      throw Error(file + ": unknown key '" + item.name + "' for cwfx " + sub->get_name() +
                  " (keys are the flags of `cwfx " + sub->get_name() + " --help` without the dashes)");
    const std::string flag = "--" + name;
    if (GivenOnCommandLine(rest, flag)) continue;  // the command line wins
    if (option->get_expected_max() == 0) {  // a switch: true or false
      const std::string v = item.inputs.size() == 1 ? item.inputs[0] : "";
      if (v == "true") flags.push_back(flag), g_config_flags.push_back(flag);
      else if (v != "false")
        throw Error(file + ": key '" + item.name + "' is a switch: write " + item.name + " = true or false");
      continue;
    }
    if (item.inputs.empty()) throw Error(file + ": key '" + item.name + "' has no value");
    if (item.inputs.size() > 1 && option->get_expected_max() == 1)
      throw Error(file + ": key '" + item.name + "' takes one value, not a list");
    flags.push_back(flag);
    g_config_flags.push_back(flag);
    for (const std::string& v : item.inputs) flags.push_back(v);
  }
  std::vector<std::string> out(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  out.insert(out.end(), flags.begin(), flags.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

const std::string& ConfigFilePath() { return g_config_path; }

bool FlagFromConfigFile(const std::string& flag) {
  return std::find(g_config_flags.begin(), g_config_flags.end(), flag) != g_config_flags.end();
}

}  // namespace cwfx::cli
