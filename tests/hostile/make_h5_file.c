/* Hostile HDF5 registers for the corpus (run_corpus.sh compiles it with the
 * system C compiler and libhdf5; it is not part of the build).
 *
 *   make_h5_file KIND OUT.h5
 *
 * Writes /register with 60 rows in the layout of engine/store/table_store.h
 * (columns id, cw, y, x1 as doubles; @columns naming them) and one defect
 * chosen by KIND:
 *   valid          no defect
 *   int_types      cw as int32, y as float32, x1 as uint8 (documented: accepted)
 *   vlen_text_id   cw as variable-length UTF-8 strings (accepted)
 *   ragged         x1 has 59 rows
 *   huge_dim       y declares 10^12 rows (chunked, nothing stored)
 *   two_d          x1 is 60 x 2
 *   compound       x1 is a compound {a, b}
 *   nan_id         cw is NaN at row 7 (0-based row 6)
 *   inf_outcome    y is +Inf at row 7
 *   bad_utf8_id    cw is text; every row of caseworker 5 (first: row 4) is "\xff\xfe"
 *   ghost_column   @columns names "ghost", which has no dataset
 *   columns_int    @columns is an int attribute
 *   no_columns     no datasets at all (an empty group)
 *   zero_rows      every column has 0 rows
 *   external_link  y is an external link to /nonexistent/other.h5:/y
 *   soft_loop      y is a soft link to itself
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 60

static hid_t g;

static void put_doubles(const char *name, const double *v, hsize_t n) {
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t d = H5Dcreate2(g, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (n) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  H5Dclose(d);
  H5Sclose(sp);
}

static void put_typed(const char *name, hid_t file_type, hid_t mem_type, const void *v, hsize_t n) {
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t d = H5Dcreate2(g, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  H5Dclose(d);
  H5Sclose(sp);
}

static void put_columns_attr(const char **names, int n) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hsize_t dim = (hsize_t)n;
  hid_t sp = H5Screate_simple(1, &dim, NULL);
  hid_t a = H5Acreate2(g, "columns", t, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, names);
  H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
}

static void put_text(const char *name, char **v, int fixed) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hsize_t n = N;
  hid_t sp = H5Screate_simple(1, &n, NULL);
  if (fixed) {
    /* Fixed length 4, NUL-padded: the bytes are copied as they are. */
    H5Tset_size(t, 4);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    char *buf = calloc(N, 4);
    for (int i = 0; i < N; ++i) memcpy(buf + 4 * i, v[i], 4);
    hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    free(buf);
  } else {
    H5Tset_size(t, H5T_VARIABLE);
    hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
  }
  H5Sclose(sp);
  H5Tclose(t);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s KIND OUT.h5\n", argv[0]);
    return 2;
  }
  const char *kind = argv[1];
  double id[N], cw[N], y[N], x1[N];
  unsigned s = 12345;
  for (int i = 0; i < N; ++i) {
    s = s * 1103515245u + 12345u;
    id[i] = i + 1;
    cw[i] = (i + 1) % 12 + 1;
    x1[i] = ((i + 1) * 37 % 101) / 10.0;
    y[i] = 0.5 * x1[i] + 0.1 * cw[i] + (s >> 8) / 16777216.0 - 0.5;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) { fprintf(stderr, "cannot create %s\n", argv[2]); return 2; }
  g = H5Gcreate2(f, "/register", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const char *names[] = {"id", "cw", "y", "x1"};
  const char *ghost_names[] = {"id", "cw", "y", "x1", "ghost"};

  if (!strcmp(kind, "no_columns")) {
    /* nothing */
  } else if (!strcmp(kind, "zero_rows")) {
    put_doubles("id", id, 0); put_doubles("cw", cw, 0); put_doubles("y", y, 0); put_doubles("x1", x1, 0);
    put_columns_attr(names, 4);
  } else {
    put_doubles("id", id, N);
    /* cw */
    if (!strcmp(kind, "int_types")) {
      int v[N];
      for (int i = 0; i < N; ++i) v[i] = (int)cw[i];
      put_typed("cw", H5T_STD_I32LE, H5T_NATIVE_INT, v, N);
    } else if (!strcmp(kind, "vlen_text_id") || !strcmp(kind, "bad_utf8_id")) {
      char *v[N];
      for (int i = 0; i < N; ++i) {
        v[i] = calloc(1, 16);
        snprintf(v[i], 16, "c%d", (int)cw[i]);
        if ((int)cw[i] == 5) {
          if (!strcmp(kind, "bad_utf8_id")) strcpy(v[i], "\xff\xfe");
        }
      }
      put_text("cw", v, 0);
    } else {
      if (!strcmp(kind, "nan_id")) cw[6] = NAN;
      put_doubles("cw", cw, N);
    }
    /* y */
    if (!strcmp(kind, "int_types")) {
      float v[N];
      for (int i = 0; i < N; ++i) v[i] = (float)y[i];
      put_typed("y", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v, N);
    } else if (!strcmp(kind, "huge_dim")) {
      hsize_t n = 1000000000000ull, chunk = 1024;
      hid_t sp = H5Screate_simple(1, &n, NULL);
      hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(pl, 1, &chunk);
      hid_t d = H5Dcreate2(g, "y", H5T_IEEE_F64LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
      H5Dclose(d); H5Pclose(pl); H5Sclose(sp);
    } else if (!strcmp(kind, "external_link")) {
      H5Lcreate_external("/nonexistent/other.h5", "/y", g, "y", H5P_DEFAULT, H5P_DEFAULT);
    } else if (!strcmp(kind, "soft_loop")) {
      H5Lcreate_soft("/register/y", g, "y", H5P_DEFAULT, H5P_DEFAULT);
    } else {
      if (!strcmp(kind, "inf_outcome")) y[6] = INFINITY;
      put_doubles("y", y, N);
    }
    /* x1 */
    if (!strcmp(kind, "int_types")) {
      unsigned char v[N];
      for (int i = 0; i < N; ++i) v[i] = (unsigned char)(x1[i] * 10);
      put_typed("x1", H5T_STD_U8LE, H5T_NATIVE_UCHAR, v, N);
    } else if (!strcmp(kind, "ragged")) {
      put_doubles("x1", x1, N - 1);
    } else if (!strcmp(kind, "two_d")) {
      hsize_t dims[2] = {N, 2};
      double v[N][2];
      for (int i = 0; i < N; ++i) v[i][0] = v[i][1] = x1[i];
      hid_t sp = H5Screate_simple(2, dims, NULL);
      hid_t d = H5Dcreate2(g, "x1", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
      H5Dclose(d); H5Sclose(sp);
    } else if (!strcmp(kind, "compound")) {
      typedef struct { double a; int b; } pair;
      pair v[N];
      for (int i = 0; i < N; ++i) { v[i].a = x1[i]; v[i].b = i; }
      hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(pair));
      H5Tinsert(t, "a", HOFFSET(pair, a), H5T_NATIVE_DOUBLE);
      H5Tinsert(t, "b", HOFFSET(pair, b), H5T_NATIVE_INT);
      put_typed("x1", t, t, v, N);
      H5Tclose(t);
    } else {
      put_doubles("x1", x1, N);
    }
    /* @columns */
    if (!strcmp(kind, "ghost_column")) {
      put_columns_attr(ghost_names, 5);
    } else if (!strcmp(kind, "columns_int")) {
      int v[4] = {1, 2, 3, 4};
      hsize_t dim = 4;
      hid_t sp = H5Screate_simple(1, &dim, NULL);
      hid_t a = H5Acreate2(g, "columns", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, H5T_NATIVE_INT, v);
      H5Aclose(a); H5Sclose(sp);
    } else {
      put_columns_attr(names, 4);
    }
  }
  H5Gclose(g);
  if (H5Fclose(f) < 0) { fprintf(stderr, "cannot close %s\n", argv[2]); return 2; }
  return 0;
}
