/*
 * pngshim.h — a small C boundary around libpng for EmulsionIO.
 *
 * What: encode/decode PNG images (8- or 16-bit, gray or RGB, optional iCCP profile) to and from
 * files or memory, with plain C types only.
 * Why: libpng reports errors with longjmp. A longjmp must never cross Swift frames, so every libpng
 * call and its setjmp stay inside one function of pngshim.c; each function returns EMU_PNG_OK (0) or
 * a non-zero EMU_PNG_ERR_* code and writes a one-line, NUL-terminated reason into a caller-provided
 * char[EMU_PNG_MESSAGE_SIZE].
 * Reference: PNG Specification (W3C, 2nd ed., ISO/IEC 15948:2003), libpng 1.6 manual (libpng-manual.txt).
 *
 * Samples are host-order uint16_t, interleaved, row-major, no padding. For 8-bit images each uint16_t
 * holds 0...255. Memory returned through out-pointers is malloc'd: release it with emu_png_free.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the message buffer every function fills on failure. */
#define EMU_PNG_MESSAGE_SIZE 256

/** Result codes. */
enum {
    EMU_PNG_OK = 0,
    EMU_PNG_ERR_ARGUMENT = 1,     /* invalid argument (dimensions, bit depth, sample range, ...) */
    EMU_PNG_ERR_OPEN = 2,         /* the file could not be opened */
    EMU_PNG_ERR_IO = 3,           /* read/write/flush/close failed (disk full, EFBIG, ...) */
    EMU_PNG_ERR_NOT_PNG = 4,      /* no PNG signature (empty file, text file, ...) */
    EMU_PNG_ERR_CORRUPT = 5,      /* libpng rejected the data (truncated, bad CRC, bad zlib stream) */
    EMU_PNG_ERR_TOO_LARGE = 6,    /* image dimensions above EMU_PNG_MAX_PIXELS or size overflow */
    EMU_PNG_ERR_UNSUPPORTED = 7,  /* a valid PNG of a kind this call does not accept */
    EMU_PNG_ERR_NO_MEMORY = 8,    /* allocation failed */
    EMU_PNG_ERR_LIBPNG = 9        /* libpng reported an error while encoding */
};

/** Row filter choice (PNG spec section 9). ADAPTIVE lets libpng pick per row among all five. */
enum {
    EMU_PNG_FILTER_NONE = 0,
    EMU_PNG_FILTER_SUB = 1,
    EMU_PNG_FILTER_UP = 2,
    EMU_PNG_FILTER_PAETH = 3,
    EMU_PNG_FILTER_ADAPTIVE = 4
};

/**
 * zlib strategy for the IDAT stream. AUTO is libpng's choice (Z_FILTERED when rows are filtered,
 * Z_DEFAULT_STRATEGY otherwise). RLE only finds runs (zlib's deflate_rle; the level then does not
 * change the output) and HUFFMAN_ONLY finds no matches: on noisy 16-bit photographs both are about
 * twice as fast as AUTO and no larger (docs/PNG-ENCODING.md).
 */
enum {
    EMU_PNG_STRATEGY_AUTO = 0,
    EMU_PNG_STRATEGY_RLE = 1,
    EMU_PNG_STRATEGY_HUFFMAN_ONLY = 2,
    EMU_PNG_STRATEGY_FAST_HUFFMAN = 3  /* Emulsion's own Huffman-only coder (pngsegments.c) at level 1;
                                          zlib's Z_HUFFMAN_ONLY in libpng's serial writer; AUTO at 2-9 */
};

/** Decoding rejects images with more pixels than this before allocating (400 MP). */
#define EMU_PNG_MAX_PIXELS 400000000ull

/**
 * Encode an image as PNG to `path` (created or truncated).
 * channels: 1 (gray) or 3 (RGB); bit_depth: 8 or 16; samples: width*height*channels values.
 * icc/icc_length: optional ICC profile (NULL/0 for none) embedded as iCCP under `icc_name`
 * (1-79 Latin-1 characters; NULL means "ICC Profile"); libpng validates it against the colour type.
 * compression_level: zlib level 0-9 (0 stores, whatever the strategy); filter: EMU_PNG_FILTER_*;
 * strategy: EMU_PNG_STRATEGY_*.
 * A write, flush or close failure is an error; on any error a partially written regular file is removed.
 */
