// --config for subcommands (see config_file.h).
#include "config_file.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"

namespace cwfx::cli {
namespace {

bool GivenOnCommandLine(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
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

  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(file);
  } catch (const CLI::Error& e) {
    throw Error(file + ": not a readable TOML/INI configuration file (" + e.what() + ")");
  }
  std::vector<std::string> flags;
  for (const CLI::ConfigItem& item : items) {
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
      if (v == "true") flags.push_back(flag);
      else if (v != "false")
        throw Error(file + ": key '" + item.name + "' is a switch: write " + item.name + " = true or false");
      continue;
    }
    if (item.inputs.empty()) throw Error(file + ": key '" + item.name + "' has no value");
    if (item.inputs.size() > 1 && option->get_expected_max() == 1)
      throw Error(file + ": key '" + item.name + "' takes one value, not a list");
    flags.push_back(flag);
    for (const std::string& v : item.inputs) flags.push_back(v);
  }
  std::vector<std::string> out(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  out.insert(out.end(), flags.begin(), flags.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace cwfx::cli
