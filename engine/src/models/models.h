/*
 * models/ - one file per model family: fastText classifiers, the extractive
 * (LexRank) summarizer, and the transformer families as they come. Each
 * family has config / weights / state structs and a forward pass that reads
 * top to bottom. May include runtime/, tokenizers/, formats/, ops/, core/.
 *
 * registry.c implements sotto_model_add: it recognises the file's format
 * (formats/) and hands the bytes to the loader of the family that runs it.
 */
#ifndef SOTTO_MODELS_H
#define SOTTO_MODELS_H

#include "core/core.h"

/* A family's loader: reads m->file (the model's bytes), fills m->impl,
 * m->destroy, m->arch and m->bytes. A loader that copies what it needs
 * releases m->file itself; one that uses the bytes in place keeps it. */
typedef int (*sotto_model_loader)(sotto_model *m, sotto_error *err);

#endif /* SOTTO_MODELS_H */