int emu_png_write_file(const char *path,
                       const uint16_t *samples, uint32_t width, uint32_t height,
                       int channels, int bit_depth,
                       const uint8_t *icc, size_t icc_length, const char *icc_name,
                       int compression_level, int filter, int strategy,
                       char message[EMU_PNG_MESSAGE_SIZE]);

/** As emu_png_write_file, but into a malloc'd buffer returned in *out_data / *out_length. */
int emu_png_write_memory(const uint16_t *samples, uint32_t width, uint32_t height,
                         int channels, int bit_depth,
                         const uint8_t *icc, size_t icc_length, const char *icc_name,
                         int compression_level, int filter, int strategy,
                         uint8_t **out_data, size_t *out_length,
                         char message[EMU_PNG_MESSAGE_SIZE]);

/*
 * Parallel encoding (the default path of PNGFile.encode). zlib, not libpng's row loop, bounds PNG
 * encoding speed; independent segments of rows are filtered and compressed on separate threads
 * (pngsegments.c) and written in order behind the header chunks:
 *   1. emu_png_encode_header (one thread): signature, IHDR, iCCP;
 *   2. emu_png_deflate_segment (any thread) for each segment -> one complete IDAT chunk
 *      (emu_png_deflate_rows when the rows are rendered per segment rather than held whole);
 *   3. emu_png_finish_chunks: the Adler-32 trailer IDAT and IEND.
 */
/**
 * The PNG signature and the header chunks (IHDR, iCCP) that precede the image data, written by
 * libpng (which validates the ICC profile against the colour type) into a malloc'd buffer.
 * Arguments as for emu_png_write_memory; `samples` is not read.
 */
int emu_png_encode_header(uint32_t width, uint32_t height, int channels, int bit_depth,
                          const uint8_t *icc, size_t icc_length, const char *icc_name,
                          uint8_t **out_data, size_t *out_length,
                          char message[EMU_PNG_MESSAGE_SIZE]);

/**
 * Filters and compresses rows first_row ..< first_row + row_count as one independent segment of
 * the image's zlib stream (see pngsegments.c), returned as a complete, malloc'd IDAT chunk.
 * is_first prepends the zlib header; is_last ends the deflate stream. *out_adler is the Adler-32
 * of the segment's filtered bytes and *out_raw_length their count, for emu_png_adler32_combine.
 * filter: EMU_PNG_FILTER_*; strategy: EMU_PNG_STRATEGY_* (FAST_HUFFMAN is Emulsion's own
 * Huffman-only coder at level 1; at levels 2-9 it means AUTO). The segment's bytes do not depend on
 * how the other segments are made, so any number of threads gives the same file.
 */
int emu_png_deflate_segment(const uint16_t *samples, uint32_t width, uint32_t height, int channels, int bit_depth,
                            uint32_t first_row, uint32_t row_count, int filter, int compression_level, int strategy,
                            int is_first, int is_last,
                            uint8_t **out_chunk, size_t *out_length, uint32_t *out_adler, uint64_t *out_raw_length,
                            char message[EMU_PNG_MESSAGE_SIZE]);

/**
 * emu_png_deflate_segment for rows that are not part of a whole image in memory: `rows` holds rows
 * first_row ..< first_row + row_count (consecutive, width * channels samples each) and `above` row
 * first_row - 1, which the up, avg and paeth filters read (NULL exactly when first_row is 0). The
 * streamed renderer renders each segment's rows into a small buffer and compresses them here; the
 * bytes are those emu_png_deflate_segment makes from the same rows of a whole image. first_row is
 * also the row number error messages give.
 */
int emu_png_deflate_rows(const uint16_t *rows, const uint16_t *above, uint32_t width, int channels, int bit_depth,
                         uint32_t first_row, uint32_t row_count, int filter, int compression_level, int strategy,
                         int is_first, int is_last,
                         uint8_t **out_chunk, size_t *out_length, uint32_t *out_adler, uint64_t *out_raw_length,
                         char message[EMU_PNG_MESSAGE_SIZE]);

