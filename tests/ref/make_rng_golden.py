#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Independent reference for nabla's RNG stream (tests/ref/rng_golden.txt).

xoshiro256** seeded through splitmix64, uniform = (x >> 40) * 2^-24, normal by Marsaglia's
polar method on 53-bit uniforms in (-1, 1), rounded to float32. Written from the algorithms'
published definitions, not from nabla's C code, so test_kernels checks two implementations.
Run: /usr/bin/python3 tests/ref/make_rng_golden.py > tests/ref/rng_golden.txt
"""
import math
import struct

M = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Xoshiro:
    def __init__(self, seed):
        self.s = []
        st = seed
        for _ in range(4):
            st, v = splitmix64(st)
            self.s.append(v)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def main():
    r = Xoshiro(2026)
    out = [f32((r.next() >> 40) * 2.0**-24) for _ in range(3)]
    while len(out) < 6:
        u = (r.next() >> 11) * 2.0**-52 - 1.0
        v = (r.next() >> 11) * 2.0**-52 - 1.0
        s = u * u + v * v
        if s >= 1.0 or s == 0.0:
            continue
        out.append(f32(u * math.sqrt(-2.0 * math.log(s) / s)))
    print(" ".join(float.hex(x).replace("0x1.", "0x1.") for x in out))


if __name__ == "__main__":
    main()
