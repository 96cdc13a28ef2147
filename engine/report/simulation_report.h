// The HTML page of a Monte Carlo simulation (simulate/simulation.h): the
// evidence table (each estimator's bias, RMSE and interval coverage per grid
// point) and plots of the key metrics against each grid parameter.
#pragma once

#include <string>

#include "simulate/simulation.h"

namespace cwfx::report {

struct SimulationReportContext {
  std::string title = "Caseworker effects: simulation with known truth";
  std::string command, created, results_file;
};

// Pure: the whole HTML document.
std::string RenderSimulationReport(const simulate::SimulationSummary& summary, const SimulationReportContext& context);

}  // namespace cwfx::report