/** Adler-32 of the concatenation, from the parts' (zlib adler32_combine). */
uint32_t emu_png_adler32_combine(uint32_t adler1, uint32_t adler2, uint64_t length2);

/* CRC-32 as PNG chunks use it (zlib's crc32: pass 0 to start), of `length` bytes continuing `crc`;
 * the one the segment encoder puts on its IDAT chunks. */
uint32_t emu_png_crc32(uint32_t crc, const uint8_t *bytes, size_t length);

/** Bytes written by emu_png_finish_chunks. */
#define EMU_PNG_FINISH_SIZE 28

/** The last IDAT (the zlib stream's Adler-32 trailer) and IEND. */
void emu_png_finish_chunks(uint32_t adler, uint8_t out[EMU_PNG_FINISH_SIZE]);

/** Decoded image returned by the read functions; free its buffers with emu_png_free. */
typedef struct {
    uint32_t width;
    uint32_t height;
    int channels;          /* 3 for emu_png_read_rgb_*, 1 for emu_png_read_gray_* */
    int bit_depth;         /* 8 or 16: the range of the returned samples */
    uint16_t *samples;     /* width*height*channels host-order samples */
    uint8_t *icc;          /* iCCP profile bytes, or NULL */
    size_t icc_length;
} emu_png_decoded;

/**
 * Read any PNG (gray, gray+alpha, RGB, RGBA, palette; 1-16 bit; interlaced or not) as RGB:
 * palette and gray are expanded to RGB, alpha is dropped (not composited), 1/2/4-bit gray is scaled
 * to 8 bits. bit_depth is 16 for 16-bit files, 8 otherwise. The iCCP profile is copied out if present.
 */
int emu_png_read_rgb_file(const char *path, emu_png_decoded *out, char message[EMU_PNG_MESSAGE_SIZE]);
int emu_png_read_rgb_memory(const uint8_t *data, size_t length, emu_png_decoded *out,
                            char message[EMU_PNG_MESSAGE_SIZE]);

/**
 * Read a single-channel grayscale PNG (8 or 16 bit, no alpha) as-is, one sample per pixel — for raw
 * Bayer mosaics stored as PNG. Any other colour type is rejected with EMU_PNG_ERR_UNSUPPORTED.
 */
int emu_png_read_gray_file(const char *path, emu_png_decoded *out, char message[EMU_PNG_MESSAGE_SIZE]);
int emu_png_read_gray_memory(const uint8_t *data, size_t length, emu_png_decoded *out,
                             char message[EMU_PNG_MESSAGE_SIZE]);

/**
 * One strip of a TIFF with Compression 8 (Adobe Deflate) and Predictor 2 (horizontal differencing),
 * TIFF 6.0 §14 and the TIFF Technical Note "Adobe Deflate": `rows` rows of `width` pixels of
 * `channels` interleaved host-order samples; each sample becomes its difference from the same
 * channel one pixel to the left (modulo 2^bit_depth; a row's first pixel stays), 16-bit ones stored
 * little-endian (an "II" file), and the bytes are compressed as one complete zlib stream (RFC 1950:
 * header, deflate blocks, Adler-32) by the PNG segments' fast Huffman-only coder. *out is malloc'd
 * (emu_png_free).
 */
int emu_tiff_deflate_strip(const uint16_t *samples, uint32_t width, uint32_t rows, int channels, int bit_depth,
                           uint8_t **out, size_t *out_length, char message[EMU_PNG_MESSAGE_SIZE]);

/**
 * Inflates one zlib stream (RFC 1950; TIFF's Compression 8 and 32946 strips) from `data` into `out`,
 * at most `capacity` bytes; *written is how many it produced. A stream that ends before filling
 * `out` is not an error (the caller checks the count); data that is not a valid zlib stream, or
 * that would produce more than `capacity` bytes, is EMU_PNG_ERR_CORRUPT.
 */
int emu_zlib_inflate(const uint8_t *data, size_t length, uint8_t *out, size_t capacity, size_t *written,
                     char message[EMU_PNG_MESSAGE_SIZE]);

/** Release memory returned by this shim (NULL is fine). */
void emu_png_free(void *pointer);

#ifdef __cplusplus
}
#endif
