#!/usr/bin/env Rscript
# Calibration of the sentiment model (train.sh step 7), from the
# out-of-fold predictions of fold models made exactly as the final model:
#
#   Rscript calibrate.R DATA_DIR CALIBRATION_DIR FOLDS
#
# reads DATA_DIR/cv/foldK.valid.txt (labels and normalised text) and, from
# CALIBRATION_DIR, cal_fK.pred (`fasttext predict-prob MODEL - 2` on that
# fold) and cal_fK.words (the fold model's dictionary), and prints:
#   - Platt scaling: p = 1 / (1 + exp(-(a z + b))), z = logit of fastText's
#     probability of "positive" (clamped to [1e-5, 1 - 1e-5]), fit by
#     maximum likelihood (glm, binomial) on the out-of-fold probabilities;
#   - expected calibration error (10 equal bins of the top class's
#     probability) before and after, on the same out-of-fold predictions;
#   - the share of a text's words (tokens with a letter or digit) that its
#     fold model knows: the 2nd percentile over the held-out reviews, below
#     which the engine says the evidence is too weak to judge.
suppressWarnings(invisible(Sys.setlocale("LC_ALL", "C.UTF-8")))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 3)
data <- args[[1]]
dir <- args[[2]]
folds <- as.integer(args[[3]])

y <- integer(); p <- numeric(); known <- numeric()
for (k in seq_len(folds)) {
  valid <- readLines(file.path(data, "cv", sprintf("fold%d.valid.txt", k)), encoding = "UTF-8")
  pred <- readLines(file.path(dir, sprintf("cal_f%d.pred", k)))
  words <- readLines(file.path(dir, sprintf("cal_f%d.words", k)), encoding = "UTF-8")
  stopifnot(length(valid) == length(pred))
  y <- c(y, as.integer(startsWith(valid, "__label__positive ")))
  p <- c(p, vapply(strsplit(pred, " "), function(t) {
    as.numeric(t[which(t == "__label__positive") + 1])
  }, 0))
  text <- sub("^__label__\\S+ ", "", valid, perl = TRUE)
  known <- c(known, vapply(strsplit(text, " "), function(t) {
    w <- t[grepl("[\\p{L}\\p{N}]", t, perl = TRUE)]
    if (length(w) == 0) 1 else mean(w %in% words)
  }, 0))
}
z <- qlogis(pmin(pmax(p, 1e-5), 1 - 1e-5))
fit <- glm(y ~ z, family = binomial())
a <- unname(coef(fit)[["z"]])
b <- unname(coef(fit)[["(Intercept)"]])
cal <- plogis(a * z + b)

ece <- function(p, y) {
  conf <- pmax(p, 1 - p)
  right <- as.integer((p >= 0.5) == (y == 1))
  bin <- pmin(floor(conf * 10), 9)
  sum(vapply(split(seq_along(conf), bin), function(i) {
    length(i) / length(conf) * abs(mean(conf[i]) - mean(right[i]))
  }, 0))
}
cat(sprintf("out-of-fold reviews: %d\n", length(y)))
cat(sprintf("out-of-fold accuracy: %.4f\n", mean((p >= 0.5) == (y == 1))))
cat(sprintf("platt a: %.6f\n", a))
cat(sprintf("platt b: %.6f\n", b))
cat(sprintf("ece before: %.4f\n", ece(p, y)))
cat(sprintf("ece after: %.4f\n", ece(cal, y)))
cat(sprintf("known words, 2nd percentile: %.4f\n", unname(quantile(known, 0.02, type = 1))))
