# The peer side of bench/peer/run.sh: fixest's feols + fixef on a panel CSV,
# the whole process (read, fit, recover effects), with explicit threads.
#   Rscript fixest_fit.R FILE.csv THREADS RLIB
# FILE.csv has y, x1..xk, citizen, caseworker (bench/peer/peer_panel).
args <- commandArgs(trailingOnly = TRUE)
file <- args[1]
threads <- as.integer(args[2])
.libPaths(c(args[3], .libPaths()))
suppressPackageStartupMessages({
  library(data.table)
  library(fixest)
})
setDTthreads(threads)
setFixest_nthreads(threads)
d <- fread(file, nThread = threads)
xs <- grep("^x[0-9]+$", names(d), value = TRUE)
f <- as.formula(paste("y ~", paste(xs, collapse = " + "), "| caseworker + citizen"))
m <- feols(f, d, nthreads = threads)
fe <- fixef(m)
cat(sprintf("fixest: n = %d, %d coefficients, %d caseworker effects, %d citizen effects, iterations %s\n",
            nobs(m), length(coef(m)), length(fe$caseworker), length(fe$citizen),
            paste(m$iterations, collapse = ",")))
