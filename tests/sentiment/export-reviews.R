#!/usr/bin/env Rscript
# The sentiment model's reviews as they are and as normalise.R normalises
# them, for the tests that hold the engine's normalisation, calibration and
# accuracy against R and Debian's fastText:
#
#   Rscript tests/sentiment/export-reviews.R OUTDIR
#
# writes OUTDIR/reviews.tsv: set (train, test or edge), label (positive,
# negative; "-" for the hard cases), the raw text and the normalised text,
# tab-separated, with backslash, tab, CR and LF inside texts written as
# \\, \t, \r and \n. The "edge" rows are hard cases for the normaliser:
# markup, entities, apostrophes, Unicode case, marks, spaces and controls.
suppressWarnings(invisible(Sys.setlocale("LC_ALL", "C.UTF-8")))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 1)
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(here, "..", "..", "models", "sentiment", "normalise.R"))

env <- new.env()
data("small_fine_foods", package = "modeldata", envir = env)
label <- function(score) ifelse(as.character(score) == "great", "positive", "negative")
edge <- c(
  "I LOVE it!<br />Won't buy anything else.",
  "Don\u2019t \u2018quote\u2019 me \u2014 it's \u201cgreat\u201d & cheap\u2026 100% \u2713",
  "'90s rock'n'roll students' books ' lone ''double''",
  "&lt;b&gt; &amp;amp; &quot;q&quot; &#39;x&#39; &#8217;s &#x41; &#000065; &nbsp;a&eacute;&Eacute; &foo; & bar;",
  "<a href='x'>link</a> <unclosed text > after <<x>>",
  "Stra\u00dfe STRASSE \u1e9e \u0130stanbul \u03a3\u039f\u03a6\u039f\u03a3 \u041f\u0420\u0418\u0412\u0415\u0422 \u13a0 \u24b6 \u216b \u01c5 \u2126 \u212a \u212b",
  "x\u00b2 \u00bd \u2460 \u2103 \u2113 \u20ac $5.99 3.14 1,000 #1 @user e-mail",
  "cafe\u0301 na\u00efve \u6771\u4eac\u30bf\u30ef\u30fc \ud55c\uad6d\uc5b4 \u0928\u092e\u0938\u094d\u0924\u0947 \u0645\u0631\u062d\u0628\u0627",
  "tab\there\u00a0nbsp\u202fnarrow\u2009thin\u200bzw\u00adsoft\u0001ctl\u0085nel\nline\rcr",
  "emoji \U0001F600\U0001F44D\U0001F3FD flags \U0001F1E9\U0001F1EA ZWJ \U0001F468\u200d\U0001F469",
  "\u00dcmlaut \u00c4\u00d6\u00dc \u00e4\u00f6\u00fc \u00abguillemets\u00bb \u201eAnf\u00fchrung\u201c",
  "   spaces   everywhere   ", "", "'", "a'", "'a",
  "it\u2019s l\u2019\u00e9t\u00e9 d\u2019accord",
  "\uff26\uff35\uff2c\uff2c \uff57\uff49\uff44\uff54\uff48",
  "\u01c8 \u01ca \u01f2 \u2c00 \u2c80 \U00010400 \U0001E900"
)
rows <- rbind(
  data.frame(set = "train", label = label(env$training_data$score), raw = as.character(env$training_data$review)),
  data.frame(set = "test", label = label(env$testing_data$score), raw = as.character(env$testing_data$review)),
  data.frame(set = "edge", label = "-", raw = edge)
)
rows$raw[is.na(rows$raw)] <- ""
esc <- function(x) {
  x <- gsub("\\", "\\\\", x, fixed = TRUE)
  x <- gsub("\t", "\\t", x, fixed = TRUE)
  x <- gsub("\r", "\\r", x, fixed = TRUE)
  gsub("\n", "\\n", x, fixed = TRUE)
}
dir.create(args[[1]], recursive = TRUE, showWarnings = FALSE)
con <- file(file.path(args[[1]], "reviews.tsv"), open = "wb")
writeLines(paste(rows$set, rows$label, esc(rows$raw), esc(normalise(rows$raw)), sep = "\t"), con,
           useBytes = TRUE)
close(con)
cat(sprintf("export-reviews: %d rows in %s\n", nrow(rows), args[[1]]))
