/*
 * pngsegments.c — PNG image data (IDAT) compressed in independent segments, for parallel encoding.
 *
 * What: the rows of an image are cut into segments of consecutive rows. Each segment is filtered
 * (PNG filter method 0; the filter of a segment's first row still uses the row above it, so the
 * filtered byte stream is exactly the one-stream encoder's) and compressed as its own raw deflate
 * stream that starts with an empty dictionary and ends byte-aligned on an empty stored block
 * (Z_SYNC_FLUSH), except the last, which ends with a final block (Z_FINISH). Concatenated behind
 * the two-byte zlib header, they form one valid zlib stream (RFC 1950/1951): a decoder sees a
 * sequence of deflate blocks whose back-references never reach into an earlier segment. The
 * Adler-32 of the whole stream is combined from the segments' (zlib adler32_combine), and each
 * segment is returned as a complete IDAT chunk, so segments can be written as soon as they and
 * all before them are ready. This is how pigz parallelises gzip.
 * Why: zlib deflates 16-bit photographic rows at 50–100 MB/s on one core; a 24 MP 16-bit image is
 * 144 MB. Segments let every core compress, and the output does not depend on how many did.
 * Reference: PNG Specification 2nd ed. (ISO/IEC 15948:2003) §9 (filters), §10 (zlib datastream,
 * IDAT split anywhere), §5.3 (chunk CRC); RFC 1950 (zlib), RFC 1951 §3.2.4 (stored blocks);
 * zlib manual (Z_SYNC_FLUSH, adler32_combine).
 */
#include "pngshim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int seg_fail(char *message, int code, const char *format, ...) {
    if (message) {
        va_list args;
        va_start(args, format);
        vsnprintf(message, EMU_PNG_MESSAGE_SIZE, format, args);
        va_end(args);
    }
    return code;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Row y as PNG bytes (16-bit samples big-endian). Returns the first out-of-range 8-bit sample index or -1. */
static long seg_row_bytes(const uint16_t *samples, size_t row_samples, int bit_depth, uint32_t y, uint8_t *out) {
    const uint16_t *source = samples + (size_t)y * row_samples;
    if (bit_depth == 16) {
        for (size_t i = 0; i < row_samples; i++) {
            uint16_t v = source[i];
            out[2 * i] = (uint8_t)(v >> 8);
            out[2 * i + 1] = (uint8_t)v;
        }
        return -1;
    }
    uint16_t high = 0;
    for (size_t i = 0; i < row_samples; i++) {
        high |= source[i];
        out[i] = (uint8_t)source[i];
    }
    if (high > 0xFF)
        for (size_t i = 0; i < row_samples; i++)
            if (source[i] > 0xFF) return (long)i;
    return -1;
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
    int p = (int)a + (int)b - (int)c;
    int pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
}

/* Filters `cur` (with `prev` the row above, all zeros for the first row) into out[0] = type, out[1...]. */
static void seg_filter(int type, const uint8_t *cur, const uint8_t *prev, size_t n, size_t bpp, uint8_t *out) {
    out[0] = (uint8_t)type;
    uint8_t *o = out + 1;
    switch (type) {
    case 0: memcpy(o, cur, n); break;
    case 1:
        for (size_t i = 0; i < bpp && i < n; i++) o[i] = cur[i];
        for (size_t i = bpp; i < n; i++) o[i] = (uint8_t)(cur[i] - cur[i - bpp]);
        break;
    case 2:
        for (size_t i = 0; i < n; i++) o[i] = (uint8_t)(cur[i] - prev[i]);
        break;
    case 3:
        for (size_t i = 0; i < bpp && i < n; i++) o[i] = (uint8_t)(cur[i] - (prev[i] >> 1));
        for (size_t i = bpp; i < n; i++) o[i] = (uint8_t)(cur[i] - (uint8_t)(((unsigned)cur[i - bpp] + prev[i]) >> 1));
        break;
    default:
        for (size_t i = 0; i < bpp && i < n; i++) o[i] = (uint8_t)(cur[i] - prev[i]);
        for (size_t i = bpp; i < n; i++) o[i] = (uint8_t)(cur[i] - paeth(cur[i - bpp], prev[i], prev[i - bpp]));
        break;
    }
}

/* libpng's heuristic for adaptive filtering: the smallest sum of |filtered byte as signed|. */
static unsigned long seg_cost(const uint8_t *filtered, size_t n) {
    unsigned long sum = 0;
    for (size_t i = 1; i <= n; i++) sum += (unsigned long)abs((int)(int8_t)filtered[i]);
    return sum;
}


/* Adler-32 (RFC 1950 §8.2) of `n` bytes continuing `adler`: zlib's result, four to eight times
   faster with SSE2 (zlib 1.2.13's scalar loop was 6 % of a whole render). Per 16-byte chunk with
   sums s1, s2 before it: s1 += Σ b_i, s2 += 16·s1 + Σ (16 − i)·b_i. Blocks of 1 KiB keep every
   32-bit lane far from overflow before the modulo. Elsewhere: zlib's own. */
#if defined(__SSE2__)
#include <emmintrin.h>
static uint32_t seg_adler32(uint32_t adler, const uint8_t *p, size_t n) {
    uint32_t s1 = adler & 0xFFFF, s2 = adler >> 16;
    const __m128i zero = _mm_setzero_si128();
    const __m128i weights_low = _mm_set_epi16(9, 10, 11, 12, 13, 14, 15, 16);
    const __m128i weights_high = _mm_set_epi16(1, 2, 3, 4, 5, 6, 7, 8);
    while (n >= 16) {
        size_t block = n < 1024 ? n & ~(size_t)15 : 1024;
        __m128i sum = zero, prefix = zero, weighted = zero;
        for (size_t k = 0; k < block; k += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(p + k));
            prefix = _mm_add_epi32(prefix, sum);
            sum = _mm_add_epi32(sum, _mm_sad_epu8(x, zero));
            weighted = _mm_add_epi32(weighted, _mm_madd_epi16(_mm_unpacklo_epi8(x, zero), weights_low));
            weighted = _mm_add_epi32(weighted, _mm_madd_epi16(_mm_unpackhi_epi8(x, zero), weights_high));
        }
        uint32_t lanes[4], prefixes[4], weights[4];
        _mm_storeu_si128((__m128i *)lanes, sum);
        _mm_storeu_si128((__m128i *)prefixes, prefix);
        _mm_storeu_si128((__m128i *)weights, weighted);
        uint64_t bytes = (uint64_t)lanes[0] + lanes[2];
        uint64_t t2 = (uint64_t)s2 + (uint64_t)s1 * block + 16 * ((uint64_t)prefixes[0] + prefixes[2])
                    + (uint64_t)weights[0] + weights[1] + weights[2] + weights[3];
        s1 = (uint32_t)(((uint64_t)s1 + bytes) % 65521);
        s2 = (uint32_t)(t2 % 65521);
        p += block;
        n -= block;
    }
    for (size_t k = 0; k < n; k++) { s1 += p[k]; s2 += s1; }
    return (s2 % 65521) << 16 | (s1 % 65521);
}
#else
static uint32_t seg_adler32(uint32_t adler, const uint8_t *p, size_t n) { return (uint32_t)adler32(adler, p, (uInt)n); }
#endif

/* CRC-32 (ISO 3309, as PNG chunks and zlib's crc32 use it) of `n` bytes continuing `crc`, with
   PCLMULQDQ where the CPU has it (checked once at run time; the build stays x86-64 baseline):
   zlib 1.2.13's table loop was 6-8 % of a whole render. The method is carry-less folding
   (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ", Intel 2009):
   a 128-bit block X followed by Y leaves the same remainder as Y ^ (X.lo · k₁ ^ X.hi · k₂), the
   k the bit-reflected x^(128·s ± 32) mod P (times 2), s the stride in blocks; four blocks are
   folded in parallel, then into one. The last block is finished by zlib (16 bytes), which
   replaces the usual Barrett reduction. Constants checked by deriving them in a Python model
   (x^n mod P) and by the tests against an independent table CRC. Elsewhere: zlib's own. */
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <wmmintrin.h>
__attribute__((target("pclmul,sse2")))
static __m128i seg_fold(__m128i x, __m128i k, __m128i next) {
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

/* n ≥ 64 and a multiple of 16. */
__attribute__((target("pclmul,sse2")))
static uint32_t seg_crc32_folded(uint32_t crc, const uint8_t *p, size_t n) {
    const __m128i by4 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);  /* k for x^(4·128 ∓ 32): hi, lo */
    const __m128i by1 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);  /* k for x^(128 ∓ 32) */
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)~crc));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    size_t i = 64;
    for (; i + 64 <= n; i += 64) {
        x0 = seg_fold(x0, by4, _mm_loadu_si128((const __m128i *)(p + i)));
        x1 = seg_fold(x1, by4, _mm_loadu_si128((const __m128i *)(p + i + 16)));
        x2 = seg_fold(x2, by4, _mm_loadu_si128((const __m128i *)(p + i + 32)));
        x3 = seg_fold(x3, by4, _mm_loadu_si128((const __m128i *)(p + i + 48)));
    }
    __m128i z = seg_fold(seg_fold(seg_fold(x0, by1, x1), by1, x2), by1, x3);
    for (; i < n; i += 16) z = seg_fold(z, by1, _mm_loadu_si128((const __m128i *)(p + i)));
    /* z, read as 16 message bytes from a zero register, has the whole input's remainder; zlib's
       pre- and post-inversion then give the CRC: crc32(~0, z) = ~remainder. */
    uint8_t last[16];
    _mm_storeu_si128((__m128i *)last, z);
    return (uint32_t)crc32(0xFFFFFFFFu, last, 16);
}

static uint32_t seg_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    /* Reads the CPU model the runtime filled in at start-up: cheap, and no state of our own. */
    if (n >= 64 && __builtin_cpu_supports("pclmul")) {
        size_t folded = n & ~(size_t)15;
        crc = seg_crc32_folded(crc, p, folded);
        p += folded;
        n -= folded;
    }
    return (uint32_t)crc32(crc, p, (uInt)n);
}
#else
static uint32_t seg_crc32(uint32_t crc, const uint8_t *p, size_t n) { return (uint32_t)crc32(crc, p, (uInt)n); }
#endif

uint32_t emu_png_crc32(uint32_t crc, const uint8_t *bytes, size_t length) { return seg_crc32(crc, bytes, length); }

/* ------------------------------------------------------------------------------------------------ */
/* Fast Huffman-only deflate (EMU_PNG_STRATEGY_FAST_HUFFMAN)                                        */
/*
 * The rows of a segment as dynamic-Huffman deflate blocks of literals only (RFC 1951 §3.2.7): no
 * match search at all, one histogram and one table lookup per byte. On 16-bit photographic rows
 * (whose low bytes are sensor noise) this compresses as well as zlib's own Huffman-only and RLE
 * strategies at several times their speed (docs/PERFORMANCE.md).
 */

typedef struct { uint8_t *out; size_t length; uint64_t bits; int count; } seg_bits;

static inline __attribute__((always_inline)) void bits_put(seg_bits *b, uint32_t value, int n) {
    b->bits |= (uint64_t)value << b->count;
    b->count += n;
    if (b->count >= 32) {
        uint32_t w = (uint32_t)b->bits;
        b->out[b->length] = (uint8_t)w; b->out[b->length + 1] = (uint8_t)(w >> 8);
        b->out[b->length + 2] = (uint8_t)(w >> 16); b->out[b->length + 3] = (uint8_t)(w >> 24);
        b->length += 4;
        b->bits >>= 32;
        b->count -= 32;
    }
}

static void bits_align(seg_bits *b) {
    while (b->count > 0) {
        b->out[b->length++] = (uint8_t)b->bits;
        b->bits >>= 8;
        b->count = b->count > 8 ? b->count - 8 : 0;
    }
    b->bits = 0;
}

/* Huffman code lengths ≤ limit for n symbols (zero frequency → length 0). At least two symbols
   must have non-zero frequency. Frequencies are flattened until the tree fits the limit.
   The tree is built in O(n log n): leaves sorted by weight, then the two-queue method (van
   Leeuwen 1976): merged nodes come out in non-decreasing weight, so the two lightest of all are
   always at the heads of the leaf queue and the node queue. (An O(n²) search per merge cost 4 % of
   a whole render: one tree per 512 KiB block.) */
static void huffman_lengths(const uint32_t *frequency, int n, int limit, uint8_t *lengths) {
    uint32_t f[288];
    for (int i = 0; i < n; i++) f[i] = frequency[i];
    for (;;) {
        int order[288], leaves = 0;
        for (int i = 0; i < n; i++) if (f[i] > 0) order[leaves++] = i;
        /* Insertion sort by (weight, symbol): ≤ 288 entries, mostly in runs. */
        for (int i = 1; i < leaves; i++) {
            int v = order[i], j = i - 1;
            while (j >= 0 && f[order[j]] > f[v]) { order[j + 1] = order[j]; j--; }
            order[j + 1] = v;
        }
        uint64_t weight[576];
        int parent[576];
        for (int i = 0; i < leaves; i++) { weight[i] = f[order[i]]; parent[i] = -1; }
        int nodes = leaves, nextLeaf = 0, nextNode = leaves;
        for (int merged = 0; merged < leaves - 1; merged++) {
            int pick[2];
            for (int k = 0; k < 2; k++) {
                if (nextLeaf < leaves && (nextNode >= nodes || weight[nextLeaf] <= weight[nextNode])) pick[k] = nextLeaf++;
                else pick[k] = nextNode++;
            }
            weight[nodes] = weight[pick[0]] + weight[pick[1]];
            parent[nodes] = -1;
            parent[pick[0]] = parent[pick[1]] = nodes;
            nodes++;
        }
        /* Depths from the root down: parents always have larger indices than their children. */
        int depth[576];
        int longest = 0;
        for (int i = nodes - 1; i >= 0; i--) depth[i] = parent[i] < 0 ? 0 : depth[parent[i]] + 1;
        for (int i = 0; i < n; i++) lengths[i] = 0;
        for (int i = 0; i < leaves; i++) {
            lengths[order[i]] = (uint8_t)depth[i];
            if (depth[i] > longest) longest = depth[i];
        }
        if (longest <= limit) return;
        for (int i = 0; i < n; i++) if (f[i] > 0) f[i] = (f[i] >> 1) | 1;
    }
}

/* Canonical codes (RFC 1951 §3.2.2), bit-reversed for LSB-first output. */
static void huffman_codes(const uint8_t *lengths, int n, uint16_t *codes) {
    int count[16] = {0}, next[16] = {0};
    for (int i = 0; i < n; i++) count[lengths[i]]++;
    count[0] = 0;
    int code = 0;
    for (int bits = 1; bits < 16; bits++) { code = (code + count[bits - 1]) << 1; next[bits] = code; }
    for (int i = 0; i < n; i++) {
        int len = lengths[i];
        if (!len) { codes[i] = 0; continue; }
        int c = next[len]++, r = 0;
        for (int k = 0; k < len; k++) { r = (r << 1) | (c & 1); c >>= 1; }
        codes[i] = (uint16_t)r;
    }
}

static inline __attribute__((always_inline)) void store64le(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
#endif
}

/* One dynamic block of literals `data[0..<n]` plus end-of-block. */
static void huffman_block(seg_bits *b, const uint8_t *data, size_t n, int final) {
    /* The histogram is taken over one 256-byte run in four (the block's statistics, at a quarter
       of the reads) with one added to every literal so each has a code. Four partial tables:
       16-bit rows repeat the same high byte every other position, and one table would make each
       increment wait for the last one to the same counter. */
    uint32_t partial[4][256];
    for (int k = 0; k < 4; k++) for (int i = 0; i < 256; i++) partial[k][i] = k == 0;
    for (size_t run = 0; run < n; run += 1024) {
        size_t end = run + 256 < n ? run + 256 : n, h = run;
        for (; h + 4 <= end; h += 4) {
            partial[0][data[h]]++; partial[1][data[h + 1]]++; partial[2][data[h + 2]]++; partial[3][data[h + 3]]++;
        }
        for (; h < end; h++) partial[0][data[h]]++;
    }
    uint32_t frequency[257];
    for (int i = 0; i < 256; i++) frequency[i] = partial[0][i] + partial[1][i] + partial[2][i] + partial[3][i];
    frequency[256] = 1;
    uint8_t lengths[259];
    huffman_lengths(frequency, 257, 15, lengths);
    lengths[257] = 1; lengths[258] = 1;  /* two distance codes of one bit (none used; zlib does the same) */
    uint16_t codes[257];
    huffman_codes(lengths, 257, codes);

    /* Code-length code: lengths sent one symbol each (0..15), Huffman-coded with ≤ 7 bits. */
    uint32_t cl_frequency[19] = {0};
    for (int i = 0; i < 259; i++) cl_frequency[lengths[i]]++;
    int cl_used = 0;
    for (int i = 0; i < 19; i++) cl_used += cl_frequency[i] > 0;
    if (cl_used < 2) cl_frequency[cl_frequency[0] ? 1 : 0] = 1;
    uint8_t cl_lengths[19];
    huffman_lengths(cl_frequency, 19, 7, cl_lengths);
    uint16_t cl_codes[19];
    huffman_codes(cl_lengths, 19, cl_codes);
    static const int order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

    bits_put(b, final ? 1 : 0, 1);
    bits_put(b, 2, 2);            /* BTYPE 10: dynamic Huffman */
    bits_put(b, 257 - 257, 5);    /* HLIT */
    bits_put(b, 2 - 1, 5);        /* HDIST */
    bits_put(b, 19 - 4, 4);       /* HCLEN */
    for (int i = 0; i < 19; i++) bits_put(b, cl_lengths[order[i]], 3);
    for (int i = 0; i < 259; i++) bits_put(b, cl_codes[lengths[i]], cl_lengths[lengths[i]]);

    /* The hot loop: literals into a 64-bit accumulator holding < 8 bits, then all eight bytes
       stored and the pointer moved by the whole bytes filled: no branch on the bit count, which
       a two-literal step with a conditional 32-bit flush mispredicted about every other step.
       Four literals a step where every code is at most 14 bits (4 · 14 + 7 < 64; nearly every
       block: the limit of 15 is rarely reached), three otherwise (3 · 15 + 7). Codes and lengths
       in two tables: one load each, where a packed entry needed a mask and a shift more (a C
       loop over 12 MB of 16-bit noise: 0.93 ns/byte packed, three a step; 0.82 split; 0.71 four
       a step). The output has slack for the over-store (huffman_bound); the store is
       little-endian, as deflate's bit order wants. */
    uint8_t lens[256];
    int longest = 0;
    for (int i = 0; i < 256; i++) {
        lens[i] = lengths[i];
        if (lengths[i] > longest) longest = lengths[i];
    }
    uint64_t acc = b->bits;
    unsigned count = (unsigned)b->count;
    uint8_t *o = b->out + b->length;
    size_t i = 0;
    while (count >= 8) { *o++ = (uint8_t)acc; acc >>= 8; count -= 8; }
#define SEG_LITERAL(k) acc |= (uint64_t)codes[data[i + (k)]] << count; count += lens[data[i + (k)]];
    if (longest <= 14) {
        for (; i + 4 <= n; i += 4) {
            SEG_LITERAL(0) SEG_LITERAL(1) SEG_LITERAL(2) SEG_LITERAL(3)
            store64le(o, acc);
            o += count >> 3;
            acc >>= count & ~7u;
            count &= 7;
        }
    } else {
        for (; i + 3 <= n; i += 3) {
            SEG_LITERAL(0) SEG_LITERAL(1) SEG_LITERAL(2)
            store64le(o, acc);
            o += count >> 3;
            acc >>= count & ~7u;
            count &= 7;
        }
    }
#undef SEG_LITERAL
    b->bits = acc;
    b->count = (int)count;
    b->length = (size_t)(o - b->out);
    for (; i < n; i++) bits_put(b, codes[data[i]], lens[data[i]]);
    bits_put(b, codes[256], lengths[256]);
}

