/* Shared by the files of csrc/report/ only (not installed, not part of the API). */
#ifndef BLOCKOPS_REPORT_INTERNAL_H
#define BLOCKOPS_REPORT_INTERNAL_H

#include "blockops/bo_report.h"

/* bo_report_parse without the free/re-allocate: rep (initialized) keeps its arrays from one
 * call to the next and only grows them, so parsing thousands of small files in a row does not
 * allocate per file. Same results and errors as bo_report_parse; on failure rep->n is 0 (the
 * arrays are kept; bo_report_free releases them). */
bo_status bo_report_parse_reuse(const char *data, size_t len, bo_report *rep, bo_error *err);

#endif
