// The study's synthetic register, its study, and replication problems on it,
// built once per test binary (the study preset takes a fraction of a second).
#pragma once

#include <memory>

#include "data_gen/generator.h"
#include "parallel/parallel.h"
#include "replicate/problem.h"
#include "study/study.h"

namespace cwfx::testing {

struct StudyCase {
  table::Table data;
  study::StudyResult study;
};

// One-way (caseworker effects) or two-way (also citizen effects) study on the
// default synthetic register.
inline const StudyCase& SharedStudy(bool two_way) {
  static std::unique_ptr<StudyCase> cases[2];
  auto& c = cases[two_way ? 1 : 0];
  if (!c) {
    c = std::make_unique<StudyCase>();
    const parallel::Context ctx(2);
    c->data = datagen::Generate(datagen::GeneratorOptions::Preset("study"), 20170507, ctx).responses;
    study::StudyOptions o;
    o.add_citizen_effects = two_way;
    o.characterise = false;
    c->study = study::RunStudy(c->data, o, ctx);
  }
  return *c;
}

inline replicate::ReplicationProblem MakeProblem(bool two_way, replicate::Scheme scheme, uint64_t seed = 7) {
  replicate::ReplicationOptions o;
  o.scheme = scheme;
  o.seed = seed;
  const StudyCase& c = SharedStudy(two_way);
  return replicate::BuildProblem(c.data, c.study, o, parallel::Context(2));
}

}  // namespace cwfx::testing
