#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torch_words.py - PyTorch's reference for issue 15's second recipe, "which language is this
word?": `embedding 32; lstm 128; dense 9` on the characters of the words of `make words`.

usage: torch_words.py [--train CSV] [--test CSV] [--epochs N] [--threads N] [--seed N]
  defaults: build/words/train.csv, build/words/test.csv, 8 epochs, torch's thread count, seed 1

The construction, as the nabla recipe is meant to do it:
  tokens      the characters (code points) of a word; the vocabulary is learned from the
              training file only: ids by frequency (most frequent first), then by the character
              (code-point order) on a tie, from 2; 0 is padding, 1 an unknown character (a
              character of the test file the training file never had)
  model       nn.Embedding(V, 32, padding_idx=0) -> nn.LSTM(32, 128, batch_first=True) over
              pack_padded_sequence (each word's own length: the state at its last character,
              padding never seen) -> nn.Linear(128, 9) on that last hidden state
  training    softmax cross-entropy (mean over the batch), Adam lr 1e-3 (PyTorch's other
              defaults), batch 64, the training rows shuffled each epoch by a torch.Generator
              seeded with --seed, 8 epochs; weights initialised by PyTorch's defaults after
              torch.manual_seed(--seed)
  classes     the language codes in sorted order
It prints one line per epoch (loss, training accuracy, test accuracy, seconds) and at the end
  words-torch test_accuracy=A s_per_epoch=S epochs=E threads=T vocab=V
where s/epoch is the mean wall-clock time of the training loops only (batch assembly, forward,
backward, step; not the evaluations).
"""
import argparse
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

BATCH, EMB, HIDDEN, LR = 64, 32, 128, 1e-3


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines[0] != "word,lang":
        raise SystemExit(f"{path}: expected the header 'word,lang' (made by `make words`)")
    rows = [tuple(l.split(",")) for l in lines[1:] if l]
    return [w for w, _ in rows], [lang for _, lang in rows]


def vocabulary(words):
    count = {}
    for w in words:
        for c in w:
            count[c] = count.get(c, 0) + 1
    order = sorted(count, key=lambda c: (-count[c], c))
    return {c: i + 2 for i, c in enumerate(order)}


def encode(words, vocab):
    n, width = len(words), max(len(w) for w in words)
    ids = torch.zeros(n, width, dtype=torch.long)
    for i, w in enumerate(words):
        ids[i, : len(w)] = torch.tensor([vocab.get(c, 1) for c in w])
    return ids, torch.tensor([len(w) for w in words])


class WordLang(nn.Module):
    def __init__(self, vocab_size, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, EMB, padding_idx=0)
        self.lstm = nn.LSTM(EMB, HIDDEN, batch_first=True)
        self.dense = nn.Linear(HIDDEN, classes)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.dense(h[-1])  # h: the state at each word's own last character


def batch(ids, lengths, rows):
    l = lengths[rows]
    return ids[rows, : int(l.max())], l


def accuracy(model, ids, lengths, y):
    model.eval()
    right = 0
    with torch.inference_mode():
        for s in range(0, len(y), 1000):
            rows = torch.arange(s, min(s + 1000, len(y)))
            x, l = batch(ids, lengths, rows)
            right += int((model(x, l).argmax(1) == y[rows]).sum())
    model.train()
    return right / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", default="build/words/train.csv")
    ap.add_argument("--test", default="build/words/test.csv")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0, help="0: torch's default")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    tr_words, tr_lang = read_csv(a.train)
    te_words, te_lang = read_csv(a.test)
    vocab = vocabulary(tr_words)
    classes = sorted(set(tr_lang))
    cls = {c: i for i, c in enumerate(classes)}
    tr_ids, tr_len = encode(tr_words, vocab)
    te_ids, te_len = encode(te_words, vocab)
    tr_y = torch.tensor([cls[c] for c in tr_lang])
    te_y = torch.tensor([cls[c] for c in te_lang])

    torch.manual_seed(a.seed)
    model = WordLang(len(vocab) + 2, len(classes))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    times = []
    for epoch in range(1, a.epochs + 1):
        t0 = time.monotonic()
        perm = torch.randperm(len(tr_y), generator=gen)
        total, right = 0.0, 0
        for s in range(0, len(perm), BATCH):
            rows = perm[s : s + BATCH]
            x, l = batch(tr_ids, tr_len, rows)
            opt.zero_grad(set_to_none=True)
            logits = model(x, l)
            loss = loss_fn(logits, tr_y[rows])
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
            right += int((logits.argmax(1) == tr_y[rows]).sum())
        times.append(time.monotonic() - t0)
        print(f"epoch {epoch}: loss {total / len(perm):.4f} train_acc {right / len(perm):.4f} "
              f"test_acc {accuracy(model, te_ids, te_len, te_y):.4f} {times[-1]:.1f} s", flush=True)
    print(f"words-torch test_accuracy={accuracy(model, te_ids, te_len, te_y):.4f} "
          f"s_per_epoch={sum(times) / len(times):.2f} epochs={a.epochs} "
          f"threads={torch.get_num_threads()} vocab={len(vocab) + 2}")


if __name__ == "__main__":
    main()