/* Bytes needed at most for `n` literals in blocks of `block` bytes. */
static size_t huffman_bound(size_t n, size_t block) {
    return 2 * n + (n / block + 2) * 300 + 64 + 8;  /* literals ≤ 15 bits; block headers ≤ 300 bytes; 8 over-stored */
}

#define SEG_HUFFMAN_BLOCK (512 * 1024)

/* Codes the `*filled` bytes at `data` as the segment's next block (its last deflate block where
   it ends the image: `final_at` is the segment's length then, 0 otherwise) and empties it. */
static void seg_code_block(seg_bits *b, const uint8_t *data, size_t *filled, size_t *coded, uint64_t final_at) {
    *coded += *filled;
    huffman_block(b, data, *filled, final_at != 0 && *coded == final_at);
    *filled = 0;
}

uint32_t emu_png_adler32_combine(uint32_t adler1, uint32_t adler2, uint64_t length2) {
    return (uint32_t)adler32_combine(adler1, adler2, (z_off_t)length2);  /* z_off_t is 64-bit on LP64 */
}

void emu_png_finish_chunks(uint32_t adler, uint8_t out[EMU_PNG_FINISH_SIZE]) {
    /* IDAT holding the zlib stream's Adler-32 trailer, then IEND. */
    put32(out, 4);
    memcpy(out + 4, "IDAT", 4);
    put32(out + 8, adler);
    put32(out + 12, (uint32_t)crc32(0, out + 4, 8));
    put32(out + 16, 0);
    memcpy(out + 20, "IEND", 4);
    put32(out + 24, (uint32_t)crc32(0, out + 20, 4));
}

int emu_png_deflate_segment(const uint16_t *samples, uint32_t width, uint32_t height, int channels, int bit_depth,
                            uint32_t first_row, uint32_t row_count, int filter, int compression_level, int strategy,
                            int is_first, int is_last,
                            uint8_t **out_chunk, size_t *out_length, uint32_t *out_adler, uint64_t *out_raw_length,
                            char message[EMU_PNG_MESSAGE_SIZE]) {
    if (message) message[0] = '\0';
    if (!samples || !out_chunk || !out_length || !out_adler || !out_raw_length)
        return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "missing argument");
    *out_chunk = NULL;
    *out_length = 0;
    if (width == 0 || height == 0 || (channels != 1 && channels != 3) || first_row >= height || row_count == 0 ||
        row_count > height - first_row)
        return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "invalid segment arguments");
    const size_t row_samples = (size_t)width * (size_t)channels;
    return emu_png_deflate_rows(samples + (size_t)first_row * row_samples,
                                first_row > 0 ? samples + (size_t)(first_row - 1) * row_samples : NULL,
                                width, channels, bit_depth, first_row, row_count, filter, compression_level, strategy,
                                is_first, is_last, out_chunk, out_length, out_adler, out_raw_length, message);
}

