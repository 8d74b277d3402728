/* SPDX-License-Identifier: MIT */
/*
 * test_locale.c - numbers are written and read identically under every locale. A host program
 * (a GUI, typically) may call setlocale(LC_ALL, "de_DE.UTF-8"), whose decimal point is ','; the
 * model file, the preprocessing JSON, the JSON writer and reader, the CSV reader and the layer
 * spec must give exactly what they give under "C". The de_DE.UTF-8 locale must be installed
 * (scripts/deps.sh generates it); without it this test fails and says so.
 */
#include "data_fixture.h"
#include "ds_fixture.h"
#include "json.h"

#include <locale.h>
#include <stdlib.h>

#define SPEC "dense 4; leaky_relu 0.2; dropout 0.25; elu 1.5; dense 3"
#define CSV "a,b,label\n1.5,-0.25,x\n2.75,3e-2,y\n0.125,1.0625,z\n-4.5,2.5,x\n"

/* Everything the library writes, for one locale. */
typedef struct results {
    char *model;     /* the bytes of a saved model file (spec, preproc JSON, weights) */
    size_t model_n;
    char *pp_json;   /* nb_preproc_to_json after learning the CSV and fitting scaling */
    char json[256];  /* nb__json_put_float of a few values */
    double parsed;   /* nb__json_parse of a decimal number */
    float x[8];      /* the CSV's features */
    float pred[12];  /* predictions of the model loaded back from its file */
    char spec[128];  /* nb_model_spec of the loaded model */
} results;

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(1 << 20);
    *n = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

static void run(const char *tag, results *r)
{
    memset(r, 0, sizeof *r);
    nb_data_opts o = nb_data_opts_default();
    o.task = NB_TASK_CLASSIFY;
    o.label = "label";
    o.header = 1;
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load(fx_text("locale.csv", CSV), &o, pp, &ds));
    if (!ds) return;
    CHECK(nb_dataset_n_rows(ds) == 4 && nb_dataset_n_features(ds) == 2);
    for (int i = 0; i < 8; i++) r->x[i] = ds_x(ds, i);
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_STANDARD, ds));
    CHECK_OK(nb_preproc_to_json(pp, &r->pp_json));

    nb__buf b = {0};
    nb__json_put_float(&b, 0.026);
    nb__buf_puts(&b, ",");
    nb__json_put_float(&b, -1.5e-7);
    nb__buf_puts(&b, ",");
    nb__json_put_float(&b, 1234.5);
    if (b.data) snprintf(r->json, sizeof r->json, "%s", b.data);
    nb__buf_free(&b);
    nb__json *v = NULL;
    const char *doc = "{\"x\":0.026,\"y\":[1.5e-3]}";
    CHECK_OK(nb__json_parse(doc, strlen(doc), 8, "doc", &v));
    const nb__json *x = v ? nb__json_get(v, "x") : NULL;
    CHECK(x && x->type == NB_JSON_NUMBER);
    if (x) r->parsed = x->number;
    nb__json_free(v);

    nb_model *m = NULL, *l = NULL;
    nb_preproc *lpp = NULL;
    CHECK_OK(nb_model_parse(SPEC, NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, 3));
    CHECK_OK(nb_model_init(m, NB_INIT_TORCH, 1.0f, 42));
    char path[64];
    snprintf(path, sizeof path, "model-%s.safetensors", tag);
    CHECK_OK(nb_model_save(m, fx_path(path), pp));
    r->model = slurp(fx_path(path), &r->model_n);
    CHECK_OK(nb_model_load(fx_path(path), &l, &lpp));
    if (l) {
        snprintf(r->spec, sizeof r->spec, "%s", nb_model_spec(l));
        CHECK_OK(nb_model_predict(l, r->x, 4, r->pred));
    }
    CHECK(lpp != NULL && nb_preproc_n_classes(lpp) == 3);
    nb_model_free(m);
    nb_model_free(l);
    nb_preproc_free(lpp);
    nb_preproc_free(pp);
    nb_dataset_free(ds);
}

static void free_results(results *r)
{
    free(r->model);
    nb_free(r->pp_json);
}

int main(void)
{
    fx_setup();
    results c, de;
    run("C", &c);
    /* sanity: the C locale results are the right numbers */
    CHECK(strcmp(c.json, "0.026,-1.5e-07,1234.5") == 0);
    CHECK(c.parsed == 0.026);
    CHECK(c.x[0] == 1.5f && c.x[1] == -0.25f && c.x[3] == 0.03f && c.x[5] == 1.0625f);
    CHECK(strcmp(c.spec, SPEC) == 0);

    if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
        fprintf(stderr, "test_locale: the locale de_DE.UTF-8 is not installed, so this test cannot "
                        "check a comma-decimal locale; run scripts/deps.sh (it installs the 'locales' "
                        "package and generates de_DE.UTF-8)\n");
        CHECK(0);
    } else {
        char probe[16];
        snprintf(probe, sizeof probe, "%g", 0.5);
        CHECK(strcmp(probe, "0,5") == 0); /* the locale really has a comma decimal point */
        run("de", &de);
        setlocale(LC_ALL, "C");
        CHECK(de.model && c.model && de.model_n == c.model_n &&
              memcmp(de.model, c.model, c.model_n) == 0);
        CHECK(de.pp_json && c.pp_json && strcmp(de.pp_json, c.pp_json) == 0);
        CHECK(strcmp(de.json, c.json) == 0);
        CHECK(de.parsed == c.parsed);
        CHECK(memcmp(de.x, c.x, sizeof c.x) == 0);
        CHECK(strcmp(de.spec, c.spec) == 0);
        CHECK(memcmp(de.pred, c.pred, sizeof c.pred) == 0);
        free_results(&de);
    }
    free_results(&c);
    fx_cleanup();
    return check_exit("test_locale");
}
