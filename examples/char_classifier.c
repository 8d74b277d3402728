/* SPDX-License-Identifier: MIT */
/*
 * char_classifier.c - a character-level sequence classifier: each string holds one 'x' and
 * one 'y' among filler letters, and the class says which comes first. Counting characters
 * cannot tell (both strings have the same letters); a recurrent layer reading the string in
 * order can. CSV text with a text column -> token ids (nb_data_opts.tokens), an embedding
 * sized by the learned vocabulary, a GRU, a dense output; evaluated on strings it never saw.
 */
#include <nabla.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* n rows of "text,order" CSV into buf (cap bytes); strings of 4..12 letters */
static size_t make_csv(char *buf, size_t cap, int n, uint64_t seed)
{
    nb_rng r;
    nb_rng_seed(&r, seed);
    size_t len = (size_t)snprintf(buf, cap, "text,order\n");
    for (int i = 0; i < n && len + 32 < cap; i++) {
        int t = 4 + (int)(nb_rng_u64(&r) % 9), a = (int)(nb_rng_u64(&r) % (uint64_t)t), b;
        do b = (int)(nb_rng_u64(&r) % (uint64_t)t); while (b == a);
        char s[16];
        for (int k = 0; k < t; k++) s[k] = "abcde"[nb_rng_u64(&r) % 5];
        s[a] = 'x', s[b] = 'y';
        s[t] = '\0';
        len += (size_t)snprintf(buf + len, cap - len, "%s,%s\n", s, a < b ? "xy" : "yx");
    }
    return len;
}

int main(void)
{
    static char train_csv[64 * 1024], test_csv[16 * 1024];
    size_t n_train = make_csv(train_csv, sizeof train_csv, 2000, 1);
    size_t n_test = make_csv(test_csv, sizeof test_csv, 500, 2);

    nb_data_opts o = nb_data_opts_default();
    o.tokens = NB_TOKENS_CHARS; /* the text column as a sequence of characters */
    nb_preproc *pp = NULL;      /* learns the vocabulary and the length from the training data */
    nb_dataset *train = NULL, *test = NULL;
    nb_model *m = NULL;
    nb_metrics mt;
    nb_train_config cfg = nb_train_config_default(); /* Adam lr 1e-3, batch 64 */
    cfg.epochs = 30;
    int st = nb_preproc_create(&pp);
    if (!st) st = nb_dataset_load_csv_text("train.csv", train_csv, n_train, &o, pp, &train);
    if (!st) st = nb_dataset_load_csv_text("test.csv", test_csv, n_test, &o, pp, &test);
    if (!st) st = nb_model_parse("embedding 8; gru 32; dense 2", NB_TASK_CLASSIFY, &m);
    if (!st) st = nb_model_set_vocab(m, nb_preproc_vocab_size(pp));
    if (!st) st = nb_model_build(m, nb_dataset_sample_rank(train), nb_dataset_sample_shape(train), 2);
    if (!st) st = nb_model_train(m, train, NULL, &cfg, NULL);
    if (!st) st = nb_model_evaluate(m, test, &mt);
    if (st) {
        fprintf(stderr, "error: %s\n", nb_errmsg());
        return 1;
    }
    printf("model: %s\n", nb_model_spec(m));
    printf("vocabulary %lld ids, strings of up to %lld characters\n",
           (long long)nb_preproc_vocab_size(pp), (long long)nb_dataset_sample_shape(train)[0]);
    printf("test accuracy %.1f%% on 500 unseen strings\n", 100 * mt.accuracy);
    int ok = mt.accuracy >= 0.95;
    nb_metrics_free(&mt);
    nb_model_free(m);
    nb_dataset_free(train);
    nb_dataset_free(test);
    nb_preproc_free(pp);
    return ok ? 0 : 2;
}
