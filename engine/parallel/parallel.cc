#include "parallel/parallel.h"

#include <thread>

namespace cwfx::parallel {

Context::Context(int threads) {
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  threads_ = threads > 0 ? threads : (hw > 0 ? hw : 1);
  arena_ = std::make_shared<tbb::task_arena>(threads_);
}

}  // namespace cwfx::parallel
