/*
 * libFuzzer harness for Emulsion's own PNG image-data coder (Sources/CPNGShim/pngsegments.c): the
 * row filters, the fast Huffman-only deflate coder and the segment joins (issue 7).
 *
 * The fuzzer's bytes become an image and its encoding parameters; the image is encoded exactly as
 * PNGFile.encode does (header, independent segments, Adler-32 trailer) and then checked twice:
 *   1. zlib: the concatenated IDAT payloads must inflate (RFC 1950 wrapper, so the Adler-32 is
 *      checked) to exactly height × (1 + row bytes) bytes, ending on Z_STREAM_END with no byte
 *      left over; every chunk's CRC must match;
 *   2. libpng: the whole file must decode to the very samples that went in;
 *   3. the same samples as a deflated TIFF strip (emu_tiff_deflate_strip, Predictor 2) must
 *      inflate and undo to themselves.
 * Anything else aborts (a finding). Built by `.ci/fuzz.sh png` with clang
 * -fsanitize=fuzzer,address,undefined, so the C coder itself is instrumented (the Swift harness in
 * Tests/Fuzz reaches C code only uninstrumented). Build with -DREPLAY for a main() that runs files.
 *
 * Input layout: [0] channels (bit 0: 1 or 3), bit depth (bit 1: 8 or 16), filter (bits 2-4, mod 5);
 * [1] < 160: level 1 with the fast Huffman coder (the default); otherwise level and strategy from it;
 * [2] width - 1; [3] rows per segment - 1 (255: one segment); [4] repeat count (top two bits set: the sample bytes
 * are repeated up to 64× with a counter mixed in, so images pass the coder's 512 KiB block size);
 * the rest: sample bytes (big-endian pairs at 16 bits), zero-padded to whole rows.
 */