int emu_png_deflate_rows(const uint16_t *rows_in, const uint16_t *above, uint32_t width, int channels, int bit_depth,
                         uint32_t first_row, uint32_t row_count, int filter, int compression_level, int strategy,
                         int is_first, int is_last,
                         uint8_t **out_chunk, size_t *out_length, uint32_t *out_adler, uint64_t *out_raw_length,
                         char message[EMU_PNG_MESSAGE_SIZE]) {
    if (message) message[0] = '\0';
    if (!rows_in || !out_chunk || !out_length || !out_adler || !out_raw_length)
        return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "missing argument");
    *out_chunk = NULL;
    *out_length = 0;
    if (width == 0 || (channels != 1 && channels != 3) || (bit_depth != 8 && bit_depth != 16) || row_count == 0 ||
        (first_row > 0) != (above != NULL) ||
        compression_level < 0 || compression_level > 9 || filter < EMU_PNG_FILTER_NONE || filter > EMU_PNG_FILTER_ADAPTIVE)
        return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "invalid segment arguments");
    int zstrategy;
    switch (strategy) {
    /* AUTO is libpng's choice: Z_FILTERED when rows are filtered, Z_DEFAULT_STRATEGY otherwise. */
    case EMU_PNG_STRATEGY_AUTO: zstrategy = filter == EMU_PNG_FILTER_NONE ? Z_DEFAULT_STRATEGY : Z_FILTERED; break;
    case EMU_PNG_STRATEGY_HUFFMAN_ONLY: zstrategy = Z_HUFFMAN_ONLY; break;
    case EMU_PNG_STRATEGY_RLE: zstrategy = Z_RLE; break;
    /* The fast coder at level 1 (level 0 stores); levels 2-9 ask for matches: zlib as AUTO. */
    case EMU_PNG_STRATEGY_FAST_HUFFMAN:
        zstrategy = compression_level <= 1 ? Z_HUFFMAN_ONLY
                  : filter == EMU_PNG_FILTER_NONE ? Z_DEFAULT_STRATEGY : Z_FILTERED;
        break;
    default: return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "invalid zlib strategy %d", strategy);
    }

    const size_t row_samples = (size_t)width * (size_t)channels;
    const size_t bpp = (size_t)channels * (size_t)(bit_depth / 8);
    const size_t n = row_samples * (size_t)(bit_depth / 8);
    const uint64_t raw_length = (uint64_t)(n + 1) * row_count;

    uint8_t *rows = (uint8_t *)calloc(2 * n + 6 * (n + 1), 1);
    if (!rows) return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "out of memory for row buffers");
    uint8_t *prev = rows, *cur = rows + n, *filtered = rows + 2 * n;  /* filtered: 5 candidates + spare */

    const int fast = strategy == EMU_PNG_STRATEGY_FAST_HUFFMAN && compression_level == 1;
    /* The fast coder codes the filtered bytes in blocks of SEG_HUFFMAN_BLOCK, each as soon as it
       is full, from one buffer of that size: the block it codes was filtered just before (where
       the segment's filtered bytes, written whole first, had left L2 by the time they were coded). */
    const size_t block_capacity = (size_t)raw_length < SEG_HUFFMAN_BLOCK ? (size_t)raw_length : SEG_HUFFMAN_BLOCK;
    uint8_t *data = NULL;
    size_t filled = 0, coded = 0;
    const uint64_t final_at = is_last ? raw_length : 0;  /* where the image's last block ends */
    if (fast && !(data = (uint8_t *)malloc(block_capacity))) {
        free(rows);
        return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "out of memory for a segment");
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    /* The fast coder needs no zlib state (initialising one costs ~270 KB of zeroing per segment). */
    if (!fast && deflateInit2(&z, compression_level, Z_DEFLATED, -15, 8, zstrategy) != Z_OK) {
        free(rows);
        free(data);
        return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "cannot initialise zlib");
    }
    size_t capacity = 8 + 2 + (fast ? huffman_bound((size_t)raw_length, SEG_HUFFMAN_BLOCK) : (size_t)deflateBound(&z, (uLong)raw_length)) + 64 + 4;
    uint8_t *chunk = (uint8_t *)malloc(capacity);
    if (!chunk) {
        if (!fast) deflateEnd(&z);
        free(rows);
        free(data);
        return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "out of memory for a %zu-byte segment", capacity);
    }
    size_t length = 8;  /* chunk length and type are filled in at the end */
    if (is_first) {
        static const uint8_t flevel[10] = {0x01, 0x01, 0x5E, 0x5E, 0x5E, 0x5E, 0x9C, 0xDA, 0xDA, 0xDA};
        chunk[length++] = 0x78;  /* CM 8 (deflate), CINFO 7 (32 KiB window) */
        chunk[length++] = flevel[compression_level];  /* FLEVEL, and FCHECK so that the pair is a multiple of 31 */
    }
    seg_bits b = {chunk, length, 0, 0};  /* the fast coder's output, after the chunk's head */

    int rc = EMU_PNG_OK;
    uint32_t adler = (uint32_t)adler32(0, NULL, 0);
    /* The row above is filtered against (up, avg, paeth); the first row of the image has none. */
    if (above) seg_row_bytes(above, row_samples, bit_depth, 0, prev);
    for (uint32_t r = 0; r < row_count && rc == EMU_PNG_OK; r++) {
        uint32_t y = first_row + r;
        long bad = seg_row_bytes(rows_in, row_samples, bit_depth, r, cur);
        if (bad >= 0) {
            rc = seg_fail(message, EMU_PNG_ERR_ARGUMENT, "sample value %u at row %u, column %ld exceeds 255 for an 8-bit PNG",
                          (unsigned)rows_in[(size_t)r * row_samples + (size_t)bad], y, bad / channels);
            break;
        }
        const uint8_t *row_filtered = filtered;
        if (filter == EMU_PNG_FILTER_ADAPTIVE) {
            unsigned long best = 0;
            for (int t = 0; t < 5; t++) {
                uint8_t *candidate = filtered + (size_t)t * (n + 1);
                seg_filter(t, cur, prev, n, bpp, candidate);
                unsigned long cost = seg_cost(candidate, n);
                if (t == 0 || cost < best) { best = cost; row_filtered = candidate; }
            }
        } else {
            int type = filter == EMU_PNG_FILTER_NONE ? 0 : filter == EMU_PNG_FILTER_SUB ? 1
                     : filter == EMU_PNG_FILTER_UP ? 2 : 4;
            /* A fixed filter writes its row straight into the block where it fits there whole
               (nearly every row), where it was filtered into the row buffer and copied. */
            if (fast && filled + n + 1 <= block_capacity) row_filtered = data + filled;
            seg_filter(type, cur, prev, n, bpp, (uint8_t *)row_filtered);
        }
        adler = seg_adler32(adler, row_filtered, n + 1);
        if (fast) {
            if (row_filtered == data + filled) {
                filled += n + 1;
            } else {
                for (size_t done = 0; done < n + 1;) {
                    size_t take = n + 1 - done < block_capacity - filled ? n + 1 - done : block_capacity - filled;
                    memcpy(data + filled, row_filtered + done, take);
                    filled += take;
                    done += take;
                    if (filled == block_capacity) seg_code_block(&b, data, &filled, &coded, final_at);
                }
            }
            if (filled == block_capacity) seg_code_block(&b, data, &filled, &coded, final_at);
            uint8_t *swap = prev; prev = cur; cur = swap;
            continue;
        }
        z.next_in = (Bytef *)row_filtered;
        z.avail_in = (uInt)(n + 1);
        int flush = r + 1 < row_count ? Z_NO_FLUSH : (is_last ? Z_FINISH : Z_SYNC_FLUSH);
        for (;;) {
            if (capacity - length < 4 + 64) {
                size_t grown_capacity = capacity * 2;
                uint8_t *grown = (uint8_t *)realloc(chunk, grown_capacity);
                if (!grown) { rc = seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "out of memory growing a segment"); break; }
                chunk = grown;
                capacity = grown_capacity;
            }
            z.next_out = chunk + length;
            z.avail_out = (uInt)((capacity - length - 4) > 0x7FFFFFFF ? 0x7FFFFFFF : (capacity - length - 4));
            uInt before = z.avail_out;
            int status = deflate(&z, flush);
            length += before - z.avail_out;
            if (status == Z_STREAM_ERROR) { rc = seg_fail(message, EMU_PNG_ERR_LIBPNG, "zlib: stream error"); break; }
            if (flush == Z_FINISH ? status == Z_STREAM_END : (z.avail_in == 0 && z.avail_out > 0)) break;
        }
        uint8_t *swap = prev; prev = cur; cur = swap;
    }
    if (!fast) deflateEnd(&z);
    free(rows);
    if (rc == EMU_PNG_OK && fast) {
        if (filled > 0) seg_code_block(&b, data, &filled, &coded, final_at);
        if (!is_last) {
            bits_put(&b, 0, 3);  /* empty stored block, not final: the byte-aligned sync marker */
            bits_align(&b);
            b.out[b.length++] = 0x00; b.out[b.length++] = 0x00; b.out[b.length++] = 0xFF; b.out[b.length++] = 0xFF;
        } else {
            bits_align(&b);
        }
        length = b.length;
    }
    free(data);
    if (rc != EMU_PNG_OK) {
        free(chunk);
        return rc;
    }
    if (length - 8 > 0x7FFFFFFFu) {
        free(chunk);
        return seg_fail(message, EMU_PNG_ERR_TOO_LARGE, "segment of %zu bytes exceeds a PNG chunk", length - 8);
    }
    put32(chunk, (uint32_t)(length - 8));
    memcpy(chunk + 4, "IDAT", 4);
    put32(chunk + length, seg_crc32(0, chunk + 4, length - 4));
    length += 4;
    *out_chunk = chunk;
    *out_length = length;
    *out_adler = adler;
    *out_raw_length = raw_length;
    return EMU_PNG_OK;
}

/* TIFF strips (emu_tiff_deflate_strip, pngshim.h): the same fast coder, over Predictor 2's
   differences instead of PNG's filtered rows. (zlib's own levels were measured no smaller on
   these differences: 62 % at level 6 against this coder's 64 %, at a third of the speed.) */
int emu_tiff_deflate_strip(const uint16_t *samples, uint32_t width, uint32_t rows, int channels, int bit_depth,
                           uint8_t **out, size_t *out_length, char message[EMU_PNG_MESSAGE_SIZE]) {
    if (message) message[0] = '\0';
    if (!samples || !out || !out_length) return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "missing argument");
    *out = NULL;
    *out_length = 0;
    if (width == 0 || rows == 0 || channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16))
        return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "invalid strip arguments");
    const size_t row_samples = (size_t)width * (size_t)channels, bytes = (size_t)(bit_depth / 8);
    const size_t n = row_samples * (size_t)rows * bytes;
    uint8_t *data = (uint8_t *)malloc(n);
    if (!data) return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "out of memory for a %zu-byte strip", n);
    for (uint32_t r = 0; r < rows; r++) {
        const uint16_t *row = samples + (size_t)r * row_samples;
        uint8_t *o = data + (size_t)r * row_samples * bytes;
        for (size_t i = 0; i < row_samples; i++) {
            uint16_t v = i < (size_t)channels ? row[i] : (uint16_t)(row[i] - row[i - (size_t)channels]);
            if (bytes == 1) {
                if (row[i] > 255) {
                    free(data);
                    return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "sample value %u at row %u exceeds 255 for an 8-bit TIFF",
                                    (unsigned)row[i], r);
                }
                o[i] = (uint8_t)v;
            } else {
                o[2 * i] = (uint8_t)v;
                o[2 * i + 1] = (uint8_t)(v >> 8);
            }
        }
    }
    const uint32_t adler = seg_adler32((uint32_t)adler32(0, NULL, 0), data, n);
    const size_t capacity = 2 + huffman_bound(n, SEG_HUFFMAN_BLOCK) + 4;
    uint8_t *stream = (uint8_t *)malloc(capacity);
    if (!stream) {
        free(data);
        return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "out of memory for a %zu-byte strip", capacity);
    }
    stream[0] = 0x78;  /* CM 8 (deflate), CINFO 7 (32 KiB window) */
    stream[1] = 0x01;  /* FLEVEL 0 (fastest), FCHECK: 0x7801 is a multiple of 31 */
    seg_bits b = {stream, 2, 0, 0};
    for (size_t at = 0; at < n; at += SEG_HUFFMAN_BLOCK) {
        size_t take = n - at < SEG_HUFFMAN_BLOCK ? n - at : SEG_HUFFMAN_BLOCK;
        huffman_block(&b, data + at, take, at + take == n);
    }
    bits_align(&b);
    free(data);
    size_t length = b.length;
    stream[length++] = (uint8_t)(adler >> 24);
    stream[length++] = (uint8_t)(adler >> 16);
    stream[length++] = (uint8_t)(adler >> 8);
    stream[length++] = (uint8_t)adler;
    *out = stream;
    *out_length = length;
    return EMU_PNG_OK;
}

/* TIFF reading (emu_zlib_inflate, pngshim.h): zlib's own inflate, bounded by the strip's size. */
int emu_zlib_inflate(const uint8_t *data, size_t length, uint8_t *out, size_t capacity, size_t *written,
                     char message[EMU_PNG_MESSAGE_SIZE]) {
    if (message) message[0] = '\0';
    if (!data || !out || !written) return seg_fail(message, EMU_PNG_ERR_ARGUMENT, "missing argument");
    *written = 0;
    /* zlib counts in uInt; a strip of 4 GiB or more is not a photograph's. */
    if (length > 0xFFFFFFFFu || capacity > 0xFFFFFFFFu)
        return seg_fail(message, EMU_PNG_ERR_TOO_LARGE, "a strip of %zu bytes is too large", length > capacity ? length : capacity);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return seg_fail(message, EMU_PNG_ERR_NO_MEMORY, "zlib could not start");
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)length;
    z.next_out = out;
    z.avail_out = (uInt)capacity;
    const int rc = inflate(&z, Z_FINISH);
    const size_t produced = capacity - z.avail_out, left = z.avail_in;
    const char *reason = z.msg;
    inflateEnd(&z);
    /* Z_BUF_ERROR: the output filled (more data than the strip holds if input is left) or the
       input ended before the stream did (a truncated strip: fewer bytes, which the caller sees). */
    if (rc == Z_BUF_ERROR && produced == capacity && left > 0)
        return seg_fail(message, EMU_PNG_ERR_CORRUPT, "the strip inflates to more than its %zu bytes", capacity);
    if (rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        return seg_fail(message, EMU_PNG_ERR_CORRUPT, "not a valid zlib stream (%s)", reason ? reason : "inflate failed");
    *written = produced;
    return EMU_PNG_OK;
}
