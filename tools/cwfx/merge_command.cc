// cwfx merge: joins the shards of a replication or simulation run (--shard
// i/n) into one file with the rows of a single-process run.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "config_file.h"
#include "core/output_paths.h"
#include "store/draw_merge.h"

namespace cwfx::cli {
namespace {

struct MergeFlags {
  std::string out;
  std::vector<std::string> shards;
  bool overwrite = false;
  bool quiet = false;
};

int RunMergeCommand(const MergeFlags& f) {
  OutputPathCheck check;
  check.outputs = {{f.out, "--out"}};
  check.overwrite = f.overwrite;
  for (const auto& shard : f.shards) check.inputs.push_back({shard, "shard"});
  if (!ConfigFilePath().empty()) check.inputs.push_back({ConfigFilePath(), "--config"});
  CheckOutputPaths(check);
  const store::MergeReport r = store::MergeDrawFiles(f.out, f.shards, f.overwrite);
  if (!f.quiet) {
    std::printf("Merged %lld shard file(s) of scheme %s: %lld rows in %s\n", static_cast<long long>(r.shards),
                r.scheme.c_str(), static_cast<long long>(r.rows), f.out.c_str());
  }
  return 0;
}

}  // namespace

Action AddMergeCommand(CLI::App& app) {
  auto flags = std::make_shared<MergeFlags>();
  CLI::App* sub = app.add_subcommand(
      "merge",
      "Join the shards of a cwfx replicate or cwfx simulate run (--shard i/n) into one file; a missing, partial, "
      "corrupt or foreign shard is refused by name");
  sub->add_option("--out", flags->out, "The merged file (.h5)")->required();
  sub->add_option("shards", flags->shards, "The shard files, one per shard (any order)")->required();
  sub->add_flag("--overwrite", flags->overwrite, "Replace an existing merged file");
  sub->add_flag("--quiet", flags->quiet, "Print nothing on success");
  return [flags] { return RunMergeCommand(*flags); };
}

}  // namespace cwfx::cli
