# normalise.R - the text normalisation of the sentiment model's training
# data (MODEL_CARD.md, "Text normalisation"): export-data.R applies it to
# every review, and text must be normalised the same way before it is
# classified. The engine does the same in C (sotto_text_normalise,
# engine/src/tokenizers/text.c); tests compare the two.
#
#   source("normalise.R"); normalise(x)       from R
#   Rscript normalise.R < lines > normalised  one text per line

decode_entities <- function(x) {
  x <- gsub("&#([0-9]+);", "\001\\1\002", x, perl = TRUE)
  # numeric entities: decode one by one (few occurrences)
  m <- gregexpr("\001[0-9]+\002", x, perl = TRUE)
  regmatches(x, m) <- lapply(regmatches(x, m), function(v) {
    if (length(v) == 0) return(v)
    cp <- as.integer(gsub("[\001\002]", "", v))
    vapply(cp, function(c) if (is.na(c) || c <= 0 || c > 0x10FFFF) " " else intToUtf8(c), "")
  })
  named <- c(quot = "\"", apos = "'", lt = "<", gt = ">", nbsp = " ",
             eacute = "\u00e9", egrave = "\u00e8", ecirc = "\u00ea",
             aacute = "\u00e1", agrave = "\u00e0", ntilde = "\u00f1",
             uuml = "\u00fc", ouml = "\u00f6", auml = "\u00e4",
             ccedil = "\u00e7", rsquo = "'", lsquo = "'", rdquo = "\"",
             ldquo = "\"", mdash = "-", ndash = "-", hellip = "...")
  for (n in names(named)) {
    x <- gsub(paste0("&", n, ";"), named[[n]], x, fixed = TRUE)
  }
  x <- gsub("&[A-Za-z][A-Za-z0-9]*;", " ", x, perl = TRUE)
  gsub("&amp;", "&", x, fixed = TRUE)
}

normalise <- function(x) {
  x <- enc2utf8(as.character(x))
  x[is.na(x)] <- ""
  x <- gsub("<[^>]*>", " ", x, perl = TRUE)
  x <- decode_entities(x)
  x <- tolower(x)
  x <- gsub("[\u2018\u2019]", "'", x, perl = TRUE)
  x <- gsub("\uFFFD", " ", x, fixed = TRUE)
  x <- gsub("(?<![\\p{L}\\p{N}])'|'(?![\\p{L}\\p{N}])", " ' ", x, perl = TRUE)
  x <- gsub("([^\\p{L}\\p{N}\\s\\p{Z}'])", " \\1 ", x, perl = TRUE)
  x <- gsub("[\\s\\p{Z}\\p{Cc}]+", " ", x, perl = TRUE)
  trimws(x)
}

if (sys.nframe() == 0L) {
  suppressWarnings(invisible(Sys.setlocale("LC_ALL", "C.UTF-8")))
  con <- file("stdin", encoding = "UTF-8")
  x <- readLines(con, warn = FALSE)
  close(con)
  out <- normalise(x)
  writeLines(out, stdout(), useBytes = TRUE)
}
