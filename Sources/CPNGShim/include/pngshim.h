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
    EMU_PNG_STRATEGY_HUFFMAN_ONLY = 2
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
 * Parallel encoding. zlib, not libpng's row loop, bounds PNG encoding speed; independent row blocks
 * can be filtered and deflated on separate threads and joined into one zlib stream:
 *   1. for each block of rows (any thread): emu_png_deflate_rows -> one emu_png_block;
 *   2. emu_png_write_blocks_file / _memory (one thread) writes signature, IHDR, iCCP, one IDAT per
 *      block (zlib header in the first, Adler-32 joined with adler32_combine after the last), IEND.
 * emu_png_deflate_rows uses no libpng and no longjmp. Blocks end on a byte boundary with
 * Z_FULL_FLUSH (the last with Z_FINISH), so their raw deflate data concatenate (RFC 1951).
 */
typedef struct {
    uint8_t *data;         /* raw deflate data, malloc'd; release with emu_png_free_block */
    size_t length;
    uint32_t adler;        /* Adler-32 of the block's filtered bytes */
    size_t raw_length;     /* filtered bytes in the block: rows * (1 + bytes per row) */
} emu_png_block;

/** Filter and deflate rows [first_row, first_row + row_count) of the image (which must be the last
 *  block exactly when first_row + row_count == height). Thread-safe. */
int emu_png_deflate_rows(const uint16_t *samples, uint32_t width, uint32_t height, int channels, int bit_depth,
                         uint32_t first_row, uint32_t row_count,
                         int compression_level, int filter, int strategy,
                         emu_png_block *out, char message[EMU_PNG_MESSAGE_SIZE]);

/** Write a PNG whose image data are `blocks` (in row order, together covering every row once). */
int emu_png_write_blocks_file(const char *path, uint32_t width, uint32_t height, int channels, int bit_depth,
                              const uint8_t *icc, size_t icc_length, const char *icc_name,
                              const emu_png_block *blocks, size_t block_count,
                              char message[EMU_PNG_MESSAGE_SIZE]);
int emu_png_write_blocks_memory(uint32_t width, uint32_t height, int channels, int bit_depth,
                                const uint8_t *icc, size_t icc_length, const char *icc_name,
                                const emu_png_block *blocks, size_t block_count,
                                uint8_t **out_data, size_t *out_length,
                                char message[EMU_PNG_MESSAGE_SIZE]);

/** Release a block's data (NULL or an empty block is fine). */
void emu_png_free_block(emu_png_block *block);

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

/** Release memory returned by this shim (NULL is fine). */
void emu_png_free(void *pointer);

#ifdef __cplusplus
}
#endif
