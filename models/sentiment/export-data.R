#!/usr/bin/env Rscript
# Export the Amazon fine food reviews shipped in R's `modeldata` package
# (Debian: r-cran-modeldata, data set `small_fine_foods`) as fastText
# supervised-learning text files.
#
# Usage: Rscript export-data.R OUTDIR [FOLDS]
#
# Writes, in OUTDIR:
#   train.txt                 all 4,000 training reviews
#   test.txt                  the 1,000 held-out test reviews (never used for
#                             model selection)
#   cv/foldK.train.txt        K = 1..FOLDS (default 5): stratified
#   cv/foldK.valid.txt        cross-validation splits of the TRAINING set only
#   summary.tsv               row and label counts of every file written
#
# Labels: score "great" (a 5-star review) -> __label__positive,
#         score "other" (1 to 4 stars)     -> __label__negative.
#
# Text normalisation (the same steps must be applied to text before it is
# classified with the resulting model; see MODEL_CARD.md):
#   1. HTML tags (<br />, <a href=...>, ...) become spaces; numeric
#      entities (&#NN;) and a short list of named ones (&quot; &amp; &lt;
#      &gt; &eacute; ...) are decoded, other entities become spaces.
#   2. Lower-case (Unicode-aware).
#   3. Typographic apostrophes (U+2018, U+2019) become "'"; U+FFFD
#      replacement characters become spaces.
#   4. An apostrophe between two letters/digits stays inside the word
#      ("don't", "it's"); any other apostrophe is a token of its own.
#   5. Every other character that is not a letter, digit or whitespace is
#      surrounded by spaces, so "great!!" becomes "great ! !".
#   6. Runs of whitespace collapse to one space; leading/trailing space is
#      removed. Each review is one line.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1 || length(args) > 2) {
  stop("usage: Rscript export-data.R OUTDIR [FOLDS]", call. = FALSE)
}
outdir <- args[[1]]
folds <- if (length(args) == 2) as.integer(args[[2]]) else 5L
if (is.na(folds) || folds < 2L) stop("FOLDS must be an integer >= 2", call. = FALSE)

suppressWarnings(invisible(Sys.setlocale("LC_ALL", "C.UTF-8")))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

env <- new.env()
data("small_fine_foods", package = "modeldata", envir = env)
train <- env$training_data
test <- env$testing_data
stopifnot(
  nrow(train) == 4000L, nrow(test) == 1000L,
  all(c("review", "score") %in% names(train)),
  all(c("review", "score") %in% names(test)),
  setequal(levels(train$score), c("great", "other")),
  setequal(levels(test$score), c("great", "other"))
)

here <- function() {
  file <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
  if (length(file) == 1) dirname(file) else "."
}
source(file.path(here(), "normalise.R"))

label_of <- function(score) {
  ifelse(as.character(score) == "great", "__label__positive", "__label__negative")
}

to_lines <- function(df) paste(label_of(df$score), normalise(df$review))

write_ft <- function(lines, path) {
  stopifnot(!any(grepl("[\r\n]", lines)))
  con <- file(path, open = "wb")
  on.exit(close(con))
  writeLines(lines, con, sep = "\n", useBytes = TRUE)
}

dir.create(file.path(outdir, "cv"), recursive = TRUE, showWarnings = FALSE)

train_lines <- to_lines(train)
test_lines <- to_lines(test)
write_ft(train_lines, file.path(outdir, "train.txt"))
write_ft(test_lines, file.path(outdir, "test.txt"))

# Stratified K-fold assignment over the training set only (fixed seed).
set.seed(20240517L)
fold <- integer(nrow(train))
for (lev in sort(unique(as.character(train$score)))) {
  idx <- which(as.character(train$score) == lev)
  fold[idx] <- sample(rep_len(seq_len(folds), length(idx)))
}

summ <- data.frame(file = character(), rows = integer(), positive = integer(),
                   negative = integer(), stringsAsFactors = FALSE)
add <- function(summ, name, lines) {
  pos <- sum(startsWith(lines, "__label__positive "))
  rbind(summ, data.frame(file = name, rows = length(lines), positive = pos,
                         negative = length(lines) - pos))
}
summ <- add(summ, "train.txt", train_lines)
summ <- add(summ, "test.txt", test_lines)
for (k in seq_len(folds)) {
  tr <- train_lines[fold != k]
  va <- train_lines[fold == k]
  write_ft(tr, file.path(outdir, "cv", sprintf("fold%d.train.txt", k)))
  write_ft(va, file.path(outdir, "cv", sprintf("fold%d.valid.txt", k)))
  summ <- add(summ, sprintf("cv/fold%d.train.txt", k), tr)
  summ <- add(summ, sprintf("cv/fold%d.valid.txt", k), va)
}
write.table(summ, file.path(outdir, "summary.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
print(summ, row.names = FALSE)