#include "pngshim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHECK(condition, ...)                                                           \
    do {                                                                                \
        if (!(condition)) {                                                             \
            fprintf(stderr, "pngsegments_fuzz: " __VA_ARGS__);                          \
            fprintf(stderr, " (%ux%u, %d ch, %d-bit, filter %d, level %d, strategy %d, rows/segment %u)\n", \
                    width, height, channels, bit_depth, filter, level, strategy, rows_per_segment); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* Inflates the zlib stream `in` into `out` (room for `expected` + 1 bytes): the zlib status, with
   *produced the bytes made and *left the input bytes after the stream's end. */
static int inflate_all(const uint8_t *in, size_t length, uint8_t *out, size_t expected, size_t *produced, size_t *left,
                       const char **problem) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return Z_MEM_ERROR;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)length;
    z.next_out = out;
    z.avail_out = (uInt)(expected + 1);
    int status = inflate(&z, Z_FINISH);
    *produced = z.total_out;
    *left = z.avail_in;
    *problem = z.msg ? z.msg : "";
    inflateEnd(&z);
    return status;
}

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5) return 0;
    const int channels = (data[0] & 1) ? 3 : 1;
    const int bit_depth = (data[0] & 2) ? 16 : 8;
    const int filter = ((data[0] >> 2) & 7) % 5;
    int level = 1, strategy = EMU_PNG_STRATEGY_FAST_HUFFMAN;
    if (data[1] >= 160) { level = (data[1] - 160) % 10; strategy = ((data[1] - 160) / 10) % 4; }
    const uint32_t width = (uint32_t)data[2] + 1;
    uint32_t rows_per_segment = (uint32_t)data[3] + 1;
    const size_t repeat = data[4] >= 0xC0 ? 1 + (data[4] & 0x3F) : 1;
    const uint8_t *payload = data + 5;
    const size_t payload_size = size - 5;

    const size_t bytes_per_sample = (size_t)bit_depth / 8;
    const size_t row_bytes = (size_t)width * (size_t)channels * bytes_per_sample;
    const size_t total_bytes = payload_size * repeat;
    uint32_t height = (uint32_t)((total_bytes + row_bytes - 1) / row_bytes);
    if (height == 0) height = 1;
    if (data[3] == 255) rows_per_segment = height;
    /* At most 256 segments: each costs a fixed ~0.1 ms (deflateInit, an O(n²) Huffman build), so
       thousands of one-pixel segments only slow the fuzzer (its first finding: a "timeout" of
       2,270 segments that takes 0.24 s uninstrumented). */
    if (height / rows_per_segment > 256) rows_per_segment = (height + 255) / 256;
    const size_t count = (size_t)width * height * (size_t)channels;
    uint16_t *samples = (uint16_t *)calloc(count, sizeof(uint16_t));
    if (!samples) return 0;
    for (size_t i = 0; i < count && payload_size > 0; i++) {
        uint16_t v = 0;
        for (size_t k = 0; k < bytes_per_sample; k++) {
            size_t at = i * bytes_per_sample + k;
            if (at >= total_bytes) break;
            /* Repeats differ a little (copy number mixed in) so histograms are not all alike. */
            uint8_t byte = (uint8_t)(payload[at % payload_size] + (uint8_t)(at / payload_size));
            v = (uint16_t)(v << 8 | byte);
        }
        samples[i] = v;
    }

    char message[EMU_PNG_MESSAGE_SIZE];
    uint8_t *header = NULL;
    size_t header_length = 0;
    CHECK(emu_png_encode_header(width, height, channels, bit_depth, NULL, 0, NULL, &header, &header_length, message) == EMU_PNG_OK,
          "header: %s", message);
    size_t file_capacity = header_length + EMU_PNG_FINISH_SIZE, file_length = header_length;
    uint8_t *file = (uint8_t *)malloc(file_capacity);
    memcpy(file, header, header_length);
    emu_png_free(header);
    uint8_t *stream = NULL;  /* the zlib stream: IDAT payloads, then the Adler-32 trailer */
    size_t stream_length = 0;
    uint32_t adler = 0;
    for (uint32_t first = 0; first < height; first += rows_per_segment) {
        uint32_t rows = height - first < rows_per_segment ? height - first : rows_per_segment;
        uint8_t *chunk = NULL;
        size_t chunk_length = 0;
        uint32_t segment_adler = 0;
        uint64_t raw_length = 0;
        int rc = emu_png_deflate_segment(samples, width, height, channels, bit_depth, first, rows, filter, level, strategy,
                                         first == 0, first + rows == height, &chunk, &chunk_length, &segment_adler,
                                         &raw_length, message);
        CHECK(rc == EMU_PNG_OK, "segment at row %u: %s", first, message);
        CHECK(raw_length == (uint64_t)rows * (row_bytes + 1), "segment at row %u: raw length %llu", first, (unsigned long long)raw_length);
        CHECK(chunk_length >= 12 && get32(chunk) == chunk_length - 12 && memcmp(chunk + 4, "IDAT", 4) == 0,
              "segment at row %u: not an IDAT chunk", first);
        CHECK(get32(chunk + chunk_length - 4) == (uint32_t)crc32(0, chunk + 4, (uInt)(chunk_length - 8)), "segment at row %u: bad CRC", first);
        adler = first == 0 ? segment_adler : emu_png_adler32_combine(adler, segment_adler, raw_length);
        stream = (uint8_t *)realloc(stream, stream_length + chunk_length - 12 + 4);
        memcpy(stream + stream_length, chunk + 8, chunk_length - 12);
        stream_length += chunk_length - 12;
        file_capacity += chunk_length;
        file = (uint8_t *)realloc(file, file_capacity);
        memcpy(file + file_length, chunk, chunk_length);
        file_length += chunk_length;
        emu_png_free(chunk);
    }
    uint8_t finish[EMU_PNG_FINISH_SIZE];
    emu_png_finish_chunks(adler, finish);
    memcpy(file + file_length, finish, EMU_PNG_FINISH_SIZE);
    file_length += EMU_PNG_FINISH_SIZE;
    memcpy(stream + stream_length, finish + 8, 4);
    stream_length += 4;

    /* 1. The zlib stream inflates to exactly the filtered rows, Adler-32 checked by zlib. */
    const size_t expected = (size_t)height * (row_bytes + 1);
    uint8_t *inflated = (uint8_t *)malloc(expected + 1);
    size_t produced = 0, left = 0;
    const char *problem = "";
    int status = inflate_all(stream, stream_length, inflated, expected, &produced, &left, &problem);
    CHECK(status == Z_STREAM_END, "inflate: %d (%s) after %zu of %zu bytes", status, problem, produced, expected);
    CHECK(produced == expected, "inflated %zu bytes, expected %zu", produced, expected);
    CHECK(left == 0, "%zu bytes after the end of the zlib stream", left);
    for (uint32_t y = 0; y < height; y++) CHECK(inflated[(size_t)y * (row_bytes + 1)] <= 4, "row %u: filter type %u", y, inflated[(size_t)y * (row_bytes + 1)]);
    free(inflated);

    /* 2. libpng reads back the samples that went in. */
    emu_png_decoded decoded;
    memset(&decoded, 0, sizeof decoded);
    int rc = channels == 3 ? emu_png_read_rgb_memory(file, file_length, &decoded, message)
                           : emu_png_read_gray_memory(file, file_length, &decoded, message);
    CHECK(rc == EMU_PNG_OK, "libpng read: %s", message);
    CHECK(decoded.width == width && decoded.height == height && decoded.channels == channels && decoded.bit_depth == bit_depth,
          "decoded %ux%u, %d ch, %d-bit", decoded.width, decoded.height, decoded.channels, decoded.bit_depth);
    for (size_t i = 0; i < count; i++)
        CHECK(decoded.samples[i] == samples[i], "sample %zu: wrote %u, read %u", i, samples[i], decoded.samples[i]);
    emu_png_free(decoded.samples);
    emu_png_free(decoded.icc);

    /* 3. The same samples as a TIFF strip (emu_tiff_deflate_strip): zlib inflates it, Adler-32
       checked, and undoing Predictor 2 (a running sum per channel, modulo 2^bits, little-endian
       16-bit samples) gives back the samples that went in. */
    uint8_t *strip = NULL;
    size_t strip_length = 0;
    CHECK(emu_tiff_deflate_strip(samples, width, height, channels, bit_depth, &strip, &strip_length, message) == EMU_PNG_OK,
          "TIFF strip: %s", message);
    const size_t strip_bytes = (size_t)height * row_bytes;
    uint8_t *unpacked = (uint8_t *)malloc(strip_bytes + 1);
    status = inflate_all(strip, strip_length, unpacked, strip_bytes, &produced, &left, &problem);
    CHECK(status == Z_STREAM_END && produced == strip_bytes && left == 0,
          "TIFF strip inflate: %d (%s), %zu of %zu bytes, %zu left", status, problem, produced, strip_bytes, left);
    const size_t row_samples = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) {
        for (size_t i = 0; i < row_samples; i++) {
            const size_t k = (size_t)y * row_samples + i;
            uint16_t v = bit_depth == 8 ? unpacked[k] : (uint16_t)(unpacked[2 * k] | unpacked[2 * k + 1] << 8);
            if (i >= (size_t)channels) {
                const size_t left = k - (size_t)channels;
                uint16_t previous = bit_depth == 8 ? unpacked[left] : (uint16_t)(unpacked[2 * left] | unpacked[2 * left + 1] << 8);
                v = (uint16_t)(v + previous);
                if (bit_depth == 8) v &= 0xFF;
            }
            /* Store the undone value back, so the next sample adds to it. */
            if (bit_depth == 8) unpacked[k] = (uint8_t)v; else { unpacked[2 * k] = (uint8_t)v; unpacked[2 * k + 1] = (uint8_t)(v >> 8); }
            CHECK(v == samples[k], "TIFF strip sample %zu: wrote %u, read %u", k, samples[k], v);
        }
    }
    free(unpacked);
    emu_png_free(strip);
    free(stream);
    free(file);
    free(samples);
    return 0;
}

#ifdef REPLAY
/* Replays files (fuzzer findings, or a corpus) through the same checks: exit 0 when all pass. */
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "%s: cannot open\n", argv[i]); return 2; }
        uint8_t *buffer = NULL;
        size_t length = 0, capacity = 0, got;
        do {
            if (capacity - length < 65536) { capacity = capacity * 2 + 65536; buffer = (uint8_t *)realloc(buffer, capacity); }
            got = fread(buffer + length, 1, capacity - length, f);
            length += got;
        } while (got > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(buffer, length);
        free(buffer);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif
