// The oneTBB wrapper. Parallelism is passed in as a Context (a task arena with
// a fixed number of threads); every parallel loop has a serial path that runs
// the same body, taken when the context has one thread.
//
// Determinism rule: bodies must write to disjoint outputs, or reduce in a
// fixed order (see ParallelReduceOrdered), so results never depend on the
// thread count.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace cwfx::parallel {

class Context {
 public:
  // threads <= 0 means all hardware threads.
  explicit Context(int threads = 0);

  int threads() const { return threads_; }

  // Runs f inside this context's arena (so nested TBB loops respect the limit).
  template <class F>
  void Run(F&& f) const {
    if (threads_ == 1) {
      f();
    } else {
      arena_->execute(std::forward<F>(f));
    }
  }

 private:
  int threads_;
  std::shared_ptr<tbb::task_arena> arena_;
};

// body(lo, hi) over [begin, end) in chunks of at least `grain`.
template <class Body>
void ParallelFor(const Context& ctx, int64_t begin, int64_t end, int64_t grain, Body&& body) {
  if (end <= begin) return;
  if (ctx.threads() == 1 || end - begin <= grain) {
    body(begin, end);
    return;
  }
  ctx.Run([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(begin, end, grain),
                      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
  });
}

// Splits [0, n) into fixed blocks (independent of thread count), computes
// block_fn(lo, hi) -> T for each block in parallel, then folds the partial
// results in block order with combine(acc, part). Bit-identical for any
// thread count.
template <class T, class BlockFn, class Combine>
T ParallelReduceOrdered(const Context& ctx, int64_t n, int64_t block, T init, BlockFn&& block_fn,
                        Combine&& combine) {
  if (n <= 0) return init;
  const int64_t nblocks = (n + block - 1) / block;
  std::vector<T> parts(static_cast<size_t>(nblocks), init);
  ParallelFor(ctx, 0, nblocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t lo = b * block;
      const int64_t hi = lo + block < n ? lo + block : n;
      parts[static_cast<size_t>(b)] = block_fn(lo, hi);
    }
  });
  T acc = init;
  for (auto& p : parts) combine(acc, p);
  return acc;
}

}  // namespace cwfx::parallel
