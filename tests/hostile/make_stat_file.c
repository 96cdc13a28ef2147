/* Fixture writer for the hostile-input corpus (run_corpus.sh compiles it with
 * the system C compiler and libreadstat; it is not part of the build).
 *
 *   make_stat_file IN.csv OUT.{dta,sav,zsav,xpt,sas7bdat}
 *
 * IN.csv is a plain comma-separated file: a header line, then rows, no quoting.
 * A column is numeric when every non-empty value parses completely as a double
 * (strtod: "inf", "nan" and "1e309" included, so hostile values reach the
 * file), otherwise text; an empty numeric value is written as missing. Text
 * bytes are copied as they are (invalid UTF-8 included). */
#include <readstat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define MAX_ROWS 100000

static char *cells[MAX_ROWS][MAX_COLS];
static char *names[MAX_COLS];
static int ncols, nrows;

static ssize_t write_bytes(const void *data, size_t len, void *ctx) {
  return (ssize_t)fwrite(data, 1, len, (FILE *)ctx);
}

static int split(char *line, char **out) {
  int n = 0;
  char *p = line;
  for (;;) {
    char *c = strchr(p, ',');
    if (n >= MAX_COLS) return -1;
    out[n++] = p;
    if (!c) break;
    *c = '\0';
    p = c + 1;
  }
  return n;
}

static int is_numeric(int col) {
  for (int r = 0; r < nrows; ++r) {
    const char *s = cells[r][col];
    if (!*s) continue;
    char *end = NULL;
    strtod(s, &end);
    if (end == s || *end) return 0;
  }
  return 1;
}

static const char *ext_of(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot ? dot + 1 : "";
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN.csv OUT.{dta,sav,zsav,xpt,sas7bdat}\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "r");
  if (!in) { perror(argv[1]); return 2; }
  static char buf[1 << 20];
  int header = 1;
  while (fgets(buf, sizeof buf, in)) {
    size_t len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
    char *copy = strdup(buf);
    char *parts[MAX_COLS];
    int n = split(copy, parts);
    if (n < 0) { fprintf(stderr, "too many columns\n"); return 2; }
    if (header) {
      ncols = n;
      for (int i = 0; i < n; ++i) names[i] = parts[i];
      header = 0;
      continue;
    }
    if (n != ncols) { fprintf(stderr, "row %d: %d fields, header has %d\n", nrows + 1, n, ncols); return 2; }
    if (nrows >= MAX_ROWS) { fprintf(stderr, "too many rows\n"); return 2; }
    for (int i = 0; i < n; ++i) cells[nrows][i] = parts[i];
    ++nrows;
  }
  fclose(in);

  const char *ext = ext_of(argv[2]);
  FILE *out = fopen(argv[2], "wb");
  if (!out) { perror(argv[2]); return 2; }
  readstat_writer_t *w = readstat_writer_init();
  readstat_set_data_writer(w, write_bytes);
  readstat_variable_t *vars[MAX_COLS];
  int numeric[MAX_COLS];
  for (int c = 0; c < ncols; ++c) {
    numeric[c] = is_numeric(c);
    size_t width = 1;
    if (!numeric[c]) {
      for (int r = 0; r < nrows; ++r) {
        size_t l = strlen(cells[r][c]);
        if (l > width) width = l;
      }
    }
    if (numeric[c]) width = 8;  /* full doubles (SAS transport truncates narrower ones) */
    vars[c] = readstat_add_variable(w, names[c], numeric[c] ? READSTAT_TYPE_DOUBLE : READSTAT_TYPE_STRING, width);
  }
  readstat_error_t err;
  if (!strcmp(ext, "dta")) {
    readstat_writer_set_file_format_version(w, 118);
    err = readstat_begin_writing_dta(w, out, nrows);
  } else if (!strcmp(ext, "sav")) {
    err = readstat_begin_writing_sav(w, out, nrows);
  } else if (!strcmp(ext, "zsav")) {
    readstat_writer_set_compression(w, READSTAT_COMPRESS_BINARY);
    err = readstat_begin_writing_sav(w, out, nrows);
  } else if (!strcmp(ext, "xpt")) {
    readstat_writer_set_file_format_version(w, 8);
    err = readstat_begin_writing_xport(w, out, nrows);
  } else if (!strcmp(ext, "sas7bdat")) {
    err = readstat_begin_writing_sas7bdat(w, out, nrows);
  } else {
    fprintf(stderr, "unknown extension .%s\n", ext);
    return 2;
  }
  if (err != READSTAT_OK) { fprintf(stderr, "begin: %s\n", readstat_error_message(err)); return 2; }
  for (int r = 0; r < nrows && err == READSTAT_OK; ++r) {
    err = readstat_begin_row(w);
    for (int c = 0; c < ncols && err == READSTAT_OK; ++c) {
      const char *s = cells[r][c];
      if (numeric[c]) {
        err = *s ? readstat_insert_double_value(w, vars[c], strtod(s, NULL)) : readstat_insert_missing_value(w, vars[c]);
      } else {
        err = readstat_insert_string_value(w, vars[c], s);
      }
    }
    if (err == READSTAT_OK) err = readstat_end_row(w);
  }
  if (err == READSTAT_OK) err = readstat_end_writing(w);
  if (err != READSTAT_OK) { fprintf(stderr, "write: %s\n", readstat_error_message(err)); return 2; }
  readstat_writer_free(w);
  return fclose(out) == 0 ? 0 : 2;
}
