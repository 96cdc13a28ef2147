#include "store/draw_merge.h"

#include <cstring>
#include <filesystem>
#include <map>

#include "core/error.h"

namespace cwfx::store {
namespace {

std::string ShardName(int64_t i, int64_t n) { return std::to_string(i) + "/" + std::to_string(n); }

bool SameEstimate(const DrawSet& a, const DrawSet& b) {
  if (a.estimate.size() != b.estimate.size()) return false;
  for (size_t d = 0; d < a.estimate.size(); ++d) {
    const auto& x = a.estimate[d].values_rc;
    const auto& y = b.estimate[d].values_rc;
    if (x.size() != y.size() || std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) != 0) return false;
  }
  return true;
}

}  // namespace

MergeReport MergeDrawFiles(const std::string& out, const std::vector<std::string>& shards, bool overwrite) {
  if (shards.empty()) throw Error(Location{out, -1, ""}, "merge: no shard files given");
  std::error_code ec;
  for (const auto& s : shards) {
    if (std::filesystem::exists(s, ec) && std::filesystem::exists(out, ec) &&
        std::filesystem::equivalent(s, out, ec))
      throw Error(Location{out, -1, ""}, "merge: the output is also one of the shards");
  }
  std::vector<DrawSet> sets;
  sets.reserve(shards.size());
  for (const auto& s : shards) {
    if (!std::filesystem::exists(s, ec))
      throw Error(Location{s, -1, ""}, "shard file does not exist (rerun that shard, or leave it out of the list)");
    try {
      sets.push_back(ReadDraws(s));
    } catch (const Error& e) {
      throw Error(Location{s, -1, ""}, std::string("shard cannot be read (corrupt or not a draw file; rerun it with "
                                                   "--resume, which rebuilds it from its journal): ") +
                                           e.what());
    }
  }
  const DrawSet& first = sets[0];
  const int64_t n = first.shard_count;
  std::map<int64_t, size_t> owner;  // shard index -> file
  for (size_t k = 0; k < sets.size(); ++k) {
    const DrawSet& d = sets[k];
    if (std::string diff = DrawIdentityDifference(first.identity, d.identity); !diff.empty())
      throw Error(Location{shards[k], -1, ""}, "shard comes from another run than " + shards[0] + ": " + diff);
    if (d.replications != first.replications)
      throw Error(Location{shards[k], -1, ""}, "shard has " + std::to_string(d.replications) + " rows, " +
                                                   shards[0] + " " + std::to_string(first.replications));
    if (d.shard_count != n)
      throw Error(Location{shards[k], -1, ""}, "shard " + ShardName(d.shard_index, d.shard_count) + " of a split into " +
                                                   std::to_string(d.shard_count) + ", " + shards[0] + " of one into " +
                                                   std::to_string(n));
    if (auto [it, fresh] = owner.emplace(d.shard_index, k); !fresh)
      throw Error(Location{shards[k], -1, ""},
                  "two files for shard " + ShardName(d.shard_index, n) + ": " + shards[it->second] + " and this one");
    int64_t missing = 0, first_missing = -1;
    for (int64_t r = d.shard_index; r < d.replications; r += n) {
      if (!d.completed[static_cast<size_t>(r)]) {
        if (first_missing < 0) first_missing = r;
        ++missing;
      }
    }
    if (missing > 0 || d.status != "complete") {
      throw Error(Location{shards[k], -1, ""},
                  "shard " + ShardName(d.shard_index, n) + " is not complete (status '" + d.status + "', " +
                      std::to_string(missing) + " of its rows missing" +
                      (first_missing >= 0 ? ", the first " + std::to_string(first_missing) : std::string()) +
                      "): rerun it with --resume");
    }
    if (!SameEstimate(first, d))
      throw Error(Location{shards[k], -1, ""}, "shard's full-sample estimate differs from " + shards[0] + "'s");
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!owner.count(i))
      throw Error(Location{out, -1, ""}, "merge: shard " + ShardName(i, n) + " is missing from the list (" +
                                             std::to_string(sets.size()) + " of " + std::to_string(n) +
                                             " given); run it with --shard " + ShardName(i, n) + " and merge again");
  }

  if (overwrite) {
    std::filesystem::remove(out, ec);
    std::filesystem::remove(out + ".journal", ec);
  }
  for (const std::string& existing : {out, out + ".journal"}) {
    if (std::filesystem::exists(existing, ec))
      throw Error(Location{existing, -1, ""}, "already exists: pass --overwrite to replace the merged file");
  }
  // A merge has no --resume (the shards are its journal): a merge that fails
  // half way, on a full disk say, removes what it wrote and says how to redo it.
  try {
    DrawWriter writer = DrawWriter::Open(out, first.identity, first.replications, false);
    if (!first.estimate.empty()) {
      DrawRecord est;
      for (const auto& m : first.estimate) est.values.push_back(m.values_rc);
      writer.WriteEstimate(est);
    }
    DrawRecord rec;
    rec.values.resize(first.datasets.size());
    for (int64_t r = 0; r < first.replications; ++r) {
      const DrawSet& d = sets[owner.at(r % n)];
      rec.replication = r;
      for (size_t k = 0; k < d.datasets.size(); ++k) {
        const DrawMatrix& m = d.datasets[k];
        rec.values[k].assign(m.values_rc.begin() + r * m.cols, m.values_rc.begin() + (r + 1) * m.cols);
      }
      writer.Append(rec);
    }
    writer.Finish();
  } catch (const Error& e) {
    std::filesystem::remove(out, ec);
    std::filesystem::remove(out + ".journal", ec);
    throw Error(e.kind(), Location{},
                std::string(e.what()) + "; the partial merged file was removed and the shards are untouched: "
                                        "free the space (or fix the cause) and run the same merge again");
  }
  return {first.identity.scheme, first.replications, static_cast<int64_t>(sets.size())};
}

}  // namespace cwfx::store
